import type { RecordsStore } from '../../records/store.ts';
import type { CheckpointStore } from '../checkpoints.ts';
import type { SyncView } from '../syncs.ts';
import { recordModelKey, syncCheckpointKey } from '../keys.ts';

/** One entry of `GET /sync/status` (docs/compatibility.md, "Actions and syncs"). */
export async function syncStatusItem(s: { records: RecordsStore; checkpoints: CheckpointStore }, v: SyncView): Promise<Record<string, unknown>> {
    const keys = v.models.map((m) => recordModelKey(m, v.variant));
    const counts = await s.records.counts(v.connectionDbId, keys);
    const job = v.job;
    const running = job?.status === 'RUNNING' || job?.status === 'QUEUED';
    const status = running
        ? 'RUNNING'
        : v.status === 'PAUSED'
          ? 'PAUSED'
          : job?.status === 'ERROR'
            ? 'ERROR'
            : job?.status === 'STOPPED'
              ? 'STOPPED'
              : 'SUCCESS';
    return {
        id: v.id,
        connection_id: v.connectionId,
        name: v.name,
        variant: v.variant,
        type: job?.type === 'INCREMENTAL' ? 'INCREMENTAL' : 'INITIAL',
        status,
        frequency: v.frequencyOverride ?? v.runs,
        finishedAt: job?.finishedAt?.toISOString() ?? null,
        nextScheduledSyncAt: v.status === 'STARTED' ? (v.nextRunAt?.toISOString() ?? null) : null,
        latestExecutionStatus: job ? (job.status === 'QUEUED' ? 'RUNNING' : job.status) : null,
        latestResult: job?.result ?? {},
        recordCount: Object.fromEntries(v.models.map((m, i) => [m, counts[keys[i]!] ?? 0])),
        checkpoint: await s.checkpoints.get(v.connectionDbId, syncCheckpointKey(v.name, v.variant))
    };
}
