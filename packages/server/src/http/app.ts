import Fastify, { type FastifyInstance, type FastifyError, type FastifyBaseLogger } from 'fastify';
import cors from '@fastify/cors';
import qs from 'qs';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { type ApiError, fail } from '../errors.ts';
import { errorAnswer } from './error-envelope.ts';
import type { VaultError } from '../vault/vault.ts';
import { registerRoute, servedOnPublic, type RouteDef, type Surface } from './route.ts';
import { bodyPending, closeUnread, lastAnswerLingering } from './unread-body.ts';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './json-depth.ts';
import type { Services } from '../services.ts';
import { lazyChild, type Logger } from '../log/logger.ts';
import { dashboardMounts } from '../dashboard/mount.ts';

declare module 'fastify' {
    interface FastifyContextConfig {
        rawBody?: boolean;
    }
}

// Nango's JSON-only prefixes (docs/compatibility.md, "Conventions and errors"): a present, non-JSON Content-Type there is a 415.
const jsonOnly = /^\/(oauth|api-auth|auth|providers|integrations|connections?|records|sync|action|connect|scripts|environment|config|admin)(\/|$|\?)/;

const corsOptions = {
    origin: '*',
    maxAge: 600,
    allowedHeaders: [
        'Authorization',
        'Content-Type',
        'Accept',
        'Origin',
        'X-Requested-With',
        'Nango-Activity-Log-Id',
        'Nango-Is-Dry-Run',
        'Nango-Is-Sync',
        'Provider-Config-Key',
        'Connection-Id',
        'Sentry-Trace',
        'Baggage'
    ],
    exposedHeaders: [
        'Authorization',
        'Etag',
        'Content-Type',
        'Content-Length',
        'X-Nango-Signature',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset'
    ]
};

// What @fastify/cors adds to every non-preflight answer with the options above; the proxy fast path sends the same.
const corsHeaders = { 'access-control-allow-origin': '*', 'access-control-expose-headers': corsOptions.exposedHeaders.join(', ') };

// biome-ignore lint/suspicious/noExplicitAny: routes have heterogeneous schema types
type AnyRoute = RouteDef<any, any, any, any>;

/** What a door in front of Fastify is told: the headers every answer carries (CORS), and whether the server is closing. */
export interface DoorOptions {
    alwaysHeaders: Readonly<OutgoingHttpHeaders>;
    closing: () => boolean;
}

