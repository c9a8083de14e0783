import { z } from 'zod';
import { defineRoute, issuesOf, type RouteDef } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import { integrationRoutes } from './routes.ts';
import { createIntegrationBody, emptyQuery, patchIntegrationBody, uniqueKeySchema } from './schemas.ts';

// biome-ignore lint/suspicious/noExplicitAny: a route of any schema types, called as it is
type AnyRoute = RouteDef<any, any, any, any>;

function modernRoute(method: string, url: string): AnyRoute {
    const def = (integrationRoutes as AnyRoute[]).find((r) => r.method === method && r.url === url);
    if (!def) throw new Error(`no ${method} ${url} route`);
    return def;
}
const modernCreate = modernRoute('POST', '/integrations');
const modernPatch = modernRoute('PATCH', '/integrations/:uniqueKey');
const modernDelete = modernRoute('DELETE', '/integrations/:uniqueKey');

/** The body of Nango's legacy `POST` / `PUT /config` (docs/compatibility.md, "Legacy routes"). */
const legacyConfigBody = z.looseObject({
    provider_config_key: z.string().min(1).max(255).optional(),
    provider: z.string().min(1).max(255).optional(),
    oauth_client_id: z.string().optional(),
    oauth_client_secret: z.string().optional(),
    oauth_scopes: z.union([z.string(), z.array(z.unknown())]).optional(),
    app_link: z.string().optional(),
    custom: z.record(z.string(), z.string()).optional()
});
type LegacyConfigBody = z.infer<typeof legacyConfigBody>;

/** Nango stored scopes comma-separated, and turned spaces into commas on the way in. */
function scopesOf(b: LegacyConfigBody): string | undefined {
    if (Array.isArray(b.oauth_scopes)) throw fail('invalid_oauth_scopes');
    if (!b.oauth_scopes) return undefined;
    return b.oauth_scopes
        .replace(/ /g, ',')
        .split(',')
        .filter((w) => w)
        .join(',');
}

/** Which legacy fields each auth mode requires, with Nango's code for the missing one. */
function requireFields(def: ProviderDefinition, b: LegacyConfigBody): void {
    const mode = def.auth_mode;
    if (mode === 'APP') {
        if (!b.oauth_client_id) throw fail('missing_app_id');
        if (!b.oauth_client_secret) throw fail('missing_app_secret');
        return;
    }
    if (['OAUTH1', 'OAUTH2', 'TBA', 'CUSTOM'].includes(mode) && !b.oauth_client_id) throw fail('missing_client_id');
    if (['OAUTH1', 'OAUTH2', 'TBA'].includes(mode) && !b.oauth_client_secret) throw fail('missing_client_secret');
}

/** The `credentials` object of `/integrations` that the legacy fields stand for, or undefined for modes without a client. */
function credentialsOf(def: ProviderDefinition, b: LegacyConfigBody): Record<string, unknown> | undefined {
    const scopes = scopesOf(b);
    switch (def.auth_mode) {
        case 'OAUTH1':
        case 'OAUTH2':
        case 'TBA':
            return { type: def.auth_mode, client_id: b.oauth_client_id, client_secret: b.oauth_client_secret, ...(scopes ? { scopes } : {}) };
        case 'APP':
            // Nango's legacy fields for a GitHub App: the app id as the client id, the private key as the client secret.
            return { type: 'APP', app_id: b.oauth_client_id, app_link: b.app_link, private_key: b.oauth_client_secret };
        case 'CUSTOM':
            return {
                type: 'CUSTOM',
                client_id: b.oauth_client_id,
                client_secret: b.oauth_client_secret,
                app_id: b.custom?.['app_id'],
                app_link: b.app_link,
                private_key: b.custom?.['private_key']
            };
        default:
            return undefined;
    }
}

/** The catalogue entry the body names, with Nango's codes when it names none or an unknown one. */
function providerOf(s: Services, b: LegacyConfigBody): { key: string; provider: string; def: ProviderDefinition } {
    if (!b.provider_config_key) throw fail('missing_provider_config');
    if (!b.provider) throw fail('missing_provider_template');
    const def = s.catalogue.get(b.provider);
    if (!def) throw fail('unknown_provider_template');
    return { key: b.provider_config_key, provider: b.provider, def };
}

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
    const res = schema.safeParse(value);
    if (!res.success) throw fail('invalid_body', { errors: issuesOf(res.error) });
    return res.data;
}

/**
 * Nango's integration routes before `/integrations` (removed from Nango in 2025, still called by older apps): thin
 * translations onto the `/integrations` routes, so the same checks and storage apply.
 */
export const legacyIntegrationRoutes: AnyRoute[] = [
    defineRoute({
        method: 'GET',
        url: '/config',
        auth: 'secret',
        query: emptyQuery,
        handler: async ({ env }, s) => ({ configs: (await s.integrations.list(env.id)).map((i) => ({ unique_key: i.uniqueKey, provider: i.provider })) })
    }),
    defineRoute({
        method: 'POST',
        url: '/config',
        auth: 'secret',
        query: emptyQuery,
        body: legacyConfigBody,
        handler: async (input, s) => {
            const { key, provider, def } = providerOf(s, input.body);
            requireFields(def, input.body);
            if (await s.integrations.get(input.env.id, key)) throw fail('duplicate_provider_config');
            const credentials = credentialsOf(def, input.body);
            const body = parsed(createIntegrationBody, { provider, unique_key: key, ...(credentials ? { credentials } : {}) });
            await modernCreate.handler({ ...input, body }, s);
            return { config: { unique_key: key, provider } };
        }
    }),
    defineRoute({
        method: 'PUT',
        url: '/config',
        auth: 'secret',
        query: emptyQuery,
        body: legacyConfigBody,
        handler: async (input, s) => {
            const { key, provider, def } = providerOf(s, input.body);
            if (def.auth_mode === 'API_KEY' || def.auth_mode === 'BASIC') throw fail('provider_config_edit_not_allowed');
            requireFields(def, input.body);
            const existing = await s.integrations.get(input.env.id, key);
            if (!existing) throw fail('unknown_provider_config');
            if (existing.provider !== provider) {
                throw fail('invalid_body', {
                    errors: [{ code: 'custom', message: `The integration uses the provider "${existing.provider}"; it cannot change`, path: ['provider'] }]
                });
            }
            const credentials = credentialsOf(def, input.body);
            if (credentials) {
                const body = parsed(patchIntegrationBody, { credentials });
                await modernPatch.handler({ ...input, params: { uniqueKey: key }, query: {}, body }, s);
            }
            return { config: { unique_key: key, provider } };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/config/:providerConfigKey',
        auth: 'secret',
        params: z.object({ providerConfigKey: uniqueKeySchema }).strict(),
        query: emptyQuery,
        handler: async (input, s) => {
            const uniqueKey = input.params.providerConfigKey;
            if (!(await s.integrations.get(input.env.id, uniqueKey))) throw fail('unknown_provider_config');
            await modernDelete.handler({ ...input, params: { uniqueKey } }, s);
            input.reply.code(204).send();
        }
    })
];
