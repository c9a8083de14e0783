/**
 * `nango.uncontrolledFetch` on the server side: a request without the connection's credentials, through the
 * same egress policy as every other outbound call (SSRF rules on each hop), redirects followed by hand so each
 * target is checked. Nango's runner defines it the same way: a plain fetch, no proxy auth, no retries, the
 * outbound URL policy applied to the URL and to every redirect.
 */
import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Egress } from '../egress/egress.ts';
import { readBody } from '../egress/egress.ts';
import type { HostFetchRequest, HostFetchResponse } from './runtime/types.ts';
import { fail } from '../errors.ts';

const MAX_REDIRECTS = 5;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Request headers that describe a body: dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = [
    'content-length',
    'content-type',
    'content-encoding',
    'content-language',
    'content-location',
    'content-md5',
    'content-range',
    'transfer-encoding'
];
/** Credentials a redirect to another origin must not carry (what fetch itself strips). */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/** Makes the request; a refused URL throws ApiError egress_forbidden before any byte is sent to it. */
export async function uncontrolledFetch(egress: Egress, req: HostFetchRequest, signal?: AbortSignal): Promise<HostFetchResponse> {
    let url = parseUrl(req.url);
    let method = (req.method ?? 'GET').toUpperCase();
    let body: string | Buffer | undefined = req.body instanceof Uint8Array ? Buffer.from(req.body) : (req.body ?? undefined);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = String(v);
    for (let hops = 0; ; hops++) {
        const res = await egress.stream({ method, url, headers, body, ...(signal ? { signal } : {}) });
        const location = headerValue(res.headers['location']);
        if (!REDIRECTS.has(res.statusCode) || !location) return answer(res, url);
        // Drain the redirect's own body (destroying it would surface as an unhandled "Request aborted").
        await res.body.dump().catch(() => undefined);
        if (hops >= MAX_REDIRECTS) throw new FetchError('too_many_redirects', `Exceeded maximum of ${MAX_REDIRECTS} redirects.`);
        const next = redirectTarget(location, url);
        if (next.origin !== url.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
        // fetch's rules: 303 turns anything but GET/HEAD into a GET; 301/302 turn a POST into a GET; 307/308 keep all.
        if ((res.statusCode === 303 && method !== 'GET' && method !== 'HEAD') || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
            for (const h of BODY_HEADERS) delete headers[h];
        }
        url = next;
    }
}

async function answer(res: Dispatcher.ResponseData, url: URL): Promise<HostFetchResponse> {
    const body = await readBody(res, MAX_RESPONSE_BYTES);
    const headers: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.push([k, one]);
    }
    return {
        status: res.statusCode,
        statusText: STATUS_CODES[res.statusCode] ?? '',
        url: url.href,
        headers,
        body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
    };
}

/**
 * A failure the script sees as an ActionError with this code (too_many_redirects, invalid_redirect), as on
 * Nango's runner. Only ever returned to the runner process, never to an API caller.
 */
export class FetchError extends Error {
    override name = 'FetchError';
    readonly code: string;

    constructor(code: string, message: string) {
        super(message);
        this.code = code;
    }
}

function parseUrl(raw: string): URL {
    try {
        return new URL(raw);
    } catch {
        throw fail('invalid_body', { message: `uncontrolledFetch: '${String(raw).slice(0, 200)}' is not a URL` });
    }
}

function redirectTarget(location: string, current: URL): URL {
    let next: URL;
    try {
        next = new URL(location, current);
    } catch {
        throw new FetchError('invalid_redirect', 'Redirect Location could not be parsed as a URL.');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new FetchError('invalid_redirect', 'Redirect Location must use http: or https:.');
    return next;
}

function headerValue(v: string | string[] | undefined): string | undefined {
    return Array.isArray(v) ? v[0] : v;
}
