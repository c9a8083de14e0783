import type { KindDeps } from '../deps.ts';
import type { Queryable } from '../../storage/db.ts';
import type { Connection } from '../../connections/store.ts';
import type { Environment } from '../../environments/environments.ts';
import type { Logger } from '../../log/logger.ts';
import type { DeployedFunction } from '../../functions/store.ts';
import type { SyncView } from '../../functions/syncs.ts';
import type { StartedRun } from '../store.ts';
import { recordModelKey, syncCheckpointKey } from '../../functions/keys.ts';
import { syncFailurePayload, syncSuccessPayloads } from '../../functions/payloads.ts';
import { runScript, type RunPolicy } from '../run.ts';

/** A sync or webhook run's context, read again when it runs; undefined when any part of it was deleted. */
export interface SyncRunContext {
    sync: SyncView;
    fn: DeployedFunction;
    connection: Connection;
    env: Environment;
}

/** Loads what a sync or webhook run needs; a run whose sync or connection is gone ends as `sync_not_found`. */
export async function loadSyncRun(d: KindDeps, row: StartedRun): Promise<SyncRunContext | undefined> {
    const sync = row.syncId ? await d.syncs.byId(row.syncId) : undefined;
    // The function and the connection are read side by side: one round trip less on every run.
    const [fn, connection] = sync ? await Promise.all([d.functions.byId(sync.functionId), d.connections.getById(sync.connectionDbId)]) : [];
    const env = fn && connection && (await d.environments.byId(connection.environmentId));
    if (sync && fn && connection && env) return { sync, fn, connection, env };
    await d.db.transaction((tx) =>
        d.runs.finish(tx, row.id, { status: 'ERROR', result: {}, error: { type: 'sync_not_found', message: 'The sync or its connection was deleted' } })
    );
    return undefined;
}

/** Whatever a deprecated `track_deletes: true` run did not see is gone upstream. */
async function trackDeletes(
    d: KindDeps,
    tx: Queryable,
    c: SyncRunContext,
    runId: number,
    counts: Record<string, { added: number; updated: number; deleted: number }>
): Promise<void> {
    for (const model of c.sync.models) {
        const deleted = await d.records.deleteNotSeenSince({ connectionId: c.connection.id, model: recordModelKey(model, c.sync.variant) }, runId, tx);
        const t = (counts[model] ??= { added: 0, updated: 0, deleted: 0 });
        t.deleted += deleted.length;
    }
}

function syncPolicy(d: KindDeps, c: SyncRunContext, row: StartedRun): RunPolicy {
    return {
        async beforeFinish(tx, result, counts) {
            if (result.ok && c.fn.config.trackDeletes) await trackDeletes(d, tx, c, row.id, counts);
        },
        webhooks(o) {
            const base = { connection: c.connection, sync: c.sync, syncType: row.type ?? 'INITIAL', startedAt: row.startedAt };
            return o.result.ok ? syncSuccessPayloads(base, o.counts, c.sync.models) : [syncFailurePayload(base, o.result.error)];
        },
        logOutcome(log: Logger, o) {
            log.info({ status: o.result.ok ? 'success' : 'error', counts: o.counts, error: o.failure?.type }, 'sync run finished');
        }
    };
}

/**
 * Runs one queued sync run to its end: prepares a reset or emptied cache when asked, runs the script while
 * heart-beating, then records the outcome and queues the sync webhooks in one transaction. Records and
 * checkpoints commit as the script writes them, so a crash loses nothing already saved.
 */
export async function executeSyncRun(d: KindDeps, id: number, started?: () => void): Promise<void> {
    const row = await d.runs.start(id);
    started?.();
    if (row?.kind !== 'sync') return;
    const c = await loadSyncRun(d, row);
    if (!c) return;
    const { sync, connection } = c;
    const log = d.log.child({ sync: sync.name, syncJobId: id });
    const checkpointKey = syncCheckpointKey(sync.name, sync.variant);
    if (row.reset) await d.checkpoints.deleteSyncState(connection.id, checkpointKey);
    if (row.emptyCache)
        await d.records.hardDelete(
            connection.id,
            sync.models.map((m) => recordModelKey(m, sync.variant))
        );
    await runScript(d, {
        row,
        kind: 'sync',
        fn: c.fn,
        env: c.env,
        connection,
        timeoutMs: d.timeouts.syncMs,
        checkpointKey,
        sync: { syncId: sync.id, jobId: id, variant: sync.variant, models: sync.models, lastSyncDate: row.reset ? null : sync.lastSyncDate },
        log,
        policy: syncPolicy(d, c, row)
    });
}
