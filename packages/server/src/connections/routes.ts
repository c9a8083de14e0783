import { randomUUID } from 'node:crypto';
import { defineRoute } from '../http/route.ts';
import { ApiError, fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import { connectionParams, createConnectionBody, getConnectionQuery, keyQuery, listConnectionsQuery, metadataBody, patchConnectionBody } from './schemas.ts';
import { formatConnectionFull, formatConnectionSummary } from './format.ts';
import { inputsOf, toStored, type ImportCredentials, type StoredCredentials } from './credentials.ts';
import { installationIdPattern, mintInstallationToken } from '../app-auth/installation-token.ts';
import { TokenError } from '../oauth/token-request.ts';
import { tokenFailure } from '../oauth/token-client.ts';
import { assertConnectionConfig } from '../oauth/provider-endpoints.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import { revokeAtProvider } from './revoke.ts';
import { connectionSaved } from './lifecycle.ts';
import { runPostConnection } from '../providers/hooks/index.ts';
import { twoStepToken } from '../auth-modes/two-step.ts';
import { mintJwt } from '../auth-modes/jwt.ts';
import { mintSignature } from '../auth-modes/signature.ts';
import { BILL_SESSION_MS, billLogin } from '../auth-modes/bill.ts';
import { assumeRole, roleSessionName, stsConfigOf } from '../auth-modes/aws-sts.ts';

// Which connection credential types each provider auth mode accepts on import.
const importTypesFor: Record<string, string[]> = {
    OAUTH2: ['OAUTH2'],
    OAUTH1: ['OAUTH1'],
    OAUTH2_CC: ['OAUTH2_CC'],
    API_KEY: ['API_KEY'],
    BASIC: ['BASIC'],
    APP: ['APP'],
    NONE: ['NONE'],
    TWO_STEP: ['TWO_STEP'],
    JWT: ['JWT'],
    AWS_SIGV4: ['AWS_SIGV4'],
    TBA: ['TBA'],
    SIGNATURE: ['SIGNATURE'],
    BILL: ['BILL']
};

const TWO_STEP_KEYS = ['type', 'token', 'refresh_token', 'expires_at', 'raw'];

/**
 * TWO_STEP and JWT imports: the inputs as given; a token given with them is kept (until it expires), else one
 * is obtained (TWO_STEP, from the provider) or signed (JWT) at once, which also proves the inputs work.
 */
async function importedToken(
    s: Services,
    def: ProviderDefinition,
    c: Extract<ImportCredentials, { type: 'TWO_STEP' | 'JWT' }>,
    config: Record<string, unknown>
): Promise<StoredCredentials> {
    const inputs = inputsOf(c, TWO_STEP_KEYS);
    const expires_at = typeof c.expires_at === 'string' ? c.expires_at : undefined;
    if (c.type === 'JWT') return c.token ? { type: 'JWT', inputs, token: c.token, expires_at } : mintJwt(def, config, inputs);
    if (c.token) {
        const refresh_token = typeof c.refresh_token === 'string' ? c.refresh_token : undefined;
        const raw = typeof c.raw === 'object' && c.raw !== null ? (c.raw as Record<string, unknown>) : {};
        return { type: 'TWO_STEP', inputs, token: c.token, refresh_token, expires_at, raw };
    }
    try {
        return await twoStepToken(s.egress, def, config, inputs);
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
        throw err;
    }
}

/** BILL imports: a session id given with the login values is kept until it expires, else the login is made now. */
async function importedBill(
    s: Services,
    def: ProviderDefinition,
    c: Extract<ImportCredentials, { type: 'BILL' }>,
    config: Record<string, unknown>
): Promise<StoredCredentials> {
    if (c.session_id) return { ...c, expires_at: c.expires_at ?? new Date(Date.now() + BILL_SESSION_MS).toISOString(), raw: {} };
    try {
        return await billLogin(s.egress, def, config, c);
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
        throw err;
    }
}

/**
 * AWS_SIGV4 imports: a key as given (a temporary one with its role_arn is renewed from the role when it expires);
 * a role_arn alone is assumed now with the integration's AWS key.
 */
async function importedAws(
    s: Services,
    integration: Integration,
    c: Extract<ImportCredentials, { type: 'AWS_SIGV4' }>,
    connectionId: string
): Promise<StoredCredentials> {
    const { access_key_id, secret_access_key, role_arn } = c;
    if (access_key_id && secret_access_key) return { ...c, type: 'AWS_SIGV4', access_key_id, secret_access_key };
    try {
        return await assumeRole(s.egress, stsConfigOf(s.integrations, integration), {
            role_arn: role_arn!,
            region: c.region,
            service: c.service,
            session_name: roleSessionName(connectionId)
        });
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'to let this role be assumed' });
        throw err;
    }
}

/**
 * The credentials an import stores. A GitHub App installation is named by connection_config.installation_id;
 * without a token given, one is minted at once, which also proves the installation belongs to the app.
 */
async function imported(
    s: Services,
    integration: Integration,
    def: ProviderDefinition,
    c: ImportCredentials,
    config: Record<string, unknown> | undefined,
    connectionId: string
): Promise<{ credentials: StoredCredentials; connectionConfig: Record<string, unknown> | undefined }> {
    if (c.type === 'AWS_SIGV4') return { credentials: await importedAws(s, integration, c, connectionId), connectionConfig: config };
    if (c.type === 'TWO_STEP' || c.type === 'JWT') return { credentials: await importedToken(s, def, c, config ?? {}), connectionConfig: config };
    // SIGNATURE: the token is made here (it is never taken as given: each one is good once).
    if (c.type === 'SIGNATURE') return { credentials: mintSignature(def, c.username, c.password), connectionConfig: config };
    if (c.type === 'BILL') return { credentials: await importedBill(s, def, c, config ?? {}), connectionConfig: config };
    if (c.type === 'TBA' && (typeof config?.['accountId'] !== 'string' || !config['accountId']))
        throw fail('missing_connection_config', { message: 'connection_config.accountId (the NetSuite account id) is required for TBA connections' });
    if (c.type !== 'APP') return { credentials: toStored(c), connectionConfig: config };
    const id = config?.['installation_id'];
    if ((typeof id !== 'string' && typeof id !== 'number') || !installationIdPattern.test(String(id))) {
        throw fail('missing_connection_config', {
            message: 'connection_config.installation_id (the GitHub App installation id, a positive integer) is required for APP connections'
        });
    }
    const connectionConfig = { ...config, installation_id: String(id) };
    if (c.access_token) return { credentials: { type: 'APP', access_token: c.access_token, expires_at: c.expires_at, raw: c.raw ?? {} }, connectionConfig };
    try {
        return {
            credentials: await mintInstallationToken(s.egress, def, s.integrations.credentials(integration), connectionConfig, Date.now()),
            connectionConfig
        };
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'an installation token' });
        throw err;
    }
}

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
