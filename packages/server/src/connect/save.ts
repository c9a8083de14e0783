import type { Services } from '../services.ts';
import type { Connection } from '../connections/store.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { endUserOf, type FlowContext } from './flow-context.ts';

/**
 * Stores the credentials a browser flow obtained, under the session's end user, tags and webhook override
 * (nango-api.md §1.6), and records the outcome in the audit log.
 */
export async function saveConnection(s: Services, ctx: FlowContext, credentials: StoredCredentials, extraConfig: Record<string, unknown> = {}): Promise<{ connection: Connection; created: boolean }> {
    const result = await s.connections.upsert(ctx.integration.id, ctx.env.id, {
        connectionId: ctx.connectionId,
        credentials,
        connectionConfig: { ...ctx.connectionConfig, ...extraConfig },
        endUser: endUserOf(ctx.session),
        tags: ctx.session.tags,
        webhookUrlOverride: ctx.session.webhookUrlOverride ?? undefined
    });
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
