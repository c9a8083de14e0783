import type { JsonSchema, ResourceType } from './types.ts';

const builtin = (group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced,
    statusSubresource: false,
    generation: false,
    schema: undefined,
    printerColumns: [],
    custom: false,
    ...extra
});

/** The built-in kinds the operator and its manifests touch. */
export const builtinTypes = (): ResourceType[] => [
    builtin('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], statusSubresource: true }),
    builtin('', 'v1', 'Secret', 'secrets', true),
    builtin('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
    builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
    builtin('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
    builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
    builtin('apps', 'v1', 'Deployment', 'deployments', true, { shortNames: ['deploy'], statusSubresource: true, generation: true }),
    builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
    builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
        shortNames: ['crd', 'crds'],
        statusSubresource: true,
        generation: true
    })
];

/** A loose schema for built-in kinds in the OpenAPI documents: kubectl needs the kind listed, not every field. */
export const looseSchema: JsonSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
