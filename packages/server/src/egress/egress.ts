import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { assertHostAllowed, guardedLookup, EgressForbiddenError } from './address-policy.ts';
import { ApiError, fail } from '../errors.ts';

export interface EgressRequest {
    method: string;
    url: URL;
    headers: Record<string, string>;
    /** A stream is sent as it is read (chunked unless a content-length header is given); it cannot be replayed. */
    body?: Buffer | string | Readable | undefined;
    /** The longest wait without progress: for the response headers, then between two chunks of the body. */
    timeoutMs?: number;
    signal?: AbortSignal;
}

export interface BufferedResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
}

/** Every outbound HTTP call: one keep-alive pool, the SSRF policy on every dialled address, timeouts and byte limits. */
export class Egress {
    readonly allowPrivate: boolean;
    private readonly agent: Agent;

    constructor(opts: { allowPrivate: boolean; connectionsPerOrigin?: number }) {
        this.allowPrivate = opts.allowPrivate;
        this.agent = new Agent({
            connections: opts.connectionsPerOrigin ?? 256,
            keepAliveTimeout: 30_000,
            headersTimeout: 60_000,
            bodyTimeout: 60_000,
            connect: { lookup: guardedLookup(opts.allowPrivate) as never, timeout: 10_000 }
        });
    }

    /** Checks scheme and literal address; throws ApiError egress_forbidden. */
    check(url: URL): void {
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail('egress_forbidden', { message: `Unsupported URL scheme ${url.protocol}` });
        try {
            assertHostAllowed(url.hostname, this.allowPrivate);
        } catch (err) {
            throw fail('egress_forbidden', { message: (err as Error).message });
        }
    }

    /** Streams the response; the caller must consume or destroy the body. Network failures become ApiErrors. */
    async stream(req: EgressRequest): Promise<Dispatcher.ResponseData> {
        this.check(req.url);
        try {
            return await this.agent.request({ ...dispatchOptions(req), signal: req.signal ?? null });
        } catch (err) {
            throw toNetworkError(err);
        }
    }

    /**
     * The same request as stream() for a caller that handles the response itself (undici's handler API): no
     * response stream object, for the proxy's hot path. A refused URL throws here; everything later reaches the
     * handler's onResponseError, where toNetworkError() maps it.
     */
    dispatch(req: EgressRequest, handler: Dispatcher.DispatchHandler): void {
        this.check(req.url);
        this.agent.dispatch(dispatchOptions(req), handler);
    }

    /** Buffers the response up to maxBytes (token endpoints, revocation, small calls). */
    async fetch(req: EgressRequest & { maxBytes?: number }): Promise<BufferedResponse> {
        const res = await this.stream({ timeoutMs: 30_000, ...req });
        const body = await readBody(res, req.maxBytes ?? 1024 * 1024);
        return { status: res.statusCode, headers: res.headers, text: body.toString('utf8') };
    }

    async close(): Promise<void> {
        await this.agent.close();
    }
}

/**
 * undici's options for a request: origin and path from the URL, and one timeout, 60 s by default, for the wait for
 * the response headers and for each wait between body chunks. The two being equal is also what lets undici refresh
 * one timer per connection instead of replacing it at the headers (a timer object per request, which lived long
 * enough to reach the old generation and made major collections three times as frequent under load: bench/proxy).
 */
function dispatchOptions(req: EgressRequest): Dispatcher.DispatchOptions {
    return {
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body ?? null,
        headersTimeout: req.timeoutMs ?? 60_000,
        bodyTimeout: req.timeoutMs ?? 60_000
    };
}

/** Reads a streamed response whole, refusing more than `maxBytes` (`upstream_too_large`); body errors become network errors. */
export async function readBody(res: Dispatcher.ResponseData, maxBytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
        for await (const chunk of res.body) {
            size += (chunk as Buffer).length;
            if (size > maxBytes) {
                res.body.destroy();
                throw fail('upstream_too_large');
            }
            chunks.push(chunk as Buffer);
        }
    } catch (err) {
        throw toNetworkError(err);
    }
    return Buffer.concat(chunks);
}

/** A failure of an outbound call as the ApiError the app sees (timeouts, refused addresses, unreachable hosts). */
export function toNetworkError(err: unknown) {
    if (err instanceof ApiError) return err;
    const cause = err instanceof Error ? err : new Error(String(err));
    const e = cause as Error & { code?: string; cause?: unknown };
    if (e instanceof EgressForbiddenError || e.cause instanceof EgressForbiddenError)
        return fail('egress_forbidden', { message: (e.cause as Error | undefined)?.message ?? e.message });
    if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT')
        return fail('upstream_timeout', { cause: e });
    return fail('upstream_unreachable', { message: `The provider could not be reached (${e.code ?? e.message})`, cause: e });
}
