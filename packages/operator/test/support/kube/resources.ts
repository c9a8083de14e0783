import type { IncomingMessage } from 'node:http';
import { applySchema } from './schema.ts';
import { KubeError, badRequest, invalid, notFound } from './status.ts';
import type { ObjectStore } from './store.ts';
import { groupVersion, type KubeObject, type ResourceType } from './types.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';

/** One request on a resource path, already routed. */
export interface ResourceRequest {
    type: ResourceType;
    namespace: string | undefined;
    name: string | undefined;
    subresource: string | undefined;
    method: string;
    query: URLSearchParams;
    contentType: string;
    body: unknown;
}

export interface WriteResult {
    status: number;
    body: unknown;
    warnings: string[];
}

/** Prunes and validates a custom resource against its CRD schema, honouring ?fieldValidation (Strict, Warn, Ignore). */
function admit(t: ResourceType, obj: KubeObject, query: URLSearchParams, warnings: string[]): KubeObject {
    if (!t.schema) return obj;
    const outcome = applySchema(t.schema, obj);
    const mode = query.get('fieldValidation') ?? 'Warn';
    if (outcome.unknown.length > 0 && mode === 'Strict') {
        throw badRequest(
            `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${outcome.unknown.map((u) => `unknown field "${u}"`).join(', ')}`
        );
    }
    if (mode === 'Warn') warnings.push(...outcome.unknown.map((u) => `unknown field "${u}"`));
    if (outcome.errors.length > 0) throw invalid(t.kind, t.group, obj.metadata?.name ?? '', outcome.errors);
    return outcome.value as KubeObject;
}

function asObject(body: unknown, t: ResourceType): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
    const o = body as KubeObject;
    if (o.apiVersion && o.apiVersion !== groupVersion(t))
        throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${groupVersion(t)})`);
    if (o.kind && o.kind !== t.kind) throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${t.kind})`);
    return { ...o, metadata: { ...(o.metadata ?? {}) } };
}

function applyPatch(t: ResourceType, current: KubeObject, contentType: string, patch: unknown): KubeObject {
    if (contentType.startsWith('application/merge-patch+json')) return mergePatch(current, patch) as KubeObject;
    if (contentType.startsWith('application/json-patch+json')) return jsonPatch(current, patch) as KubeObject;
    if (contentType.startsWith('application/strategic-merge-patch+json')) {
        // The real server refuses strategic merge patches on custom resources (they have no patch strategies).
        if (t.custom)
            throw new KubeError(
                415,
                'UnsupportedMediaType',
                `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`
            );
        return strategicMergePatch(current, patch) as KubeObject;
    }
    throw new KubeError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`
    );
}

/** create, update, patch and delete of one resource; `onChange` lets the server react (a CRD registering its kind). */
export function write(store: ObjectStore, r: ResourceRequest, namespaceExists: (ns: string) => boolean): WriteResult {
    const t = r.type;
    const warnings: string[] = [];
    const sub = r.subresource === 'status' ? 'status' : undefined;
    if (r.subresource && !(sub && t.statusSubresource)) throw notFound(`${t.plural}/${r.subresource}`, t.group, r.name ?? '');
    if (t.namespaced && r.namespace && !namespaceExists(r.namespace) && r.method === 'POST') throw notFound('namespaces', '', r.namespace);
    const dryRun = r.query.get('dryRun') === 'All';
    if (r.method === 'POST') {
        if (r.name) throw new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const obj = admit(t, asObject(r.body, t), r.query, warnings);
        if (obj.metadata.namespace && r.namespace && obj.metadata.namespace !== r.namespace) {
            throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        if (t.statusSubresource) delete obj['status'];
        if (dryRun) return { status: 201, body: obj, warnings };
        return { status: 201, body: store.create(t, r.namespace, obj), warnings };
    }
    if (!r.name) throw new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (r.method === 'PUT') {
        const obj = admit(t, asObject(r.body, t), r.query, warnings);
        if (obj.metadata.name && obj.metadata.name !== r.name) throw badRequest('the name of the object does not match the name on the URL');
        return { status: 200, body: store.update(t, r.namespace, r.name, obj, sub), warnings };
    }
    if (r.method === 'PATCH') {
        const current = store.get(t, r.namespace, r.name);
        const patched = admit(t, applyPatch(t, current, r.contentType, r.body), r.query, warnings);
        // A patch is not a compare-and-swap unless it carries a resourceVersion itself.
        const carriesRv = JSON.stringify(r.body).includes('"resourceVersion"');
        if (!carriesRv) patched.metadata.resourceVersion = current.metadata.resourceVersion;
        return { status: 200, body: store.update(t, r.namespace, r.name, patched, sub), warnings };
    }
    if (r.method === 'DELETE') {
        const opts = (r.body ?? {}) as { preconditions?: { resourceVersion?: string } };
        const { object, gone } = store.delete(t, r.namespace, r.name, opts.preconditions?.resourceVersion);
        return { status: gone ? 200 : 202, body: object, warnings };
    }
    throw new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** label and field selectors, reduced to the equality forms clients send (`a=b`, `a==b`, `a!=b`, `a`). */
export function selectorMatcher(query: URLSearchParams): (o: KubeObject) => boolean {
    const parse = (s: string | null) =>
        (s ?? '')
            .split(',')
            .filter(Boolean)
            .map((term) => {
                const m = /^([^!=]+)(!=|==|=)?(.*)$/.exec(term.trim())!;
                return { key: m[1]!, op: m[2], value: m[3] ?? '' };
            });
    const labels = parse(query.get('labelSelector'));
    const fields = parse(query.get('fieldSelector'));
    const field = (o: KubeObject, key: string): string | undefined => {
        let v: unknown = o;
        for (const p of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[p];
        return v === undefined ? undefined : String(v);
    };
    return (o) =>
        labels.every(({ key, op, value }) => {
            const v = o.metadata.labels?.[key];
            return op === undefined ? v !== undefined : op === '!=' ? v !== value : v === value;
        }) &&
        fields.every(({ key, op, value }) => {
            const v = field(o, key);
            return op === '!=' ? v !== value : v === value;
        });
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        throw badRequest('the body is not valid JSON');
    }
}
