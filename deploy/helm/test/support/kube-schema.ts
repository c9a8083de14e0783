// Checks a manifest against the Kubernetes API's own definitions, from two npm packages generated from the
// Kubernetes OpenAPI specification (no package ships the JSON schema files themselves):
//  - kubernetes-models: its validators are the spec's schemas compiled with Ajv (required fields, types, enums,
//    int32/int64 formats, quantities), per kind;
//  - @kubernetes/client-node: its models list every field of every type, so a field the API does not have (a typo
//    the API server would drop, or refuse with kubectl --validate=strict) is reported too.
import * as k8s from '@kubernetes/client-node';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

interface Validating {
    validate(): void;
}
type ModelClass = new (data: never) => Validating;

/** The kinds the chart renders: apiVersion/kind → the validating model and the client's type name. */
export const KINDS: Record<string, { model: ModelClass; type: string }> = {
    'v1/ServiceAccount': { model: ServiceAccount, type: 'V1ServiceAccount' },
    'v1/Secret': { model: Secret, type: 'V1Secret' },
    'v1/ConfigMap': { model: ConfigMap, type: 'V1ConfigMap' },
    'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim, type: 'V1PersistentVolumeClaim' },
    'v1/Service': { model: Service, type: 'V1Service' },
    'apps/v1/Deployment': { model: Deployment, type: 'V1Deployment' },
    'networking.k8s.io/v1/Ingress': { model: Ingress, type: 'V1Ingress' },
    'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, type: 'V1PodDisruptionBudget' },
    'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, type: 'V1ClusterRole' },
    'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding, type: 'V1ClusterRoleBinding' },
    'rbac.authorization.k8s.io/v1/Role': { model: Role, type: 'V1Role' },
    'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, type: 'V1RoleBinding' },
    'apiextensions.k8s.io/v1/CustomResourceDefinition': { model: CustomResourceDefinition, type: 'V1CustomResourceDefinition' }
};

interface Attribute {
    baseName: string;
    type: string;
}

function attributesOf(type: string): Attribute[] | undefined {
    const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>)[type];
    return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : undefined;
}

/** Fields the API does not define, as dotted paths. */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
    if (value === null || value === undefined) return;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
        if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
        return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
        if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
        return;
    }
    const attributes = attributesOf(type);
    if (!attributes || typeof value !== 'object' || Array.isArray(value)) return;
    const byName = new Map(attributes.map((a) => [a.baseName, a.type]));
    for (const [k, v] of Object.entries(value)) {
        const t = byName.get(k);
        if (t === undefined) out.push(`${path}.${k}`);
        else unknownFields(v, t, `${path}.${k}`, out);
    }
}

/** Problems of one manifest against the Kubernetes API schemas (empty when it is valid). */
export function schemaProblems(manifest: Record<string, unknown>): string[] {
    const id = `${String(manifest['apiVersion'])}/${String(manifest['kind'])}`;
    const kind = KINDS[id];
    if (!kind) return [`${id}: no schema here for this kind (add it to KINDS)`];
    const problems: string[] = [];
    try {
        new kind.model(manifest as never).validate();
    } catch (err) {
        problems.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const unknown: string[] = [];
    unknownFields(manifest, kind.type, '', unknown);
    for (const u of unknown) problems.push(`${id}: unknown field ${u.slice(1)}`);
    return problems;
}
