import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { apiIntegration } from './format.ts';
import {
    createIntegrationBody,
    emptyQuery,
    getIntegrationQuery,
    patchIntegrationBody,
    replaceIntegrationBody,
    uniqueKeyParams,
    type IntegrationCredentials
} from './schemas.ts';
import type { Services } from '../services.ts';
import type { Integration } from './store.ts';

// Which integration credential types each provider auth mode takes (docs/compatibility.md, "Integrations").
const credentialTypesFor: Record<string, Array<IntegrationCredentials['type']>> = {
    OAUTH1: ['OAUTH1'],
    OAUTH2: ['OAUTH2'],
    TBA: ['TBA', 'OAUTH2'],
    APP: ['APP'],
    CUSTOM: ['CUSTOM'],
    // Optional: without credentials the integration registers its own client at the MCP server (RFC 7591).
    MCP_OAUTH2: ['OAUTH2']
};

function checkCredentials(services: Services, provider: string, credentials: IntegrationCredentials | undefined, required: boolean): void {
    const def = services.catalogue.get(provider);
    if (!def) throw fail('invalid_body', { errors: [{ code: 'invalid_string', message: `Unknown provider "${provider}"`, path: ['provider'] }] });
    const allowed = credentialTypesFor[def.auth_mode];
    if (credentials && !allowed?.includes(credentials.type)) {
        throw fail('invalid_body', {
            errors: [
                {
                    code: 'invalid_type',
                    message: `Provider "${provider}" uses ${def.auth_mode}; credentials of type ${credentials.type} do not apply`,
                    path: ['credentials', 'type']
                }
            ]
        });
    }
    if (!credentials && allowed && required && def.auth_mode !== 'MCP_OAUTH2') {
        throw fail('invalid_body', {
            errors: [{ code: 'invalid_type', message: `Provider "${provider}" uses ${def.auth_mode}: credentials are required`, path: ['credentials'] }]
        });
    }
}

/**
 * A unique key another integration of the environment has. Nango answers `invalid_body` with this message (and the
 * create route's `uniqueKey` path), which apps may match; the code, `duplicate_provider_config` (Nango's
 * own code for the same conflict on POST /config), is what tells it apart from a malformed key without reading
 * the message.
 */
const uniqueKeyTaken = (path: string[]) =>
    fail('invalid_body', { errors: [{ code: 'duplicate_provider_config', message: 'Unique key already exists', path }] });

async function mustGet(services: Services, envId: number, key: string): Promise<Integration> {
    const integration = await services.integrations.get(envId, key);
    if (!integration) throw fail('not_found', { message: `Integration "${key}" does not exist` });
    return integration;
}

/** What the store creates from a create (or replace) body, under `uniqueKey`. */
const integrationInput = (uniqueKey: string, body: z.infer<typeof replaceIntegrationBody>) => ({
    uniqueKey,
    provider: body.provider,
    displayName: body.display_name,
    forwardWebhooks: body.forward_webhooks,
    integrationConfig: body.integration_config,
    custom: body.custom,
    credentials: body.credentials
});

