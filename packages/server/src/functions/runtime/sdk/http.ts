/** `nango.proxy/get/post/put/patch/delete`: one host call per request, axios-shaped results and errors (docs/scripts-compatibility.md, "HTTP"). */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type { HostProxyRequest, HostProxyResponse } from '../types.ts';
import { guard, type SdkContext } from './context.ts';
import { HostCallError, SdkError, httpStatusError, networkError } from './errors.ts';

/**
 * The subset of Nango's ProxyConfiguration the host understands (unknown keys are ignored): the host request
 * with the method optional (GET), plus `paginate` for nango.paginate.
 */
export type ProxyConfig = Omit<HostProxyRequest, 'method'> & { method?: string; paginate?: Record<string, unknown> };

export interface ProxyResponse {
    data: unknown;
    status: number;
    statusText: string;
    headers: Record<string, string>;
    config: ProxyConfig;
}

/** Makes one proxied request and returns the axios response shape; throws axios-shaped errors. */
export async function proxyRequest(ctx: SdkContext, config: ProxyConfig): Promise<ProxyResponse> {
    guard(ctx);
    if (!config || typeof config.endpoint !== 'string' || config.endpoint === '') {
        throw new SdkError('invalid_proxy_configuration', 'nango.proxy requires an `endpoint`');
    }
    const req = toHostRequest(config);
    let res: HostProxyResponse;
    try {
        res = await ctx.host.proxy(req);
    } catch (err) {
        // The host could not get any answer from the provider (refused, DNS, timeout, egress policy):
        // scripts see what axios gives them in that case, an error without `response`.
        const message = err instanceof Error ? err.message : String(err);
        const code = err instanceof HostCallError ? err.code : undefined;
        throw networkError(message, code, config);
    }
    const data = asAxiosData(res.data, config.responseType);
    const statusText = STATUS_CODES[res.status] ?? '';
    if (res.status >= 400) throw httpStatusError(res.status, statusText, data, res.headers, config);
    return { data, status: res.status, statusText, headers: res.headers, config };
}

/**
 * `data` as axios on Node gives it (issue #11 items 5 and 6): a Buffer for `arraybuffer` / `blob`, a Readable
 * for `stream`, and for the default response type any body that parses as JSON is parsed, whatever its
 * content type says (axios' forced JSON parsing), else the text is kept.
 */
function asAxiosData(data: unknown, responseType: ProxyConfig['responseType']): unknown {
    if (data instanceof Uint8Array) {
        const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        return responseType === 'stream' ? Readable.from([buf]) : buf;
    }
    if ((responseType === undefined || responseType === 'json') && typeof data === 'string' && data !== '') {
        try {
            return JSON.parse(data) as unknown;
        } catch {
            return data;
        }
    }
    return data;
}

function toHostRequest(config: ProxyConfig): HostProxyRequest {
    const req: HostProxyRequest = { method: (config.method ?? 'GET').toUpperCase(), endpoint: config.endpoint };
    if (config.headers) req.headers = stringHeaders(config.headers);
    if (config.params !== undefined) req.params = config.params;
    if (config.data !== undefined) req.data = normaliseBody(config.data);
    if (typeof config.retries === 'number') req.retries = config.retries;
    if (Array.isArray(config.retryOn)) req.retryOn = config.retryOn;
    if (config.baseUrlOverride) req.baseUrlOverride = config.baseUrlOverride;
    if (config.responseType) req.responseType = config.responseType;
    if (typeof config.decompress === 'boolean') req.decompress = config.decompress;
    if (config.providerConfigKey) req.providerConfigKey = config.providerConfigKey;
    if (config.connectionId) req.connectionId = config.connectionId;
    return req;
}

function stringHeaders(headers: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && v !== null) out[k] = String(v);
    return out;
}

/** Bodies must be structured-clone data; axios-style URLSearchParams / ArrayBuffer bodies are turned into that. */
function normaliseBody(data: unknown): unknown {
    if (data instanceof URLSearchParams) return data.toString();
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return data;
}
