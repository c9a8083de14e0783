import type { ConnectionStore } from '../connections/store.ts';
import type { Environments } from '../environments/environments.ts';
import type { RecordsStore } from '../records/store.ts';
import type { FunctionStore } from '../functions/store.ts';
import type { SyncStore } from '../functions/syncs.ts';
import type { CheckpointStore } from '../functions/checkpoints.ts';
import type { JobQueue } from '../functions/queue.ts';
import type { RunDeps } from './run.ts';

/** Limits of one run per kind (SWITCHBOARD_*_TIMEOUT_MS). */
export interface RunTimeouts {
    syncMs: number;
    actionMs: number;
    webhookMs: number;
    onEventMs: number;
}

/** What the run kinds use, by name: the lifecycle's own deps, plus the stores they read their run's context from. */
export interface KindDeps extends RunDeps {
    queue: Pick<JobQueue, 'send'>;
    syncs: SyncStore;
    functions: FunctionStore;
    connections: ConnectionStore;
    environments: Environments;
    records: RecordsStore;
    checkpoints: CheckpointStore;
    timeouts: RunTimeouts;
}
