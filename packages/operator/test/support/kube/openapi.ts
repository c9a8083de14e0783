import { createHash } from 'node:crypto';
import { looseSchema } from './builtins.ts';
import { groupVersion, type JsonSchema, type ResourceType } from './types.ts';

/** `api/v1` or `apis/<group>/<version>`: the key of a group version in /openapi/v3. */
export const gvPath = (t: { group: string; version: string }) => (t.group ? `apis/${t.group}/${t.version}` : 'api/v1');

const definitionName = (t: ResourceType) => {
    const reversed = (t.group || 'core').split('.').reverse().join('.');
    return `${t.group ? reversed : 'io.k8s.api.core'}.${t.version}.${t.kind}`;
};

const queryParam = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } });

/**
 * The OpenAPI v3 document of one group version, shaped like the real server's: every operation carries
 * x-kubernetes-action and x-kubernetes-group-version-kind, and PATCH lists the fieldValidation parameter, which is
 * how kubectl decides to let the server validate (fieldValidation=Strict) instead of downloading schemas itself.
 */
export function openApiDocument(types: ResourceType[]): Record<string, unknown> {
    const paths: Record<string, unknown> = {};
    const schemas: Record<string, unknown> = {};
    for (const t of types) {
        const gvk = { group: t.group, version: t.version, kind: t.kind };
        const ref = { $ref: `#/components/schemas/${definitionName(t)}` };
        const body = { content: { 'application/json': { schema: ref } } };
        const ok = { responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } } };
        const op = (action: string, extra: Record<string, unknown> = {}) => ({
            operationId: `${action}${t.kind}`,
            'x-kubernetes-action': action,
            'x-kubernetes-group-version-kind': gvk,
            ...ok,
            ...extra
        });
        const base = `/${gvPath(t)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
        const scopeParams = t.namespaced ? [pathParam('namespace')] : [];
        paths[base] = {
            parameters: scopeParams,
            get: op('list', { parameters: ['watch', 'resourceVersion', 'labelSelector', 'fieldSelector', 'limit'].map(queryParam) }),
            post: op('post', { parameters: ['dryRun', 'fieldManager', 'fieldValidation'].map(queryParam), requestBody: body })
        };
        const patchBody = {
            content: Object.fromEntries(
                ['application/json-patch+json', 'application/merge-patch+json', ...(t.custom ? [] : ['application/strategic-merge-patch+json'])].map((c) => [
                    c,
                    { schema: { type: 'object' } }
                ])
            )
        };
        const item = {
            parameters: [...scopeParams, pathParam('name')],
            get: op('get'),
            put: op('put', { parameters: ['dryRun', 'fieldManager', 'fieldValidation'].map(queryParam), requestBody: body }),
            patch: op('patch', { parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map(queryParam), requestBody: patchBody }),
            delete: op('delete', { parameters: ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'].map(queryParam) })
        };
        paths[`${base}/{name}`] = item;
        if (t.statusSubresource) {
            paths[`${base}/{name}/status`] = { parameters: item.parameters, get: op('get'), put: item.put, patch: item.patch };
        }
        const schema: JsonSchema = t.schema ? structuredClone(t.schema) : structuredClone(looseSchema);
        schema.properties = {
            ...(schema.properties ?? {}),
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
        };
        schema['x-kubernetes-group-version-kind'] = [gvk];
        schemas[definitionName(t)] = schema;
    }
    return {
        openapi: '3.0.0',
        info: { title: 'Kubernetes', version: 'v1.32.0' },
        paths,
        components: { schemas }
    };
}

/** /openapi/v3: the index of group versions, each with a content hash in its URL (clients cache by it). */
export function openApiIndex(byGv: Map<string, ResourceType[]>): Record<string, unknown> {
    const paths: Record<string, unknown> = {};
    for (const [gv, types] of byGv) {
        const hash = createHash('sha512')
            .update(JSON.stringify(openApiDocument(types)))
            .digest('hex')
            .toUpperCase();
        paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
    }
    return { paths };
}

export { groupVersion };