/** A request listener's first step, before Fastify: true when it took the request (the proxy's fast door). */
export type Door = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Builds the HTTP app: body parsing, CORS, error envelope, then the declared routes. `fastDoor` (the proxy's, given
 * by the composition root) sees each request first; the HTTP layer knows no capability. With `surface: 'public'`
 * only the routes servedOnPublic() are registered: every other path is a 404 there (issue #12 item 5).
 */
export async function buildApp(
    services: Services,
    allRoutes: AnyRoute[],
    plugins: Array<(app: FastifyInstance) => Promise<void>> = [],
    fastDoor?: (opts: DoorOptions) => Door,
    surface: Surface = 'all'
): Promise<FastifyInstance> {
    const routes = surface === 'public' ? allRoutes.filter((r) => servedOnPublic(r)) : allRoutes;
    let closing = false;
    const app: FastifyInstance = Fastify({
        // The common proxied request, bodies included, is served before Fastify sees it (proxy/fast-path.ts);
        // everything else, and every request the fast door is unsure of, goes through Fastify. Both doors lead to
        // the same relay (proxy/relay.ts).
        serverFactory: (handler, opts) => {
            const fast = fastDoor?.({ alwaysHeaders: corsHeaders, closing: () => closing }) ?? (() => false);
            const tracing = services.tracing;
            const server = createServer(timeoutOptions(services.config.requestTimeoutMs), (req, res) => {
                if (tracing) tracing.request(req, res, () => fast(req, res) || handler(req, res));
                else if (!fast(req, res)) handler(req, res);
            });
            // What Fastify applies to the server it creates itself.
            const { keepAliveTimeout, requestTimeout, connectionTimeout, maxRequestsPerSocket } = opts as Record<string, unknown>;
            if (typeof keepAliveTimeout === 'number') server.keepAliveTimeout = keepAliveTimeout;
            if (typeof requestTimeout === 'number') server.requestTimeout = requestTimeout;
            if (typeof connectionTimeout === 'number') server.setTimeout(connectionTimeout);
            if (typeof maxRequestsPerSocket === 'number' && maxRequestsPerSocket > 0) server.maxRequestsPerSocket = maxRequestsPerSocket;
            return server;
        },
        loggerInstance: services.log as FastifyBaseLogger,
        bodyLimit: services.config.bodyLimit,
        // Headers and body must arrive within this time, on every route and the proxy fast path alike (it is the
        // node:http server's requestTimeout): a client trickling its body is answered 408 and disconnected.
        requestTimeout: services.config.requestTimeoutMs,
        routerOptions: {
            querystringParser: (s) => qs.parse(s, { arrayLimit: 100, depth: 5, parameterLimit: 1000 }),
            // Nango's path names and ids run to 255 characters (connection ids, sync and variant names), three times
            // that percent-encoded; the router's default of 100 answered 414 where Nango validates and answers 400.
            maxParamLength: 1024
        },
        genReqId: () => randomUUID(),
        // One line per request from our onResponse hook instead of Fastify's two.
        logController: new Fastify.LogController({ disableRequestLogging: true }),
        // Most requests never log: create the per-request child on first use only (see lazyChild).
        childLoggerFactory: (logger, bindings, opts) => lazyChild(logger as Logger, bindings, opts as Record<string, unknown>) as FastifyBaseLogger,
        return503OnClosing: true,
        forceCloseConnections: true
    });

    app.addHook('preClose', (done) => {
        closing = true;
        done();
    });

    // WebDAV verbs some provider APIs use through the proxy (docs/compatibility.md, "Proxy").
    app.addHttpMethod('PROPFIND', { hasBody: true });
    app.addHttpMethod('REPORT', { hasBody: true });
    await app.register(cors, corsOptions);

    app.decorateRequest('caller', null);

    // Callback style: an async hook costs a promise on every request, and this one almost never fails.
    app.addHook('onRequest', (req, _reply, done) => {
        // No route: answered before the body is read (the not-found handler would read it first).
        if (req.is404) return done(notFound(req.method, req.url));
        const type = req.headers['content-type'];
        if (type && jsonOnly.test(req.url) && !/^application\/json\b/i.test(type)) return done(fail('invalid_content_type'));
        done();
    });

    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
        if (req.routeOptions.config.rawBody) return done(null, body);
        if (body.length === 0) return done(null, undefined);
        // Issue #10 item 6: one cheap pass over the bytes before building the value.
        if (jsonDeeperThan(body, MAX_JSON_DEPTH))
            return done(fail('invalid_body', { message: `The JSON body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels` }), undefined);
        try {
            done(null, JSON.parse(body.toString('utf8')));
        } catch {
            done(fail('invalid_json'), undefined);
        }
    });
    // Everything else arrives as bytes: the proxy forwards them, JSON routes reject them with 415 above.
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    // Refused before its body was read (key, content type, size, no route): close rather than receive the rest.
    app.addHook('onResponse', (req, _reply, done) => {
        if (bodyPending(req.raw)) closeUnread(req.raw);
        done();
    });

    // Issue #16 item 2: every answered request, by route template (a URL that matched no route counts as `unmatched`).
    const requests = services.metrics.httpRequests;
    app.addHook('onResponse', (req, reply, done) => {
        requests.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
        done();
    });
    const tracing = services.tracing;
    if (tracing) {
        // The handler runs in the request's span even when its body arrived in socket callbacks (Tracing.resume).
        app.addHook('preHandler', (req, _reply, done) => {
            tracing.route(req.raw, req.routeOptions.url ?? 'unmatched');
            tracing.resume(req.raw, done);
        });
        app.addHook('onResponse', (req, _reply, done) => {
            tracing.route(req.raw, req.routeOptions.url ?? 'unmatched');
            done();
        });
    }

    // The level is fixed at boot; below info the hook would do nothing on every request, so it is not added.
    if (services.log.isLevelEnabled('info')) {
        app.addHook('onResponse', (req, reply, done) => {
            req.log.info({ req, res: reply, ms: Math.round(reply.elapsedTime) }, 'request');
            done();
        });
    }

    app.setErrorHandler(async (error: FastifyError | ApiError | VaultError, req, reply) => {
        const { apiError, answer } = errorAnswer(error);
        if (apiError.status >= 500) req.log.error({ err: error, errorId: apiError.payload, route: req.routeOptions.url, method: req.method }, 'request failed');
        if (bodyPending(req.raw)) {
            // Stop receiving now (a chunked body over the limit is otherwise read and dropped until the answer is
            // out), say `Connection: close` so no client reuses the connection, and let the close linger so the
            // answer is not reset away while the client is still sending.
            lastAnswerLingering(req.raw);
            answer.headers['connection'] = 'close';
        }
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
    app.setNotFoundHandler(async (req, reply) => {
        return reply.code(404).send(notFound(req.method, req.url).toJSON());
    });

    for (const plugin of plugins) await plugin(app);
    for (const route of routes) if (!route.streamBody) registerRoute(app, services, route, surface);
    // The operator's dashboard calls the same routes with its session (docs/dashboard.md): private listener only.
    if (surface === 'all') for (const route of dashboardMounts(routes)) registerRoute(app, services, route, surface);
    // Routes that stream the body themselves (the proxy) get a scope whose only parser hands over the unread stream.
    await app.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
        for (const route of routes) if (route.streamBody) registerRoute(scope, services, route, surface);
    });
    return app;
}

function notFound(method: string, url: string): ApiError {
    return fail('route_not_found', { message: `No route ${method} ${url.split('?')[0]}` });
}

/**
 * node:http settings that make `requestTimeout` hold: Node checks timeouts on an interval (30 s by default), so a
 * short timeout needs a short check; and when headersTimeout (60 s by default) is the longer of the two, Node
 * swaps them, which would give a trickling body the 60 s instead.
 */
function timeoutOptions(requestTimeoutMs: number): { connectionsCheckingInterval: number; headersTimeout: number } {
    return {
        connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeoutMs / 4))),
        headersTimeout: Math.min(60_000, requestTimeoutMs)
    };
}
