import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Services } from '../services.ts';
import { writeError } from '../http/error-envelope.ts';
import { authenticateSecret } from '../http/route.ts';
import { admitConnection, admitKey, withRateLimitHeaders } from './limits.ts';
import type { Door, DoorOptions } from '../http/app.ts';
import { proxyHeadersFastPath, type ProxyControl } from './control-headers.ts';
import { resolveProxyTarget } from './resolve.ts';
import { relay } from './relay.ts';
import { secondsSince } from '../metrics/metrics.ts';

/**
 * The fast door to the proxy relay: the common proxied request served on node:http directly, before Fastify's
 * request lifecycle, which was the larger part of a proxied request's cost (bench/proxy). It takes GET, HEAD,
 * DELETE, POST, PUT and PATCH, with or without a body, carrying only the two required control headers and what
 * the official SDK always adds (so no retries and no base URL override).
 *
 * The contract is the one of proxyHeadersFastPath: take a request only when the Fastify route would parse it
 * the same way, and hand everything else to Fastify. Past parsing, both doors run the same relay (relay.ts)
 * and render errors with the same envelope; proxy-fast-path-parity.test.ts checks the parsing.
 */

const METHODS = new Set(['GET', 'HEAD', 'DELETE', 'POST', 'PUT', 'PATCH']);
// find-my-way answers a malformed escape in the wildcard with 400; such a URL takes the general path.
const malformedEscape = /%(?![0-9a-fA-F]{2})/;
const SLASH = 47;
const QUESTION = 63;

function eligible(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    if (!url.startsWith('/proxy')) return false;
    if (url.length > 6 && url.charCodeAt(6) !== SLASH && url.charCodeAt(6) !== QUESTION) return false;
    if (!METHODS.has(req.method ?? '')) return false;
    return !malformedEscape.test(url);
}

/** Returns the request listener's first step: true when the fast door took the request. */
export function proxyFastPath(s: Services, opts: DoorOptions): Door {
    const logRequests = s.log.isLevelEnabled('info');
    return (req, res) => {
        if (!eligible(req) || opts.closing()) return false;
        const control = proxyHeadersFastPath(req.headers);
        if (!control) return false;
        const started = performance.now();
        s.tracing?.route(req, '/proxy/*');
        let reqId: string | undefined;
        const id = () => (reqId ??= randomUUID());
        // The route template the Fastify door would report (metrics: one series for both doors).
        res.once('finish', () =>
            s.metrics.httpRequests.observe({ method: req.method!, route: '/proxy/*', status: String(res.statusCode) }, secondsSince(started))
        );
        if (logRequests) {
            res.once('finish', () => {
                // `fastPath` says which door served the request (operators comparing doors; the parity test).
                s.log.info(
                    {
                        reqId: id(),
                        req: { id: id(), method: req.method, url: req.url },
                        res: { statusCode: res.statusCode },
                        ms: Math.round(performance.now() - started),
                        fastPath: true
                    },
                    'request'
                );
            });
        }
        serve(s, req, res, control, opts).catch((err: unknown) =>
            writeError(res, err, opts.alwaysHeaders, { error: (obj, msg) => s.log.error({ reqId: id(), ...obj }, msg) })
        );
        return true;
    };
}

async function serve(s: Services, req: IncomingMessage, res: ServerResponse, control: ProxyControl, opts: DoorOptions): Promise<void> {
    const env = await authenticateSecret(req, s);
    if (!s.limits.enabled) return relay(s, { req, res, alwaysHeaders: opts.alwaysHeaders }, await resolveProxyTarget(s, env, control), control);
    const keyHeaders = await admitKey(s, req.headers, env);
    const target = await resolveProxyTarget(s, env, control).catch((err: unknown) => {
        throw withRateLimitHeaders(err, keyHeaders);
    });
    const limitHeaders = await admitConnection(s, req.headers, env, target, keyHeaders);
    await relay(s, { req, res, alwaysHeaders: { ...opts.alwaysHeaders, ...limitHeaders } }, target, control);
}
