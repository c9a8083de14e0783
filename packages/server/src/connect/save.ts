import type { Services } from '../services.ts';
import type { Connection, ConnectionSummary } from '../connections/store.ts';
import { expiresAtOf, type StoredCredentials } from '../connections/credentials.ts';
import { connectionSaved } from '../connections/lifecycle.ts';
import { fail } from '../errors.ts';
import { endUserOf, type FlowContext } from './flow-context.ts';
import { runPostConnection } from '../providers/hooks/index.ts';

/**
 * Stores the credentials a browser flow obtained, under the session's end user, tags and webhook override
 * (docs/compatibility.md, "Connect sessions"), once the integration's validate-connection scripts accepted them, and queues the `auth`
 * webhook and the post-connection-creation scripts in the same transaction, so the app (and the scripts) hear
 * of every connection that exists and of none that does not. A rejected connection is never written.
 */
export async function saveConnection(
    s: Services,
    ctx: FlowContext,
    credentials: StoredCredentials,
    extraConfig: Record<string, unknown> = {}
): Promise<{ connection: Connection; created: boolean }> {
    // The provider's post-connection step (Jira's cloud id, HubSpot's portal, …) before anything is stored: an
    // account it refuses is never written.
    const found = await runPostConnection(s, ctx.provider, ctx.integration, credentials, { ...ctx.connectionConfig, ...extraConfig });
    const connectionConfig = { ...ctx.connectionConfig, ...extraConfig, ...found };
    const validation = await s.runs.validateConnection(ctx.env, await candidate(s, ctx, credentials, connectionConfig));
    if (!validation.ok) throw fail('connection_validation_failed', { message: validation.message });
    const result = await s.connections.upsert(
        ctx.integration.id,
        ctx.env.id,
        {
            connectionId: ctx.connectionId,
            credentials,
            connectionConfig,
            ...(validation.metadata ? { metadata: validation.metadata } : {}),
            endUser: endUserOf(ctx.session),
            tags: ctx.session.tags,
            webhookUrlOverride: ctx.session.webhookUrlOverride ?? undefined
        },
        (tx, saved) => connectionSaved(s, tx, ctx.env, saved)
    );
    await s.connections.audit({
        environmentId: ctx.env.id,
        connectionUuid: result.connection.uuid,
        providerConfigKey: ctx.integration.uniqueKey,
        connectionId: ctx.connectionId,
        kind: 'connect',
        outcome: result.created ? 'created' : 'overridden',
        detail: { authMode: credentials.type, endUserId: ctx.session.endUser?.id ?? null }
    });
    return result;
}

/** The connection as it will be stored (the reconnected one with its new credentials, or a new one), held in memory to be validated. */
async function candidate(s: Services, ctx: FlowContext, credentials: StoredCredentials, connectionConfig: Record<string, unknown>): Promise<Connection> {
    const existing = await s.connections.get(ctx.env.id, ctx.integration.uniqueKey, ctx.connectionId);
    const base = existing ?? { ...attempted(ctx), credentialsVersion: 0 };
    return {
        ...base,
        authType: credentials.type,
        credentials,
        expiresAt: expiresAtOf(credentials),
        connectionConfig: { ...base.connectionConfig, ...connectionConfig }
    };
}

/** The connection a failed flow was creating (or reconnecting), as its `auth` failure webhook describes it. */
function attempted(ctx: FlowContext): ConnectionSummary {
    const now = new Date();
    return {
        id: 0,
        uuid: '',
        environmentId: ctx.env.id,
        integrationId: ctx.integration.id,
        providerConfigKey: ctx.integration.uniqueKey,
        provider: ctx.integration.provider,
        connectionId: ctx.connectionId,
        expiresAt: null,
        connectionConfig: ctx.connectionConfig,
        metadata: null,
        endUser: endUserOf(ctx.session) ?? null,
        tags: ctx.session.tags,
        webhookUrlOverride: ctx.session.webhookUrlOverride,
        status: 'active',
        lastFetchedAt: null,
        refreshedAt: null,
        refreshFailedAt: null,
        refreshError: null,
        createdAt: now,
        updatedAt: now
    };
}

/** Tells the app a flow failed after the end user started it (docs/compatibility.md, "Webhooks": `success: false`). */
export async function reportFailure(s: Services, ctx: FlowContext, error: { type: string; description: string }): Promise<void> {
    await s.webhooks
        .enqueueAuth(s.db, { environment: ctx.env, connection: attempted(ctx), operation: ctx.isReconnect ? 'override' : 'creation', success: false, error })
        .catch((err: unknown) => s.log.error({ err }, 'could not queue the auth failure webhook'));
}
