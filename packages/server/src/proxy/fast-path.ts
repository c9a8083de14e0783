import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Services } from '../services.ts';
import { fail } from '../http/errors.ts';
import { toApiError } from '../http/error-envelope.ts';
import { authenticateSecret } from '../http/route.ts';
import { toNetworkError } from '../egress/egress.ts';
import { appHeadersOf, proxyHeadersFastPath } from './control-headers.ts';
import { resolveProxyTarget } from './resolve.ts';
import { buildRequest } from './forward.ts';
import { hasNoBody, passesThrough, SMALL_BODY_BYTES } from './response-headers.ts';

/**
 * The common proxied request, served on node:http directly instead of through Fastify's request lifecycle and
 * undici's response stream: a bodiless GET, HEAD or DELETE to /proxy with only the two required control headers
 * and what the official SDK always adds (so no retries and no base URL override). Together those two layers were the larger part of a proxied
 * request's cost (bench/proxy), which is what a proxy is measured by.
 *
 * The contract is the one of proxyHeadersFastPath: take a request only when the general route would answer it
 * the same way, and hand everything else to Fastify. proxy-fast-path-parity.test.ts sends every case both
 * ways and compares status, headers and body.
 */
export interface FastPathOptions {
    /** Headers the general path's hooks put on every answer (CORS), in lower case. */
    alwaysHeaders: Readonly<Record<string, string>>;
    /** True once the server is closing: Fastify then answers 503, so the request goes there. */
    closing: () => boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean;

const METHODS = new Set(['GET', 'HEAD', 'DELETE']);
// find-my-way answers a malformed escape in the wildcard with 400; such a URL takes the general path.
const malformedEscape = /%(?![0-9a-fA-F]{2})/;
const SLASH = 47;
const QUESTION = 63;

function eligible(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    if (!url.startsWith('/proxy')) return false;
    if (url.length > 6 && url.charCodeAt(6) !== SLASH && url.charCodeAt(6) !== QUESTION) return false;
    if (!METHODS.has(req.method ?? '')) return false;
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined || h['content-length'] !== undefined) return false;
    return !malformedEscape.test(url);
}

/** Returns the request listener's first step: true when the fast path took the request. */
export function proxyFastPath(s: Services, opts: FastPathOptions): Handler {
    const logRequests = s.log.isLevelEnabled('info');
    return (req, res) => {
        if (!eligible(req) || opts.closing()) return false;
        const control = proxyHeadersFastPath(req.headers);
        if (!control) return false;
        const started = logRequests ? performance.now() : 0;
        let reqId: string | undefined;
        const id = () => (reqId ??= randomUUID());
        if (logRequests) {
            res.once('finish', () => {
                // `fastPath` says which way the request went (operators comparing paths; the parity test).
                s.log.info({ reqId: id(), req: { id: id(), method: req.method, url: req.url }, res: { statusCode: res.statusCode }, ms: Math.round(performance.now() - started), fastPath: true }, 'request');
            });
        }
        serve(s, req, res, control, opts).catch((err: unknown) => {
            const apiError = toApiError(err instanceof Error ? err : new Error(String(err)));
            if (apiError.status >= 500) s.log.error({ reqId: id(), err, errorId: apiError.payload }, 'request failed');
            if (res.headersSent || res.destroyed) {
                res.destroy();
                return;
            }
            const body = JSON.stringify(apiError.toJSON());
            res.writeHead(apiError.status, { ...opts.alwaysHeaders, ...apiError.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
            res.end(body);
        });
        return true;
    };
}

async function serve(s: Services, req: IncomingMessage, res: ServerResponse, control: NonNullable<ReturnType<typeof proxyHeadersFastPath>>, opts: FastPathOptions): Promise<void> {
    const env = await authenticateSecret(req, s);
    const { integration, def, connection, base } = await resolveProxyTarget(s, env, control);
    const method = req.method!;
    const { url, headers } = buildRequest(s, connection, { method, base, pathAndQuery: req.url!.slice(6), appHeaders: appHeadersOf(req.headers), body: undefined, def, integration });
    await new Promise<void>((resolve, reject) => {
        s.egress.dispatch({ method, url, headers }, new Relay(method, res, opts.alwaysHeaders, resolve, reject));
    });
}

/**
 * Relays one upstream response to the app as the general route does: the same header filter, small bodies of
 * known length in one write (with Fastify's defaults for a Buffer reply), larger ones streamed with backpressure.
 */
class Relay implements Dispatcher.DispatchHandler {
    private buffered: Buffer[] | undefined;
    private headers: OutgoingHttpHeaders | undefined;
    private status = 0;
    private discard = false;
    private clientGone = false;
    private readonly method: string;
    private readonly res: ServerResponse;
    private readonly alwaysHeaders: Readonly<Record<string, string>>;
    private readonly resolve: () => void;
    private readonly reject: (err: unknown) => void;

    constructor(method: string, res: ServerResponse, alwaysHeaders: Readonly<Record<string, string>>, resolve: () => void, reject: (err: unknown) => void) {
        this.method = method;
        this.res = res;
        this.alwaysHeaders = alwaysHeaders;
        this.resolve = resolve;
        this.reject = reject;
    }

    // Its presence is what makes undici use the controller API for this handler.
    onRequestStart(controller: Dispatcher.DispatchController): void {
        // The app hung up before we answered: stop the upstream call instead of finishing it for nobody.
        const onClose = () => {
            if (this.res.writableFinished) return;
            this.clientGone = true;
            controller.abort(new Error('client closed the request'));
        };
        if (this.res.destroyed) onClose();
        else this.res.once('close', onClose);
    }

    onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
        if (statusCode < 200) return;
        this.status = statusCode;
        const ok = statusCode >= 200 && statusCode < 300;
        const out: OutgoingHttpHeaders = { ...this.alwaysHeaders };
        for (const name in headers) {
            const value = headers[name];
            if (value !== undefined && passesThrough(name, ok)) out[name] = value;
        }
        if (hasNoBody(statusCode, this.method)) {
            this.discard = true;
            this.res.writeHead(statusCode, out);
            this.res.end();
            return;
        }
        if (Number(headers['content-length'] ?? NaN) <= SMALL_BODY_BYTES) {
            this.headers = out;
            this.buffered = [];
            return;
        }
        this.res.writeHead(statusCode, out);
    }

    onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (this.discard) return;
        if (this.buffered) {
            this.buffered.push(chunk);
            return;
        }
        if (!this.res.write(chunk)) {
            controller.pause();
            this.res.once('drain', () => controller.resume());
        }
    }

    onResponseEnd(): void {
        if (this.buffered && this.headers) {
            const body = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
            const headers = this.headers;
            headers['content-length'] = body.length;
            headers['content-type'] ??= 'application/octet-stream';
            this.res.writeHead(this.status, headers);
            this.res.end(body);
        } else if (!this.discard) {
            this.res.end();
        }
        this.resolve();
    }

    onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
        this.reject(this.clientGone ? fail('client_closed_request', { cause: error }) : toNetworkError(error));
    }
}
