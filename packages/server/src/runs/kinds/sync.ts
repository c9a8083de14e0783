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

const byKey = <K, V>(items: V[], key: (v: V) => K): Map<K, V> => new Map(items.map((v) => [key(v), v]));

/**
 * Loads what sync or webhook runs need, for a whole batch in four round trips (their syncs; then their functions,
 * connections and environments side by side), whatever the batch's size. A run whose sync or connection is gone
 * ends as `sync_not_found` and is left out of the map.
 */
export async function loadSyncRuns(d: KindDeps, rows: StartedRun[]): Promise<Map<number, SyncRunContext>> {
    const unique = <T>(xs: T[]) => [...new Set(xs)];
    const syncs = byKey(await d.syncs.byIds(unique(rows.flatMap((r) => (r.syncId ? [r.syncId] : [])))), (s) => s.id);
    const wanted = [...syncs.values()];
    const [fns, connections] = await Promise.all([
        d.functions.byIds(unique(wanted.map((s) => s.functionId))).then((xs) => byKey(xs, (f) => f.id)),
        d.connections.getByIds(unique(wanted.map((s) => s.connectionDbId))).then((xs) => byKey(xs, (c) => c.id))
    ]);
    const envs = byKey(await d.environments.byIds(unique([...connections.values()].map((c) => c.environmentId))), (e) => e.id);
    const out = new Map<number, SyncRunContext>();
    const gone: number[] = [];
    for (const row of rows) {
        const sync = row.syncId ? syncs.get(row.syncId) : undefined;
        const fn = sync && fns.get(sync.functionId);
        const connection = sync && connections.get(sync.connectionDbId);
        const env = connection && envs.get(connection.environmentId);
        if (sync && fn && connection && env) out.set(row.id, { sync, fn, connection, env });
        else gone.push(row.id);
    }
    for (const id of gone)
        await d.runs.finish(d.db, id, { status: 'ERROR', result: {}, error: { type: 'sync_not_found', message: 'The sync or its connection was deleted' } });
    return out;
}

/** loadSyncRuns for one run. */
export async function loadSyncRun(d: KindDeps, row: StartedRun): Promise<SyncRunContext | undefined> {
    return (await loadSyncRuns(d, [row])).get(row.id);
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
        beforeFinish(result, counts) {
            return result.ok && c.fn.config.trackDeletes ? (tx) => trackDeletes(d, tx, c, row.id, counts) : undefined;
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
 * Runs a batch of started sync runs (RunStore.claimDueSyncs), each to its end: their context is read for the whole
 * batch at once (four round trips, not four per run), then each run goes on by itself. Returns one promise per
 * run, settled when that run has ended.
 */
export function executeSyncRuns(d: KindDeps, rows: StartedRun[]): Array<Promise<void>> {
    const contexts = loadSyncRuns(d, rows);
    return rows.map(async (row) => {
        const c = (await contexts).get(row.id);
        if (c) await executeLoadedSyncRun(d, row, c);
    });
}

/**
 * Runs one started sync run to its end: prepares a reset or emptied cache when asked, runs the script while
 * heart-beating, then records the outcome and queues the sync webhooks in one transaction. Records and
 * checkpoints commit as the script writes them, so a crash loses nothing already saved.
 */
async function executeLoadedSyncRun(d: KindDeps, row: StartedRun, c: SyncRunContext): Promise<void> {
    const id = row.id;
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
