import { randomUUID } from 'node:crypto';
import { defineRoute } from '../http/route.ts';
import { ApiError, fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import { connectionParams, createConnectionBody, getConnectionQuery, keyQuery, listConnectionsQuery, metadataBody, patchConnectionBody } from './schemas.ts';
import { formatConnectionFull, formatConnectionSummary } from './format.ts';
import { assertConnectionConfig } from '../oauth/provider-endpoints.ts';
import { revokeAtProvider } from './revoke.ts';
import { connectionSaved } from './lifecycle.ts';
import { runPostConnection } from '../providers/hooks/index.ts';
import { imported, importTypesFor } from './import.ts';

async function mustFind(s: Services, env: Environment, key: string, connectionId: string, missing: 'not_found' | 'unknown_connection') {
    const integration = await s.integrations.get(env.id, key);
    if (!integration) throw fail('unknown_provider_config', { status: 400, message: 'Provider does not exists' });
    const connection = await s.connections.get(env.id, key, connectionId);
    if (!connection) throw missing === 'not_found' ? fail('not_found', { message: 'Failed to find connection' }) : fail('unknown_connection', { status: 400 });
    return { integration, connection };
}

export const connectionRoutes = [
    defineRoute({
        method: 'GET',
        url: '/connections',
        auth: 'secret',
        query: listConnectionsQuery,
        handler: async ({ env, query }, s) => {
            const rows = await s.connections.list(env.id, {
                connectionId: query.connectionId,
                search: query.search,
                endUserId: query.endUserId,
                endUserOrganizationId: query.endUserOrganizationId,
                integrationIds: query.integrationId
                    ?.split(',')
                    .map((k) => k.trim())
                    .filter(Boolean),
                tags: query.tags,
                limit: query.limit ?? 10_000,
                page: query.page ?? 0
            });
            return { connections: rows.map(formatConnectionSummary) };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/connections/:connectionId',
        auth: 'secret',
        params: connectionParams,
        query: getConnectionQuery,
        handler: async ({ env, params, query }, s) => {
            const { connection } = await mustFind(s, env, query.provider_config_key, params.connectionId, 'not_found');
            const fresh = await s.refresher.fresh(connection, { force: query.force_refresh ?? false });
            await s.connections.touchFetched(fresh.uuid);
            return formatConnectionFull({ ...fresh, lastFetchedAt: new Date() }, { includeRefreshToken: query.refresh_token ?? false });
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/connections',
        auth: 'secret',
        body: createConnectionBody,
        handler: async ({ env, body, reply }, s) => {
            const integration = await s.integrations.get(env.id, body.provider_config_key);
            if (!integration) throw fail('unknown_provider_config');
            const def = s.catalogue.get(integration.provider);
            if (!def || !importTypesFor[def.auth_mode]?.includes(body.credentials.type)) {
                throw fail('invalid_auth_mode', {
                    message: `Integration "${integration.uniqueKey}" uses ${def?.auth_mode ?? 'an unknown auth mode'}; ${body.credentials.type} credentials do not apply`
                });
            }
            // Issue #10 item 1: declared fields must match their pattern here too (the app may add keys of its own).
            assertConnectionConfig(def, body.connection_config ?? {}, 'app');
            const connectionId = body.connection_id ?? randomUUID();
            const { credentials, connectionConfig: given } = await imported(s, integration, def, body.credentials, body.connection_config, connectionId);
            // The provider's post-connection step runs for an import too (a Jira import gets its cloud id); what the
            // app sent wins over what the step found. Unlike a browser flow, an import is not refused when the step
            // fails (the app may import tokens it cannot use yet): the connection is stored as given, and the log says why.
            const found = await runPostConnection(s, def, integration, credentials, given ?? {}).catch((err: unknown) => {
                if (!(err instanceof ApiError)) throw err;
                s.log.warn(
                    { integration: integration.uniqueKey, hook: def.post_connection_script, reason: err.message },
                    'post-connection step failed for an import'
                );
                return {};
            });
            const connectionConfig = { ...found, ...given };
            // An import announces itself like any new or re-authorised connection (docs/webhooks.md) and, when new,
            // runs the integration's post-connection-creation scripts (docs/functions.md).
            const { connection } = await s.connections.upsert(
                integration.id,
                env.id,
                {
                    connectionId,
                    credentials,
                    connectionConfig,
                    metadata: body.metadata,
                    endUser: body.end_user,
                    tags: body.tags,
                    webhookUrlOverride: body.webhook_url_override
                },
                (tx, saved) => connectionSaved(s, tx, env, saved)
            );
            reply.code(201);
            return formatConnectionFull(connection, { includeRefreshToken: false, zulu: true });
        }
    }),
    defineRoute({
        method: 'PATCH',
        url: '/connections/:connectionId',
        auth: 'secret',
        params: connectionParams,
        query: keyQuery,
        body: patchConnectionBody,
        handler: async ({ env, params, query, body }, s) => {
            const { connection } = await mustFind(s, env, query.provider_config_key, params.connectionId, 'not_found');
            await s.connections.patch(connection.uuid, { endUser: body.end_user, tags: body.tags, webhookUrlOverride: body.webhook_url_override });
            return { success: true };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/connections/:connectionId',
        auth: 'secret',
        params: connectionParams,
        query: keyQuery,
        handler: async ({ env, params, query }, s) => {
            const { integration, connection } = await mustFind(s, env, query.provider_config_key, params.connectionId, 'unknown_connection');
            // The scripts may still call the provider with the connection's credentials; whatever they do, it is deleted.
            const ran = await s.connectionHooks.deleting(env, connection);
            // A script may have refreshed the tokens meanwhile: revoke the current ones.
            const current = (ran > 0 && (await s.connections.getByUuid(connection.uuid))) || connection;
            const revocation = await revokeAtProvider(s, current, integration);
            await s.connections.audit({
                environmentId: env.id,
                connectionUuid: connection.uuid,
                providerConfigKey: connection.providerConfigKey,
                connectionId: connection.connectionId,
                kind: 'revocation',
                outcome: revocation.outcome,
                detail: { status: revocation.status, detail: revocation.detail }
            });
            s.log.info({ connection: connection.uuid, provider: connection.provider, revocation: revocation.outcome }, 'connection deleted');
            await s.connections.delete(connection.uuid, async (tx) => {
                await s.webhooks.enqueueAuth(tx, {
                    environment: env,
                    connection,
                    operation: 'deletion',
                    success: true,
                    revocation: { outcome: revocation.outcome, status: revocation.status }
                });
            });
            return { success: true };
        }
    }),
    ...(['POST', 'PATCH'] as const).map((method) =>
        defineRoute({
            method,
            url: '/connections/metadata',
            auth: 'secret',
            body: metadataBody,
            handler: async ({ env, body, reply }, s) => {
                const ids = Array.isArray(body.connection_id) ? body.connection_id : [body.connection_id];
                const missing = await s.connections.setMetadata(env.id, body.provider_config_key, ids, body.metadata, method === 'PATCH');
                if (missing.length) throw fail('unknown_connection', { message: `Connection(s) not found: ${missing.join(', ')}` });
                reply.code(method === 'POST' ? 201 : 200);
                return body;
            }
        })
    )
];
