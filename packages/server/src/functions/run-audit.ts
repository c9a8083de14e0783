// How script runs that are not scheduled syncs (on-event scripts, onWebhook runs) leave their trace: a row in
// the connection's audit trail (GET /admin/audit), which outlives the connection.
import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { Logger } from '../log/logger.ts';
import type { ScriptError } from './runtime/types.ts';

export interface LoggedScriptError {
    type: string;
    message: string;
    status?: number;
}

/** A script error as logs and the audit trail keep it: never its payload, which may echo a provider's response. */
export function loggedError(e: ScriptError): LoggedScriptError {
    return { type: e.type, message: e.message.slice(0, 500), ...(e.status ? { status: e.status } : {}) };
}

export interface AuditDeps {
    connections: Pick<ConnectionStore, 'audit'>;
}

/** Adds the run to the connection's audit trail; a failure to record is logged, never thrown. */
export async function auditRun(
    s: AuditDeps,
    log: Logger,
    connection: Connection,
    entry: { kind: string; outcome: string; detail: Record<string, unknown> }
): Promise<void> {
    await s.connections
        .audit({
            environmentId: connection.environmentId,
            // A connection validated before it is stored has no uuid yet; a rejected one never gets one.
            connectionUuid: connection.uuid || null,
            providerConfigKey: connection.providerConfigKey,
            connectionId: connection.connectionId,
            ...entry
        })
        .catch((err: unknown) => log.error({ err, kind: entry.kind }, 'could not record the run in the audit trail'));
}
