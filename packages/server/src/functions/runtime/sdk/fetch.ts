/**
 * `nango.uncontrolledFetch({url, method?, headers?, body?})`: a plain request with none of the connection's
 * credentials, answered with a WHATWG `Response`, as on Nango's runner. The server makes the call through its
 * egress policy (private and loopback targets refused, each redirect re-checked); see functions/uncontrolled-fetch.ts.
 */
import type { HostFetchRequest, HostFetchResponse } from '../types.ts';
import { guard, type SdkContext } from './context.ts';
import { ActionError, HostCallError, SdkError } from './errors.ts';

export interface UncontrolledFetchOptions {
    url: URL | string;
    method?: string;
    headers?: ConstructorParameters<typeof Headers>[0];
    body?: string | URLSearchParams | ArrayBuffer | ArrayBufferView | null;
}

/** Statuses whose Response must have a null body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Host refusals that reach the script as Nango's ActionError codes. */
const ACTION_CODES: Readonly<Record<string, { code: string; message?: string }>> = {
    egress_forbidden: { code: 'url_not_allowed', message: 'This URL is not allowed by server configuration.' },
    too_many_redirects: { code: 'too_many_redirects' },
    invalid_redirect: { code: 'invalid_redirect' }
};

export async function uncontrolledFetch(ctx: SdkContext, options: UncontrolledFetchOptions): Promise<Response> {
    guard(ctx);
    const req = toHostRequest(options);
    let res: HostFetchResponse;
    try {
        res = await ctx.host.uncontrolledFetch(req);
    } catch (err) {
        const code = err instanceof HostCallError ? err.code : undefined;
        const message = err instanceof Error ? err.message : String(err);
        const mapped = code ? ACTION_CODES[code] : undefined;
        if (mapped) throw new ActionError({ code: mapped.code, message: mapped.message ?? message });
        // What fetch throws when no response came back.
        throw new TypeError('fetch failed', { cause: { code, message } });
    }
    const response = new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(response, 'url', { value: res.url });
    Object.defineProperty(response, 'redirected', { value: res.url !== req.url });
    return response;
}

function toHostRequest(options: UncontrolledFetchOptions): HostFetchRequest {
    if (
        !options ||
        (typeof options.url !== 'string' && !(options.url instanceof URL) && typeof (options.url as { href?: unknown } | undefined)?.href !== 'string')
    ) {
        throw new SdkError('invalid_argument', 'nango.uncontrolledFetch expects { url: URL, method?, headers?, body? }');
    }
    const url = typeof options.url === 'string' ? options.url : (options.url as URL).href;
    const headers: Record<string, string> = {};
    new Headers(options.headers ?? undefined).forEach((v, k) => (headers[k] = v));
    const req: HostFetchRequest = { url, headers };
    if (options.method) req.method = String(options.method).toUpperCase();
    const body = options.body;
    if (body === undefined || body === null || body === '') return req;
    if (typeof body === 'string') req.body = body;
    else if (body instanceof URLSearchParams) {
        req.body = body.toString();
        headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    } else if (body instanceof ArrayBuffer) req.body = new Uint8Array(body);
    else if (ArrayBuffer.isView(body)) req.body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    else req.body = String(body);
    return req;
}
