import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { assertConnectionConfig } from '../oauth/provider-endpoints.ts';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import { createSessionBody, reconnectSessionBody } from './schemas.ts';
import { sessionTags, type ConnectSession } from './sessions.ts';

async function checkIntegrationsExist(s: Services, env: Environment, keys: string[], path: (key: string, i: number) => Array<string | number>): Promise<void> {
    const known = new Set((await s.integrations.list(env.id)).map((i) => i.uniqueKey));
    const errors = keys.flatMap((k, i) => (known.has(k) ? [] : [{ code: 'invalid_string', message: `Integration "${k}" does not exist`, path: path(k, i) }]));
    if (errors.length) throw fail('invalid_body', { errors });
}

/** Issue #10 item 1: the session's connection_config defaults must suit each integration's provider (declared patterns). */
async function checkConfigDefaults(
    s: Services,
    env: Environment,
    defaults: Record<string, { connection_config?: Record<string, unknown> | undefined }> | undefined
): Promise<void> {
    for (const [key, d] of Object.entries(defaults ?? {})) {
        const { oauth_scopes_override: _scopes, ...config } = d.connection_config ?? {};
        const integration = await s.integrations.get(env.id, key);
        const def = integration && s.catalogue.get(integration.provider);
        if (def) assertConnectionConfig(def, config, 'app');
    }
}

function created(s: Services, token: string, expiresAt: Date) {
    return { data: { token, connect_link: `${s.config.serverUrl}/connect/?session_token=${token}`, expires_at: expiresAt.toISOString() } };
}

/** GET /connect/session data (docs/compatibility.md, "Connect sessions"). */
function describe(session: ConnectSession) {
    const u = session.endUser;
    const data: Record<string, unknown> = {
        endUser: u
            ? {
                  id: u.id,
                  display_name: u.display_name ?? null,
                  email: u.email ?? null,
                  tags: u.tags ?? {},
                  organization: session.organization ? { id: session.organization.id, display_name: session.organization.display_name ?? null } : null
              }
            : null,
        connectUISettings: { theme: { light: { primary: '#2563eb' }, dark: { primary: '#60a5fa' } }, defaultTheme: 'system', showWatermark: false }
    };
    if (session.allowedIntegrations) data['allowed_integrations'] = session.allowedIntegrations;
    if (session.integrationsConfigDefaults) data['integrations_config_defaults'] = session.integrationsConfigDefaults;
    if (session.reconnectConnectionUuid) data['isReconnecting'] = true;
    return data;
}

export const connectRoutes = [
    defineRoute({
        method: 'POST',
        url: '/connect/sessions',
        auth: 'secret',
        body: createSessionBody,
        handler: async ({ env, body, reply }, s) => {
            await checkIntegrationsExist(s, env, body.allowed_integrations ?? [], (_k, i) => ['allowed_integrations', i]);
            await checkIntegrationsExist(s, env, Object.keys(body.integrations_config_defaults ?? {}), (k) => ['integrations_config_defaults', k]);
            await checkConfigDefaults(s, env, body.integrations_config_defaults);
            const { token, expiresAt } = await s.connectSessions.create(env.id, {
                endUser: body.end_user ?? null,
                organization: body.organization ?? null,
                tags: sessionTags(body.end_user, body.organization, body.tags),
                allowedIntegrations: body.allowed_integrations?.length ? body.allowed_integrations : null,
                integrationsConfigDefaults: body.integrations_config_defaults ?? null,
                webhookUrlOverride: body.webhook_url_override || null,
                reconnectConnectionUuid: null
            });
            reply.code(201);
            return created(s, token, expiresAt);
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/connect/sessions/reconnect',
        auth: 'secret',
        body: reconnectSessionBody,
        handler: async ({ env, body, reply }, s) => {
            const connection = await s.connections.get(env.id, body.integration_id, body.connection_id);
            if (!connection)
                throw fail('invalid_body', {
                    message: 'ConnectionID or IntegrationId does not exists',
                    errors: [{ code: 'custom', message: 'ConnectionID or IntegrationId does not exists', path: ['connection_id'] }]
                });
            await checkIntegrationsExist(s, env, Object.keys(body.integrations_config_defaults ?? {}), (k) => ['integrations_config_defaults', k]);
            await checkConfigDefaults(s, env, body.integrations_config_defaults);
            const endUser = body.end_user ?? connection.endUser ?? undefined;
            const { token, expiresAt } = await s.connectSessions.create(env.id, {
                endUser: endUser ? { id: endUser.id, email: endUser.email, display_name: endUser.display_name, tags: endUser.tags } : null,
                organization: body.organization ?? connection.endUser?.organization ?? null,
                tags: { ...connection.tags, ...sessionTags(endUser, body.organization, body.tags) },
                allowedIntegrations: [body.integration_id],
                integrationsConfigDefaults: body.integrations_config_defaults ?? null,
                webhookUrlOverride: body.webhook_url_override || null,
                reconnectConnectionUuid: connection.uuid
            });
            reply.code(201);
            return created(s, token, expiresAt);
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/connect/session',
        auth: 'session',
        query: z.object({}).strict(),
        handler: async ({ session }) => ({ data: describe(session!) })
    }),
    defineRoute({
        method: 'DELETE',
        url: '/connect/session',
        auth: 'session',
        query: z.object({}).strict(),
        handler: async ({ session, reply }, s) => {
            await s.connectSessions.delete(session!.id);
            return reply.code(204).send();
        }
    })
];
