import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Services } from '../services.ts';
import type { ProxyControl } from './control-headers.ts';
import type { ProxyTarget } from './resolve.ts';
import { ApiError, fail } from '../errors.ts';
import { toNetworkError } from '../egress/egress.ts';
import { backoffMs, retry } from '../egress/retry.ts';
import { appHeadersOf } from './control-headers.ts';
import { buildRequest } from './forward.ts';
import { isRetryableNetworkError, isRetryableStatus, proxyRetryDelayMs } from './retry.ts';
import { hasNoBody, passesThrough, SMALL_BODY_BYTES } from './response-headers.ts';
import { readRequestBody } from './request-body.ts';
import { isRefreshable } from '../refresh/policy.ts';
import { secondsSince } from '../metrics/metrics.ts';

/**
 * The one proxy relay, behind both doors (the node:http fast door and the Fastify route): the app's request
 * goes upstream with the connection's auth, its body streamed, and the upstream's answer comes back through
 * undici's handler API with the header filter, small bodies in one write and large ones streamed with
 * backpressure. An app that hangs up stops the upstream call, mid-upload as well as mid-download.
 */
export interface RelayIo {
    /** The app's request (`/proxy…` URL, headers, and the body, which nothing has read yet). */
    req: IncomingMessage;
    res: ServerResponse;
    /** Headers every answer carries whatever the upstream said (CORS). */
    alwaysHeaders: OutgoingHttpHeaders;
}

/** Content codings the proxy decodes when asked to decompress. */
const DECODERS: Record<string, () => Transform> = {
    gzip: createGunzip,
    'x-gzip': createGunzip,
    deflate: createInflate,
    br: createBrotliDecompress
};

/** An attempt either reached the app, is to be retried after waitMs, or is a 401 held back (Relay.flush sends it). */
type AttemptEnd = { relayed: true } | { relayed: false; status: number; waitMs: number } | { relayed: false; held: true };

const PROXY_PREFIX = '/proxy'.length;

/**
 * Relays one proxied request. Retries (the app's `Retries`) replay the body, so they apply only to a body that
 * was buffered (see readRequestBody); a streamed body is sent once. Rejects with the ApiError to answer with.
 */
