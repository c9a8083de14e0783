import { defineRoute } from '../http/route.ts';
import { fail } from '../http/errors.ts';
import { proxyHeaders, proxyHeadersFastPath, appHeadersOf } from './control-headers.ts';
import { resolveProxyTarget } from './resolve.ts';
import { forward } from './forward.ts';
import { readBody } from '../egress/egress.ts';
import { hasNoBody, passesThrough, SMALL_BODY_BYTES } from './response-headers.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'REPORT'] as const;

export const proxyRoutes = [
    defineRoute({
        method: [...METHODS],
        url: ['/proxy', '/proxy/*'],
        auth: 'secret',
        headers: proxyHeaders,
        headersFastPath: proxyHeadersFastPath,
        rawBody: true,
        handler: async ({ env, headers, req, reply }, s) => {
            const { integration, def, connection, base } = await resolveProxyTarget(s, env, headers);
            const appHeaders = appHeadersOf(req.headers);
            const body = Buffer.isBuffer(req.body) ? req.body : undefined;
            const abort = new AbortController();
            // The app hung up before we answered: stop the upstream call instead of finishing it for nobody.
            reply.raw.once('close', () => {
                if (!reply.raw.writableFinished) abort.abort();
            });
            const res = await forward(s, connection, {
                method: req.method,
                base,
                pathAndQuery: req.url.replace(/^\/proxy/, ''),
                appHeaders,
                body,
                control: headers,
                def,
                integration,
                signal: abort.signal
            }).catch((err: unknown) => {
                throw abort.signal.aborted ? fail('client_closed_request', { cause: err }) : err;
            });

            reply.code(res.statusCode);
            const ok = res.statusCode >= 200 && res.statusCode < 300;
            // for…in rather than Object.entries: no array per header on every response, same order.
            for (const name in res.headers) {
                const value = res.headers[name];
                if (value === undefined) continue;
                if (passesThrough(name, ok)) reply.header(name, value);
            }
            if (hasNoBody(res.statusCode, req.method)) {
                res.body.resume();
                return reply.send();
            }
            const length = Number(res.headers['content-length'] ?? NaN);
            if (length <= SMALL_BODY_BYTES) return reply.send(await readBody(res, SMALL_BODY_BYTES));
            return reply.send(res.body);
        }
    })
];
