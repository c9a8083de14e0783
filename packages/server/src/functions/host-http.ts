import type { Connection } from '../connections/store.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { HostProxyRequest, HostProxyResponse } from './runtime/types.ts';
import { fail } from '../errors.ts';
import { resolveTarget, type ResolveDeps } from '../proxy/resolve.ts';
import { forward, type ForwardDeps } from '../proxy/forward.ts';
import { readBody } from '../egress/egress.ts';

/** What a script's HTTP call uses, by name. */
export interface ScriptProxyDeps extends ForwardDeps, ResolveDeps {
    integrations: IntegrationStore;
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

/**
 * Where the request goes. An absolute endpoint (or an absolute next-page link of nango.paginate) is a target of
 * its own: the resolver checks it as it checks any override, then it is sent as written. A relative endpoint goes
 * under the script's `baseUrlOverride` (checked the same way) or the provider's base URL.
 */
function destination(req: HostProxyRequest): { override: string | undefined; absolute: URL | undefined } {
    if (!/^https?:\/\//i.test(req.endpoint)) return { override: req.baseUrlOverride || undefined, absolute: undefined };
    let url: URL;
    try {
        url = new URL(req.endpoint);
    } catch {
        throw fail('invalid_query_params', { message: 'The endpoint is not a valid URL' });
    }
    return { override: `${url.origin}${url.pathname}`, absolute: url };
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
 * A script's HTTP call: the same target, auth, refresh, retry and egress policy as `/proxy`, with the whole response
 * read and parsed the way axios would (scripts expect `{data, status, headers}`).
 */
export async function scriptProxy(s: ScriptProxyDeps, connection: Connection, req: HostProxyRequest, signal: AbortSignal): Promise<HostProxyResponse> {
    const where = destination(req);
    const { integration, def, connection: fresh, base } = await resolveTarget(s, { connection }, where.override);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const body = bodyOf(req, headers);
    const path = where.absolute ? `${where.absolute.pathname}${where.absolute.search}` : req.endpoint.startsWith('/') ? req.endpoint : `/${req.endpoint}`;
    const query = queryOf(req.params);
    const pathAndQuery = query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
    const res = await forward(s, fresh, {
        method: req.method.toUpperCase(),
        base: where.absolute ? where.absolute.origin : base,
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
