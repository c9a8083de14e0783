import type { Db } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Config } from '../config/config.ts';
import type { Runs } from '../runs/runs.ts';
import type { ActionJob } from '../runs/kinds/action.ts';
import type { OnEventJob } from '../runs/kinds/on-event.ts';
import type { WebhookRunJob } from '../runs/kinds/webhook.ts';
import type { StartedRun } from '../runs/store.ts';
import type { SyncStore } from './syncs.ts';
import { SyncWorker } from './sync-worker.ts';
import { type JobQueue, ACTION_QUEUE, ON_EVENT_QUEUE, WEBHOOK_QUEUE } from './queue.ts';

const CLAIM_BATCH = 500;
// Runs of a sync in flight per runner process: the others were started and loaded in a batch, or record their
// end, while one runs its script. Room is taken a quarter of this at a time (sync-worker.ts).
const SYNC_RUNS_PER_RUNNER = 32;
// Instances look for sync jobs queued by another instance (or left by a busy one) this often.
const SYNC_POLL_MS = 500;
const ENSURE_EVERY_TICKS = 5;
// Passes between two full sweeps for missing schedules; the passes between look only at connections added since.
const FULL_ENSURE_EVERY_TICKS = 60;
const PURGE_EVERY_TICKS = 300;

/** What the scheduler uses, by name. */
export interface SchedulerDeps {
    db: Db;
    log: Logger;
    config: Config['functions'];
    syncs: SyncStore;
    queue: JobQueue;
    runs: Runs;
}

/**
 * Turns due schedules into queued runs on every instance, and runs queued runs from every instance. A claim
 * inserts the runs and moves the schedules on in one transaction, so a schedule is never claimed twice; a queued
 * run is taken by one worker only (SKIP LOCKED on the runs table).
 */
export class Scheduler {
    private readonly d: SchedulerDeps;
    private started = false;
    private timer: NodeJS.Timeout | undefined;
    private ticks = 0;
    private running: Promise<void> | undefined;
    private stopped = false;
    private readonly syncWorker: SyncWorker<StartedRun>;
    /** Connections up to this row id had their schedules created by an earlier pass. */
    private ensuredUpTo: number | undefined;

    constructor(deps: SchedulerDeps) {
        this.d = deps;
        const { runs, log, config } = deps;
        this.syncWorker = new SyncWorker<StartedRun>({
            fetch: (n) => runs.claimDueSyncs(n),
            run: (batch) =>
                runs.executeSyncs(batch).map((p, i) => p.catch((err: unknown) => log.error({ err, syncJobId: batch[i]!.id }, 'sync run failed to execute'))),
            capacity: Math.max(1, config.workerConcurrency) * SYNC_RUNS_PER_RUNNER,
            pollMs: SYNC_POLL_MS,
            onError: (err) => log.error({ err }, 'sync worker error')
        });
    }

    /**
     * How far ahead a pass claims: every slot that falls due before the pass after next is queued (with its time)
     * before it comes, so a run starts at its slot, not at the first pass after it.
     */
    private get lookaheadMs(): number {
        return Math.min(this.d.config.schedulerTickMs + 1000, 10_000);
    }

    async start(): Promise<void> {
        const cfg = this.d.config;
        // One process owns an embedded database, so whatever was running when it stopped is lost now.
        await this.d.runs.reapLost(this.d.db.kind === 'postgres' ? cfg.lostAfterMs : 0);
        await this.d.queue.start([
            // pg-boss caps expiry at 24 h; our own heartbeat decides when a run is lost, so the cap is harmless.
            // (Scheduled sync runs need no pg-boss queue: the runs table is theirs, see RunStore.claimDueSyncs.)
            { name: ACTION_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.actionTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 },
            // Nango does not retry on-event runs; a job its instance lost expires and is not run again.
            { name: ON_EVENT_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.onEventTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 },
            // Nango does not retry webhook runs either (docs/scripts-compatibility.md, "Limits and timeouts"); a lost one ends as worker_lost in its run row.
            { name: WEBHOOK_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.webhookRunTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 }
        ]);
        const { runs, log } = this.d;
        this.syncWorker.start();
        await this.d.queue.work<ActionJob>(ACTION_QUEUE, cfg.workerConcurrency, (d) =>
            runs.executeAsyncAction(d).catch((err: unknown) => log.error({ err, actionId: d.id }, 'action run failed to execute'))
        );
        await this.d.queue.work<OnEventJob>(ON_EVENT_QUEUE, cfg.workerConcurrency, (d) =>
            runs.executePostConnectionCreation(d).catch((err: unknown) => log.error({ err, ...d }, 'on-event run failed to execute'))
        );
        await this.d.queue.work<WebhookRunJob>(WEBHOOK_QUEUE, cfg.workerConcurrency, (d) =>
            runs.executeWebhook(d).catch((err: unknown) => log.error({ err, syncJobId: d.jobId }, 'webhook run failed to execute'))
        );
        this.started = true;
        if (cfg.schedulerTickMs > 0) this.schedule(0);
    }

    private schedule(ms: number): void {
        if (this.stopped) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick(), ms).unref();
    }

    /** Runs a scheduling pass now (after a trigger), instead of at the next tick. */
    wake(): void {
        if (this.started && this.d.config.schedulerTickMs > 0) this.schedule(0);
    }

    private async tick(): Promise<void> {
        if (this.running) return;
        this.running = this.pass()
            .then(() => undefined)
            .catch((err: unknown) => this.d.log.error({ err }, 'scheduler pass failed'))
            .finally(() => {
                this.running = undefined;
                this.schedule(this.d.config.schedulerTickMs);
            });
        await this.running;
    }

    /** One pass: new schedules for new connections, old answered runs purged, lost runs of every kind given up, due schedules queued. */
    async pass(): Promise<number> {
        const tick = this.ticks++;
        if (tick % ENSURE_EVERY_TICKS === 0) await this.ensureSchedules(tick);
        if (tick % PURGE_EVERY_TICKS === 0) await this.d.runs.purgeAnswered();
        await this.d.runs.reapLost(this.d.config.lostAfterMs);
        let queued = 0;
        for (;;) {
            // The queued runs are the queue: a worker takes them from the runs table once due (RunStore.claimDueSyncs).
            const claimed = await this.d.db.transaction((tx) => this.d.syncs.claimDue(tx, CLAIM_BATCH, this.lookaheadMs));
            // This instance's worker starts what it queued when it falls due (any instance's poll also finds it).
            for (const c of claimed) this.syncWorker.wakeAt(c.dueAt);
            queued += claimed.length;
            if (claimed.length < CLAIM_BATCH || this.stopped) return queued;
        }
    }

    /**
     * Creates the schedules of new connections without reading every schedule each time: between full sweeps only
     * connections added since the last pass. A connection committed out of id order is caught by the next sweep.
     */
    private async ensureSchedules(tick: number): Promise<void> {
        const upTo = await this.d.syncs.lastConnectionDbId();
        const after = tick % FULL_ENSURE_EVERY_TICKS === 0 ? undefined : this.ensuredUpTo;
        await this.d.syncs.ensureSchedules(this.d.db, after === undefined ? {} : { afterConnectionDbId: after });
        this.ensuredUpTo = upTo;
    }

    /** Waits up to `ms` for the sync runs still in flight after stop() to record their end (the runtime closed under them). */
    settle(ms: number): Promise<void> {
        return this.syncWorker.settle(ms);
    }

    async stop(): Promise<void> {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        await this.running;
        await this.syncWorker.stop(5000);
        await this.d.queue.stop();
    }
}