export async function relay(s: Services, io: RelayIo, target: ProxyTarget, control: Pick<ProxyControl, 'retries' | 'retry-on' | 'decompress'>): Promise<void> {
    const { req } = io;
    const method = req.method!;
    const appHeaders = appHeadersOf(req.headers);
    // OAuth 1.0a signs form fields (RFC 5849 §3.4.1.3.1), so a form body must be whole before the first byte goes out.
    // AWS SigV4 signs the body's hash, so any body must be whole too.
    const whole =
        ((target.connection.credentials.type === 'OAUTH1' || target.connection.credentials.type === 'TBA') &&
            (appHeaders['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) ||
        target.connection.credentials.type === 'AWS_SIGV4';
    const body = await readRequestBody(req, io.res, s.config.bodyLimit, whole);
    const retries = body.replayable ? control.retries : 0;
    const { def, integration, base } = target;
    const pathAndQuery = req.url!.slice(PROXY_PREFIX);
    // As in Nango: the app's `Decompress: true` or the provider's `proxy.decompress` (HubSpot, …) asks for a
    // compressed answer and hands the app the decoded bytes.
    const decompress = control.decompress === true || def.proxy?.decompress === true;
    let connection = target.connection;
    let handler: Relay | undefined;
    // Only a request that may wait between attempts needs to learn that its app left while it waited.
    const gone = retries > 0 ? clientGone(io.res) : undefined;

    // A 401 to credentials we believed valid gets one refresh and one more attempt (Refresher.rejected), whatever
    // `Retries` says; it is held back meanwhile. Not for a streamed body, which cannot be sent twice.
    let renewable = body.replayable && isRefreshable(connection);

    const attempt = (n: number) =>
        new Promise<AttemptEnd>((resolve, reject) => {
            const { url, headers } = buildRequest(s, connection, { method, base, pathAndQuery, appHeaders, body: body.buffer, def, integration });
            if (body.length !== undefined && !body.buffer) headers['content-length'] = String(body.length);
            if (decompress) headers['accept-encoding'] ??= 'gzip, deflate, br';
            const retryWait =
                n < retries
                    ? (status: number, h: IncomingHttpHeaders) =>
                          isRetryableStatus(status, control['retry-on'], def, h) ? proxyRetryDelayMs(n, h, def) : undefined
                    : undefined;
            // Issue #16 item 2: each attempt, by provider and upstream status, from dispatch to the end of its answer.
            const sentAt = performance.now();
            const provider = connection.provider;
            const span = s.tracing?.start('switchboard.proxy.upstream', {
                'switchboard.provider': provider,
                'http.request.method': method,
                'switchboard.attempt': n
            });
            const observe = (status: string) => {
                s.metrics.proxyUpstream.observe({ provider, status }, secondsSince(sentAt));
                if (span) {
                    span.setAttribute('http.response.status_code', status);
                    span.end();
                }
            };
            handler = new Relay(method, io, retryWait, renewable, decompress, observe, resolve, reject);
            s.egress.dispatch({ method, url, headers, body: body.buffer ?? body.stream }, handler);
        });

    const send = () =>
        retry(attempt, {
            retries,
            signal: gone,
            delayMs: (outcome, n) => {
                if (outcome.ok) return 'waitMs' in outcome.value ? outcome.value.waitMs : undefined;
                const err = outcome.error;
                // Only a failure before any answer started is retried: nothing of it has reached the app.
                return !handler?.started && err instanceof ApiError && isRetryableNetworkError(err.code) ? backoffMs(n, { baseMs: 1000 }) : undefined;
            }
        });

    try {
        const end = await send();
        if ('held' in end) {
            const held = handler!;
            renewable = false;
            const renewed = await s.refresher.rejected(connection);
            if (!renewed) {
                held.flush();
                return;
            }
            connection = renewed;
            await send();
        }
    } catch (err) {
        throw gone?.aborted ? fail('client_closed_request', { cause: err }) : err;
    }
}

function clientGone(res: ServerResponse): AbortSignal {
    const controller = new AbortController();
    res.once('close', () => {
        if (!res.writableFinished) controller.abort(new Error('client closed the request'));
    });
    return controller.signal;
}

/**
 * One upstream attempt, as an undici DispatchHandler: the header filter, no body for 204/304/HEAD, small bodies
 * of known length buffered and sent in one write (with the defaults Fastify gives a Buffer reply), larger ones
 * streamed with backpressure. An answer the caller wants retried is read to its end and dropped.
 */
class Relay implements Dispatcher.DispatchHandler {
    /** The upstream's final status arrived: a failure from here on is not retried. */
    started = false;
    private buffered: Buffer[] | undefined;
    private headers: OutgoingHttpHeaders | undefined;
    private status = 0;
    private discard = false;
    private waitMs: number | undefined;
    private clientGone = false;
    /** A 401 is held back (head and body buffered) rather than relayed, until flush() or a retry drops it. */
    private readonly holdUnauthorized: boolean;
    private holding = false;
    private heldBytes = 0;
    private heldNoBody = false;
    private readonly method: string;
    private readonly io: RelayIo;
    private readonly decompress: boolean;
    /** Decodes the upstream's body when it is compressed and decompression was asked for. */
    private decoder: Transform | undefined;
    private controller: Dispatcher.DispatchController | undefined;
    private decodeError = false;
    private pendingHead: OutgoingHttpHeaders | undefined;

    private writePendingHead(): void {
        if (!this.pendingHead) return;
        this.io.res.writeHead(this.status, this.pendingHead);
        this.pendingHead = undefined;
    }
    private readonly retryWait: ((status: number, headers: IncomingHttpHeaders) => number | undefined) | undefined;
    private readonly resolve: (end: AttemptEnd) => void;
    private readonly reject: (err: unknown) => void;
    /** Records the attempt's metrics once, when its answer ended or failed. */
    private observe: ((status: string) => void) | undefined;

    constructor(
        method: string,
        io: RelayIo,
        retryWait: Relay['retryWait'],
        holdUnauthorized: boolean,
        decompress: boolean,
        observe: (status: string) => void,
        resolve: (end: AttemptEnd) => void,
        reject: (err: unknown) => void
    ) {
        this.method = method;
        this.decompress = decompress;
        this.io = io;
        this.retryWait = retryWait;
        this.holdUnauthorized = holdUnauthorized;
        this.observe = observe;
        this.resolve = resolve;
        this.reject = reject;
    }

    // Its presence is what makes undici use the controller API for this handler.
    onRequestStart(controller: Dispatcher.DispatchController): void {
        this.controller = controller;
        const res = this.io.res;
        // The app hung up before we answered (or mid-upload): stop the upstream call instead of finishing it for nobody.
        const onClose = () => {
            if (res.writableFinished) return;
            this.clientGone = true;
            controller.abort(new Error('client closed the request'));
        };
        if (res.destroyed) onClose();
        else res.once('close', onClose);
    }

    onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
        if (statusCode < 200) return;
        this.started = true;
        this.status = statusCode;
        const waitMs = statusCode === 401 && this.holdUnauthorized ? undefined : this.retryWait?.(statusCode, headers);
        if (waitMs !== undefined) {
            this.waitMs = waitMs;
            this.discard = true;
            return;
        }
        const res = this.io.res;
        // The provider answered before the app finished uploading: the connection cannot be reused after this
        // answer (the rest of the upload is still on it), so say so instead of leaving the app to find out.
        if (!this.io.req.complete) res.shouldKeepAlive = false;
        const ok = statusCode >= 200 && statusCode < 300;
        const out: OutgoingHttpHeaders = { ...this.io.alwaysHeaders };
        // for…in rather than Object.entries: no array per header on every response, same order.
        for (const name in headers) {
            const value = headers[name];
            if (value !== undefined && passesThrough(name, ok)) out[name] = value;
        }
        const coding = String(headers['content-encoding'] ?? '')
            .trim()
            .toLowerCase();
        const decoderOf = this.decompress && !hasNoBody(statusCode, this.method) && Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
        if (decoderOf) {
            // Decoded, the body has another length, which is not known in advance: it streams (never buffered whole,
            // so a small compressed body cannot grow into a large buffer).
            delete out['content-encoding'];
            delete out['content-length'];
            const decoder = decoderOf();
            decoder.on('data', (chunk: Buffer) => this.deliver(chunk));
            decoder.on('error', (err: Error) => this.decodeFailed(err));
            this.decoder = decoder;
        }
        if (statusCode === 401 && this.holdUnauthorized) {
            this.holding = true;
            this.heldNoBody = hasNoBody(statusCode, this.method);
            this.headers = out;
            this.buffered = [];
            return;
        }
        if (hasNoBody(statusCode, this.method)) {
            this.discard = true;
            res.writeHead(statusCode, out);
            res.end();
            return;
        }
        if (!this.decoder && Number(headers['content-length'] ?? NaN) <= SMALL_BODY_BYTES) {
            this.headers = out;
            this.buffered = [];
            return;
        }
        // A decoded body's head waits for its first decoded bytes, so a body that does not decode is still a 502.
        if (this.decoder) this.pendingHead = out;
        else res.writeHead(statusCode, out);
    }

    onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (this.discard) return;
        const decoder = this.decoder;
        if (!decoder) {
            this.deliver(chunk);
            return;
        }
        // The decoder holds what it was given until its output is read: a full decoder stops the upstream.
        if (!decoder.write(chunk)) {
            controller.pause();
            decoder.once('drain', () => controller.resume());
        }
    }

    /** A compressed body that does not decode: the app gets a 502 if nothing was sent yet, else a cut connection. */
    private decodeFailed(err: Error): void {
        this.decodeError = true;
        this.decoder = undefined;
        this.discard = true;
        const res = this.io.res;
        if (res.headersSent) {
            res.destroy(err);
            this.resolve({ relayed: true });
        } else {
            this.controller?.abort(err);
            this.reject(fail('upstream_unreachable', { message: 'The provider sent a compressed body that could not be decoded', cause: err }));
        }
    }

    private deliver(chunk: Buffer): void {
        const controller = this.controller!;
        if (this.buffered) {
            this.buffered.push(chunk);
            this.heldBytes += chunk.length;
            // A 401 body too large to hold is relayed as it comes: that request is not retried.
            if (this.holding && this.heldBytes > SMALL_BODY_BYTES) this.release();
            return;
        }
        const res = this.io.res;
        this.writePendingHead();
        if (!res.write(chunk)) {
            // A slow app stops the upstream; with a decoder, the decoder too (it stops inflating once its own output
            // waits, which is what keeps a small compressed body from growing into a large buffer here).
            const decoder = this.decoder;
            decoder?.pause();
            controller.pause();
            res.once('drain', () => {
                decoder?.resume();
                controller.resume();
            });
        }
    }

    /** Stops holding a 401: its head and what arrived so far go to the app, the rest streams. */
    private release(): void {
        this.holding = false;
        const res = this.io.res;
        res.writeHead(this.status, this.headers);
        for (const chunk of this.buffered ?? []) res.write(chunk);
        this.buffered = undefined;
        this.headers = undefined;
    }

    private observed(status: string): void {
        this.observe?.(status);
        this.observe = undefined;
    }

    onResponseEnd(): void {
        this.observed(String(this.status));
        const decoder = this.decoder;
        if (decoder && !this.discard) {
            decoder.once('end', () => this.ended());
            decoder.end();
            return;
        }
        this.ended();
    }

    private ended(): void {
        if (this.decodeError) return;
        if (this.waitMs !== undefined) {
            this.resolve({ relayed: false, status: this.status, waitMs: this.waitMs });
            return;
        }
        if (this.holding) {
            this.resolve({ relayed: false, held: true });
            return;
        }
        this.finish();
    }

    /** Sends the 401 that was held back: it is the answer after all. */
    flush(): void {
        this.holding = false;
        this.finish();
    }

    private finish(): void {
        const res = this.io.res;
        if (this.heldNoBody && this.headers) {
            res.writeHead(this.status, this.headers);
            res.end();
        } else if (this.buffered && this.headers) {
            const body = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
            const headers = this.headers;
            headers['content-length'] = body.length;
            headers['content-type'] ??= 'application/octet-stream';
            res.writeHead(this.status, headers);
            res.end(body);
        } else if (!this.discard) {
            this.writePendingHead();
            res.end();
        }
        this.resolve({ relayed: true });
    }

    onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
        this.observed(this.started ? String(this.status) : 'error');
        this.reject(this.clientGone ? fail('client_closed_request', { cause: error }) : toNetworkError(error));
    }
}
