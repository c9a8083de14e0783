import type { OutgoingHttpHeaders } from 'node:http';
import { defineRoute } from '../http/route.ts';
import { writeError } from '../http/error-envelope.ts';
import { proxyHeaders, proxyHeadersFastPath } from './control-headers.ts';
import { resolveProxyTarget } from './resolve.ts';
import { relay } from './relay.ts';
import { admitConnection } from './limits.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'REPORT'] as const;

/**
 * The Fastify door to the proxy relay: every proxied request the fast door leaves (control headers such as
 * Retries or Base-Url-Override, WebDAV verbs, malformed escapes). Fastify authenticates and validates; the
 * body is left unread (streamBody) and, once the target is known, the reply is hijacked and the shared relay
 * answers on the raw response.
 */
export const proxyRoutes = [
    defineRoute({
        method: [...METHODS],
        url: ['/proxy', '/proxy/*'],
        auth: 'secret',
        headers: proxyHeaders,
        headersFastPath: proxyHeadersFastPath,
        streamBody: true,
        handler: async ({ env, headers, req, reply }, s) => {
            const target = await resolveProxyTarget(s, env, headers);
            // The key's limit was taken by the route's onRequest hook; its RateLimit fields are on the reply.
            if (s.limits.enabled) reply.headers(await admitConnection(s, req.headers, env, target, reply.getHeaders() as Record<string, string>));
            // What Fastify's hooks put on the reply so far (CORS, RateLimit) goes on the raw answer too.
            const alwaysHeaders = reply.getHeaders() as OutgoingHttpHeaders;
            reply.hijack();
            await relay(s, { req: req.raw, res: reply.raw, alwaysHeaders }, target, headers).catch((err: unknown) =>
                writeError(reply.raw, err, alwaysHeaders, req.log)
            );
        }
    })
];
