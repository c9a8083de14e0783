import Fastify, { type FastifyInstance, type FastifyError, type FastifyBaseLogger } from 'fastify';
import cors from '@fastify/cors';
import qs from 'qs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { ApiError, fail } from './errors.ts';
import { toApiError } from './error-envelope.ts';
import type { VaultError } from '../vault/vault.ts';
import { registerRoute, type RouteDef } from './route.ts';
import { proxyFastPath } from '../proxy/fast-path.ts';
import type { Services } from '../services.ts';
import { lazyChild, type Logger } from '../log/logger.ts';

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
        'Authorization', 'Content-Type', 'Accept', 'Origin', 'X-Requested-With', 'Nango-Activity-Log-Id', 'Nango-Is-Dry-Run',
        'Nango-Is-Sync', 'Provider-Config-Key', 'Connection-Id', 'Sentry-Trace', 'Baggage'
    ],
    exposedHeaders: ['Authorization', 'Etag', 'Content-Type', 'Content-Length', 'X-Nango-Signature', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']
};

// What @fastify/cors adds to every non-preflight answer with the options above; the proxy fast path sends the same.
const corsHeaders = { 'access-control-allow-origin': '*', 'access-control-expose-headers': corsOptions.exposedHeaders.join(', ') };

// biome-ignore lint/suspicious/noExplicitAny: routes have heterogeneous schema types
type AnyRoute = RouteDef<any, any, any, any>;

/** Builds the HTTP app: body parsing, CORS, error envelope, then the declared routes. */
export async function buildApp(services: Services, routes: AnyRoute[], plugins: Array<(app: FastifyInstance) => Promise<void>> = []): Promise<FastifyInstance> {
    let closing = false;
    const app: FastifyInstance = Fastify({
        // The common proxied request is served before Fastify sees it (proxy/fast-path.ts); everything else, and
        // every request the fast path is unsure of, goes through Fastify as usual.
        serverFactory: (handler, opts) => {
            const fast = proxyFastPath(services, { alwaysHeaders: corsHeaders, closing: () => closing });
            const server = createServer((req, res) => {
                if (!fast(req, res)) handler(req, res);
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

    // Callback style: an async hook costs a promise on every request, and this one almost never fails.
    app.addHook('onRequest', (req, _reply, done) => {
        const type = req.headers['content-type'];
        if (type && jsonOnly.test(req.url) && !/^application\/json\b/i.test(type)) return done(fail('invalid_content_type'));
        done();
    });

    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
        if (req.routeOptions.config.rawBody) return done(null, body);
        if (body.length === 0) return done(null, undefined);
        try {
            done(null, JSON.parse(body.toString('utf8')));
        } catch {
            done(fail('invalid_json'), undefined);
        }
    });
    // Everything else arrives as bytes: the proxy forwards them, JSON routes reject them with 415 above.
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    // The level is fixed at boot; below info the hook would do nothing on every request, so it is not added.
    if (services.log.isLevelEnabled('info')) {
        app.addHook('onResponse', (req, reply, done) => {
            req.log.info({ req, res: reply, ms: Math.round(reply.elapsedTime) }, 'request');
            done();
        });
    }

    app.setErrorHandler(async (error: FastifyError | ApiError | VaultError, req, reply) => {
        const apiError = toApiError(error);
        if (apiError.status >= 500) req.log.error({ err: error, errorId: apiError.payload }, 'request failed');
        if (apiError.headers) reply.headers(apiError.headers);
        return reply.code(apiError.status).type('application/json').send(apiError.toJSON());
    });
    app.setNotFoundHandler(async (req, reply) => {
        const err = fail('route_not_found', { message: `No route ${req.method} ${req.url.split('?')[0]}` });
        return reply.code(404).send(err.toJSON());
    });

    for (const plugin of plugins) await plugin(app);
    for (const route of routes) registerRoute(app, services, route);
    return app;
}
