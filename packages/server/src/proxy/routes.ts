import { defineRoute } from '../http/route.ts';
import { fail } from '../http/errors.ts';
import { proxyHeaders, proxyHeadersFastPath, forwardedHeaders } from './control-headers.ts';
import { providerBaseUrl, isOverrideAllowed } from './target.ts';
import { forward } from './forward.ts';

// Nango copies only these on success; error responses pass through with everything but hop-by-hop headers.
const successHeaders = new Set(['content-type', 'content-encoding', 'content-disposition', 'content-length', 'mcp-session-id', 'x-request-id', 'x-correlation-id']);
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer']);

const SMALL_BODY_BYTES = 64 * 1024;

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
            const integration = await s.integrations.get(env.id, headers['provider-config-key']);
            if (!integration) throw fail('unknown_provider_config');
            const def = s.catalogue.get(integration.provider);
            if (!def) throw fail('unknown_provider', { message: `Provider "${integration.provider}" is not in the catalogue` });
            const stored = await s.connections.get(env.id, integration.uniqueKey, headers['connection-id']);
            if (!stored) throw fail('unknown_connection', { status: 400 });
            const connection = await s.refresher.fresh(stored);

            const providerBase = providerBaseUrl(def, integration, connection.connectionConfig);
            let base = providerBase;
            const override = headers['base-url-override'];
            if (override) {
                if (!isOverrideAllowed(new URL(override), def, integration, providerBase)) throw fail('base_url_override_not_allowed');
                base = override;
            }
            if (!base) throw fail('unsupported_provider');

            const appHeaders = forwardedHeaders(req.headers);
            if (!appHeaders['content-type'] && req.headers['content-type']) appHeaders['content-type'] = req.headers['content-type'];
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
                if (ok ? successHeaders.has(name) : !hopByHop.has(name) && !name.startsWith('access-control-')) reply.header(name, value);
            }
            if (res.statusCode === 204 || res.statusCode === 304 || req.method === 'HEAD') {
                res.body.resume();
                return reply.send();
            }
            // Small bodies of known length go out in one write; the rest (and chunked/unknown length) stream.
            const length = Number(res.headers['content-length'] ?? NaN);
            if (length <= SMALL_BODY_BYTES) return reply.send(Buffer.from(await res.body.arrayBuffer()));
            return reply.send(res.body);
        }
    })
];