export const integrationRoutes = [
    defineRoute({
        method: 'GET',
        url: '/integrations',
        auth: 'secret_or_session',
        query: emptyQuery,
        handler: async ({ env, session }, s) => {
            const allowed = session?.allowedIntegrations;
            const list = (await s.integrations.list(env.id)).filter((i) => !allowed || allowed.includes(i.uniqueKey));
            return { data: list.map((i) => apiIntegration(s, env.uuid, i)) };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/integrations/:uniqueKey',
        auth: 'secret_or_admin',
        params: uniqueKeyParams,
        query: getIntegrationQuery,
        handler: async ({ env, params, query }, s) => ({ data: apiIntegration(s, env.uuid, await mustGet(s, env.id, params.uniqueKey), query) })
    }),
    defineRoute({
        method: 'POST',
        url: '/integrations',
        auth: 'secret_or_admin',
        body: createIntegrationBody,
        handler: async ({ env, body }, s) => {
            checkCredentials(s, body.provider, body.credentials, true);
            const created = await s.integrations.create(env.id, integrationInput(body.unique_key, body));
            if (!created) throw uniqueKeyTaken(['uniqueKey']);
            return { data: apiIntegration(s, env.uuid, created) };
        }
    }),
    defineRoute({
        method: 'PATCH',
        url: '/integrations/:uniqueKey',
        auth: 'secret_or_admin',
        params: uniqueKeyParams,
        query: emptyQuery,
        body: patchIntegrationBody,
        handler: async ({ env, params, body }, s) => {
            const existing = await mustGet(s, env.id, params.uniqueKey);
            checkCredentials(s, existing.provider, body.credentials, false);
            const updated = await s.integrations.update(existing, {
                uniqueKey: body.unique_key,
                displayName: body.display_name,
                forwardWebhooks: body.forward_webhooks,
                integrationConfig: body.integration_config,
                custom: body.custom,
                credentials: body.credentials
            });
            if (updated === 'conflict') throw uniqueKeyTaken(['unique_key']);
            return { data: apiIntegration(s, env.uuid, updated) };
        }
    }),
    // Ours: a provider change in one step (`switchboard apply`, the operator). Deleting then creating through the
    // two routes above loses the integration when the create is refused; here a refusal changes nothing.
    defineRoute({
        method: 'POST',
        url: '/admin/integrations/:uniqueKey/replace',
        auth: 'secret_or_admin',
        params: uniqueKeyParams,
        query: emptyQuery,
        body: replaceIntegrationBody,
        handler: async ({ env, params, body }, s) => {
            const existing = await mustGet(s, env.id, params.uniqueKey);
            checkCredentials(s, body.provider, body.credentials, true);
            const replaced = await s.integrations.replace(existing, integrationInput(existing.uniqueKey, body));
            s.log.info({ environmentId: env.id, integration: existing.uniqueKey, from: existing.provider, to: body.provider }, 'integration replaced');
            return { data: apiIntegration(s, env.uuid, replaced) };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/integrations/:uniqueKey',
        auth: 'secret_or_admin',
        params: uniqueKeyParams,
        query: emptyQuery,
        handler: async ({ env, params }, s) => {
            const existing = await mustGet(s, env.id, params.uniqueKey);
            await s.integrations.delete(existing.id);
            return { success: true };
        }
    }),
    // Deprecated in Nango but still served there; kept for apps that never moved off it.
    defineRoute({
        method: 'GET',
        url: '/config/:providerConfigKey',
        auth: 'secret',
        params: z.object({ providerConfigKey: z.string().min(1).max(255) }).strict(),
        query: z.object({ include_creds: z.enum(['true', 'false']).optional() }).strict(),
        handler: async ({ env, params, query }, s) => {
            const i = await s.integrations.get(env.id, params.providerConfigKey);
            if (!i) throw fail('unknown_provider_config');
            const config: Record<string, unknown> = { unique_key: i.uniqueKey, provider: i.provider, syncs: [], actions: [] };
            if (query.include_creds === 'true') {
                const c = s.integrations.credentials(i);
                const def = s.catalogue.get(i.provider);
                const oauth = c && 'client_id' in c ? c : undefined;
                Object.assign(config, {
                    client_id: oauth?.client_id ?? null,
                    client_secret: oauth?.client_secret ?? null,
                    scopes: oauth && 'scopes' in oauth ? (oauth.scopes ?? null) : null,
                    app_link: c && 'app_link' in c ? c.app_link : null,
                    custom: s.integrations.customOf(i),
                    auth_mode: def?.auth_mode ?? null,
                    created_at: i.createdAt.toISOString(),
                    has_webhook: Boolean(def?.webhook_routing_script),
                    has_webhook_user_defined_secret: def?.webhook_user_defined_secret ?? false,
                    webhook_secret: oauth && 'webhook_secret' in oauth ? (oauth.webhook_secret ?? null) : null,
                    docs: def?.docs ?? null
                });
            }
            return { config };
        }
    })
];
