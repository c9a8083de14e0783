{{/* The release's base name, at most 63 characters (a DNS label). */}}
{{- define "switchboard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.operatorName" -}}
{{- printf "%s-operator" (include "switchboard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchboard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchboard
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: switchboard
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "switchboard.operatorSelectorLabels" -}}
app.kubernetes.io/name: switchboard-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Secret holding the three keys (the chart's, or the user's). */}}
{{- define "switchboard.keysSecret" -}}
{{- .Values.keys.existingSecret | default (printf "%s-keys" (include "switchboard.fullname" .)) -}}
{{- end -}}

{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "switchboard.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "switchboard.replicas" -}}
{{- if eq .Values.storage "embedded" -}}1{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/*
A key: the value given, else the one this release already stored (upgrades keep keys: a new encryption key
would make every stored secret unreadable), else a new random one.
*/}}
{{- define "switchboard.key" -}}
{{- $given := index .root.Values.keys .value -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (printf "%s-keys" (include "switchboard.fullname" .root)) -}}
{{- if and $existing (index $existing.data .name) -}}
{{- index $existing.data .name | b64dec -}}
{{- else if eq .name "SWITCHBOARD_ENCRYPTION_KEY" -}}
{{- randBytes 32 -}}
{{- else -}}
{{- printf "sb_%s" (randAlphaNum 40) -}}
{{- end -}}
{{- end -}}
{{- end -}}
