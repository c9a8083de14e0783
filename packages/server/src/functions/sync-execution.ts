import type { Services } from '../services.ts';
import type { ScriptError } from './runtime/types.ts';
import type { ModelCounts } from './syncs.ts';
import type { Logger } from '../log/logger.ts';
import { RunHost } from './host.ts';
import { runProps } from './run-props.ts';
import { recordModelKey, syncCheckpointKey } from './keys.ts';
import { syncFailurePayload, syncSuccessPayloads } from './payloads.ts';

// A run proves it is alive well within the time after which other instances give it up as lost.
const heartbeatMs = (lostAfterMs: number) => Math.max(250, Math.min(10_000, Math.floor(lostAfterMs / 4)));

/**
 * Beats for a run (scheduled or webhook) until cleared: the beat proves it alive, so no instance gives it up as
 * worker_lost, and aborts it once its row is gone (its sync removed by a redeploy, its connection deleted).
 */
export function startHeartbeat(s: Services, jobId: number, host: RunHost, abort: AbortController, log: Logger): NodeJS.Timeout {
    return setInterval(() => {
        s.syncs
            .heartbeat(jobId, host.counts)
            .then((alive) => {
                if (!alive) abort.abort();
            })
            .catch((err: unknown) => log.warn({ err, jobId }, 'run heartbeat failed'));
    }, heartbeatMs(s.config.functions.lostAfterMs));
}


/**
 * Runs one queued sync job to its end: prepares a reset or emptied cache when asked, runs the script in the
 * runner pool while heart-beating, then records the outcome and queues the sync webhooks in one transaction.
 * Records and checkpoints commit as the script writes them, so a crash loses nothing already saved.
 */
export async function executeSyncJob(s: Services, jobId: number): Promise<void> {
    const job = await s.syncs.startJob(jobId);
    if (!job) return;
    const sync = await s.syncs.byId(job.syncId);
    const fn = sync && (await s.functions.byId(sync.functionId));
    const connection = fn && (await s.connections.getById(sync.connectionDbId));
    const env = connection && (await s.environments.byId(connection.environmentId));
    const log = s.log.child({ sync: sync?.name, syncJobId: jobId });
    if (!sync || !fn || !connection || !env) {
        await s.db.transaction((tx) => s.syncs.finishJob(tx, jobId, { status: 'ERROR', result: {}, error: { type: 'sync_not_found', message: 'The sync or its connection was deleted' }, startedAt: job.startedAt }));
        return;
    }
    const checkpointKey = syncCheckpointKey(sync.name, sync.variant);
    if (job.reset) await s.checkpoints.deleteSyncState(connection.id, checkpointKey);
    if (job.emptyCache) await s.records.hardDelete(connection.id, sync.models.map((m) => recordModelKey(m, sync.variant)));

    const abort = new AbortController();
    const host = new RunHost(s, { env, connection, checkpointKey, sync: { syncId: sync.id, jobId, variant: sync.variant, models: sync.models }, log, signal: abort.signal });
    const beat = startHeartbeat(s, jobId, host, abort, log);
    let result;
    try {
        result = await s.runner.run(
            {
                runId: `sync-${jobId}`,
                kind: 'sync',
                code: await s.functions.code(fn),
                props: runProps(s, { env, connection, fn, kind: 'sync', sync: { id: sync.id, jobId, variant: sync.variant, models: sync.models, lastSyncDate: job.reset ? null : sync.lastSyncDate } }),
                timeoutMs: s.config.functions.syncTimeoutMs
            },
            host,
            abort.signal
        );
    } finally {
        clearInterval(beat);
    }
    const counts: ModelCounts = host.counts;
    await s.db.transaction(async (tx) => {
        if (result.ok && fn.config.trackDeletes) {
            // Deprecated `track_deletes: true`: whatever this run did not see is gone upstream.
            for (const model of sync.models) {
                const deleted = await s.records.deleteNotSeenSince({ connectionId: connection.id, model: recordModelKey(model, sync.variant) }, jobId, tx);
                const t = (counts[model] ??= { added: 0, updated: 0, deleted: 0 });
                t.deleted += deleted.length;
            }
        }
        const status = result.ok ? 'SUCCESS' : abort.signal.aborted ? 'STOPPED' : 'ERROR';
        const error: ScriptError | undefined = result.ok ? undefined : result.error;
        const finished = await s.syncs.finishJob(tx, jobId, { status, result: counts, error, startedAt: job.startedAt });
        if (!finished || status === 'STOPPED') return;
        const base = { connection, sync, syncType: job.type, startedAt: job.startedAt };
        const payloads = result.ok ? syncSuccessPayloads(base, counts, sync.models) : [syncFailurePayload(base, error!)];
        for (const payload of payloads) await s.webhooks.enqueueEvent(tx, { environmentId: env.id, connection, payload });
    });
    log.info({ status: result.ok ? 'success' : 'error', counts, error: result.ok ? undefined : result.error.type }, 'sync run finished');
}
