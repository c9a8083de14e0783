import type { Connection } from '../connections/store.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { HostProxyRequest, HostProxyResponse } from './runtime/types.ts';
import { fail } from '../http/errors.ts';
import { providerBaseUrl } from '../proxy/target.ts';
import { forward, type ForwardDeps } from '../proxy/forward.ts';
import { readBody } from '../egress/egress.ts';

/** What a script's HTTP call uses, by name. */
export interface ScriptProxyDeps extends ForwardDeps {
    integrations: IntegrationStore;
    catalogue: Catalogue;
    refresher: Refresher;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** `params` as the SDK allows them: a query string, or values that are strings, numbers or arrays (comma-joined). */
function queryOf(params: HostProxyRequest['params']): string {
    if (!params) return '';
    if (typeof params === 'string') return params.replace(/^\?/, '');
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.append(k, Array.isArray(v) ? v.join(',') : String(v));
    return q.toString();
}

function bodyOf(req: HostProxyRequest, headers: Record<string, string>): Buffer | undefined {
    const d = req.data;
    if (d === undefined || d === null) return undefined;
    if (d instanceof Uint8Array) return Buffer.from(d);
    if (typeof d === 'string') return Buffer.from(d, 'utf8');
    if (!headers['content-type']) headers['content-type'] = 'application/json';
    return Buffer.from(JSON.stringify(d), 'utf8');
}

/** Where the request goes: the catalogue's base URL (or the script's override), and the endpoint relative to it. */
function target(base: string | undefined, req: HostProxyRequest): { base: string; path: string } {
    const endpoint = req.endpoint;
    if (/^https?:\/\//i.test(endpoint)) {
        if (base && endpoint.startsWith(base)) return { base, path: endpoint.slice(base.length) };
        const u = new URL(endpoint);
        return { base: u.origin, path: `${u.pathname}${u.search}` };
    }
    if (!base) throw fail('unsupported_provider', { message: 'The provider has no proxy base URL; pass baseUrlOverride' });
    return { base, path: endpoint.startsWith('/') ? endpoint : `/${endpoint}` };
}

function parse(body: Buffer, contentType: string, responseType: HostProxyRequest['responseType']): unknown {
    if (responseType === 'arraybuffer' || responseType === 'blob' || responseType === 'stream') return new Uint8Array(body);
    const text = body.toString('utf8');
    if (responseType === 'text' || responseType === 'document') return text;
    if (contentType.includes('json') || responseType === 'json') {
        try {
            return text.length ? JSON.parse(text) : '';
        } catch {
            return text;
        }
    }
    return text;
}

/**
 * A script's HTTP call: the same auth, refresh, retry and egress policy as `/proxy`, with the whole response
 * read and parsed the way axios would (scripts expect `{data, status, headers}`).
 */
export async function scriptProxy(s: ScriptProxyDeps, connection: Connection, req: HostProxyRequest, signal: AbortSignal): Promise<HostProxyResponse> {
    const integration = await s.integrations.get(connection.environmentId, connection.providerConfigKey);
    if (!integration) throw fail('unknown_provider_config');
    const def = s.catalogue.get(integration.provider);
    if (!def) throw fail('unknown_provider', { message: `Provider "${integration.provider}" is not in the catalogue` });
    const fresh = await s.refresher.fresh(connection);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const body = bodyOf(req, headers);
    const where = target(req.baseUrlOverride ?? providerBaseUrl(def, integration, fresh.connectionConfig), req);
    const query = queryOf(req.params);
    const pathAndQuery = query ? `${where.path}${where.path.includes('?') ? '&' : '?'}${query}` : where.path;
    const res = await forward(s, fresh, {
        method: req.method.toUpperCase(),
        base: where.base,
        pathAndQuery,
        appHeaders: headers,
        body,
        control: { retries: req.retries ?? 0, 'retry-on': req.retryOn },
        def,
        integration,
        signal
    });
    const received = await readBody(res, MAX_RESPONSE_BYTES);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: out, data: parse(received, out['content-type'] ?? '', req.responseType) };
}
