import { invalid } from './status.ts';
import type { JsonSchema, KubeObject, PrinterColumn, ResourceType } from './types.ts';

interface CrdSpec {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[] };
    versions: Array<{
        name: string;
        served: boolean;
        storage: boolean;
        schema?: { openAPIV3Schema?: JsonSchema };
        subresources?: { status?: Record<string, never> };
        additionalPrinterColumns?: PrinterColumn[];
    }>;
}

const specOf = (crd: KubeObject) => crd['spec'] as CrdSpec;

/** The checks of the apiextensions server that matter here: the name, one storage version, a schema for each version. */
export function validateCrd(crd: KubeObject): void {
    const s = specOf(crd);
    const name = crd.metadata.name ?? '';
    const causes: Array<{ field: string; message: string }> = [];
    if (!s?.group || !s.names?.plural || !s.names.kind) causes.push({ field: 'spec', message: 'group, names.plural and names.kind are required' });
    else if (name !== `${s.names.plural}.${s.group}`) causes.push({ field: 'metadata.name', message: `must be spec.names.plural+"."+spec.group` });
    if ((s?.versions ?? []).filter((v) => v.storage).length !== 1)
        causes.push({ field: 'spec.versions', message: 'must have exactly one version marked as storage version' });
    for (const [i, v] of (s?.versions ?? []).entries()) {
        if (v.schema?.openAPIV3Schema?.type !== 'object')
            causes.push({ field: `spec.versions[${i}].schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
    }
    if (causes.length > 0) throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', name, causes);
}

/** The kinds a CRD serves, one per served version. */
export function typesOfCrd(crd: KubeObject): ResourceType[] {
    const s = specOf(crd);
    return s.versions
        .filter((v) => v.served)
        .map((v) => ({
            group: s.group,
            version: v.name,
            kind: s.names.kind,
            listKind: s.names.listKind ?? `${s.names.kind}List`,
            plural: s.names.plural,
            singular: s.names.singular ?? s.names.kind.toLowerCase(),
            shortNames: s.names.shortNames ?? [],
            namespaced: s.scope === 'Namespaced',
            statusSubresource: v.subresources?.status !== undefined,
            generation: true,
            schema: v.schema?.openAPIV3Schema,
            printerColumns: v.additionalPrinterColumns ?? [],
            custom: true
        }));
}

/** What the apiextensions controllers write once the names are accepted and the kind is served. */
export function crdStatus(crd: KubeObject): Record<string, unknown> {
    const s = specOf(crd);
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: at, reason, message });
    return {
        conditions: [
            condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
            condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted')
        ],
        acceptedNames: { ...s.names, singular: s.names.singular ?? s.names.kind.toLowerCase(), listKind: s.names.listKind ?? `${s.names.kind}List` },
        storedVersions: s.versions.filter((v) => v.storage).map((v) => v.name)
    };
}
