import { z } from 'zod';
import { defineRoute, issuesOf, type RouteDef } from '../http/route.ts';
import { fail } from '../errors.ts';
import { connectionRoutes } from './routes.ts';
import { connectionIdSchema, connectionParams, createConnectionBody } from './schemas.ts';
import { legacyImport, type LegacyImportBody } from './legacy-import.ts';

// biome-ignore lint/suspicious/noExplicitAny: a route of any schema types, re-mounted as it is
type AnyRoute = RouteDef<any, any, any, any>;

function modernRoute(method: string, url: string): AnyRoute {
    const def = (connectionRoutes as AnyRoute[]).find((r) => r.method === method && r.url === url);
    if (!def) throw new Error(`no ${method} ${url} route`);
    return def;
}

/** The modern route, unchanged, under its legacy path: one implementation, two URLs. */
const alias = (method: string, modern: string, legacy: string): AnyRoute => ({ ...modernRoute(method, modern), url: legacy });

const modernCreate = modernRoute('POST', '/connections');

const legacyKey = z.string().min(1).max(255);

const legacyCreateBody = z.looseObject({
    provider_config_key: legacyKey.optional(),
    connection_id: connectionIdSchema.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    connection_config: z.record(z.string(), z.unknown()).optional(),
    access_token: z.string().optional(),
    refresh_token: z.string().optional(),
    expires_at: z.union([z.string(), z.number()]).optional(),
    expires_in: z.coerce.number().optional(),
    no_expiration: z.boolean().optional(),
    raw: z.record(z.string(), z.unknown()).optional(),
    oauth_client_id_override: z.string().optional(),
    oauth_client_secret_override: z.string().optional(),
    oauth_token: z.string().optional(),
    oauth_token_secret: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    api_key: z.string().optional(),
    app_id: z.union([z.string(), z.number()]).optional(),
    installation_id: z.union([z.string(), z.number()]).optional()
}) satisfies z.ZodType<LegacyImportBody>;

/**
 * The singular `/connection` routes Python clients and `@nangohq/node` up to 0.66 call (docs/compatibility.md,
 * "Legacy routes"). All but three are the plural routes under another path; the per-id metadata routes and the
 * flat-body import translate their input and call the same code.
 */
export const legacyConnectionRoutes: AnyRoute[] = [
    alias('GET', '/connections', '/connection'),
    alias('GET', '/connections/:connectionId', '/connection/:connectionId'),
    alias('DELETE', '/connections/:connectionId', '/connection/:connectionId'),
    alias('POST', '/connections/metadata', '/connection/metadata'),
    alias('PATCH', '/connections/metadata', '/connection/metadata'),
    // Nango's oldest metadata routes: the body is the metadata itself; the key comes from the query or a header.
    ...(['POST', 'PATCH'] as const).map((method) =>
        defineRoute({
            method,
            url: '/connection/:connectionId/metadata',
            auth: 'secret',
            params: connectionParams,
            query: z.object({ provider_config_key: legacyKey.optional() }).strict(),
            headers: z.looseObject({ 'provider-config-key': legacyKey.optional() }),
            body: z.record(z.string(), z.unknown()),
            handler: async ({ env, params, query, headers, body, reply }, s) => {
                const key = query.provider_config_key ?? headers['provider-config-key'];
                if (!key) throw fail('missing_provider_config');
                const missing = await s.connections.setMetadata(env.id, key, [params.connectionId], body, method === 'PATCH');
                if (missing.length) throw fail('unknown_connection');
                reply.code(method === 'POST' ? 201 : 200);
                return body;
            }
        })
    ),
    // The flat-body import: credentials as top-level fields, read by the integration's auth mode, then stored by
    // POST /connections itself (same checks, webhooks and scripts). Answers the body with the connection id, as Nango.
    defineRoute({
        method: 'POST',
        url: '/connection',
        auth: 'secret',
        body: legacyCreateBody,
        handler: async (input, s) => {
            const { env, body } = input;
            if (!body.provider_config_key) throw fail('missing_provider_config');
            const integration = await s.integrations.get(env.id, body.provider_config_key);
            if (!integration) throw fail('unknown_provider_config');
            const def = s.catalogue.get(integration.provider);
            if (!def) throw fail('unknown_provider', { message: `The integration's provider "${integration.provider}" is not in the catalogue` });
            const modern = createConnectionBody.safeParse(legacyImport(def.auth_mode, body, new Date()));
            if (!modern.success) throw fail('invalid_body', { errors: issuesOf(modern.error) });
            const created = (await modernCreate.handler({ ...input, body: modern.data }, s)) as { connection_id: string };
            return { ...body, connection_id: created.connection_id };
        }
    })
];
