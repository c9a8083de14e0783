import type { Services } from '../services.ts';
import { JobQueue, SYNC_QUEUE, ACTION_QUEUE, ON_EVENT_QUEUE, WEBHOOK_QUEUE } from './queue.ts';
import { executeSyncJob } from './sync-execution.ts';
import { executeAsyncAction } from './actions.ts';
import { executePostConnectionCreation, type OnEventJob } from './on-event.ts';
import { executeWebhookRun, type WebhookRunJob } from './webhook-runs.ts';

const CLAIM_BATCH = 200;
const ENSURE_EVERY_TICKS = 5;

/**
 * Turns due schedules into queued jobs on every instance, and runs queued jobs from every instance. The claim
 * and the enqueue share one transaction, so a schedule is never claimed without its job, nor twice.
 */
export class Scheduler {
    readonly queue: JobQueue;
    // Set by start(): the jobs run through the same services the routes use, and those include this scheduler.
    private services: Services | undefined;
    private timer: NodeJS.Timeout | undefined;
    private ticks = 0;
    private running: Promise<void> | undefined;
    private stopped = false;

    constructor(deps: Pick<Services, 'db' | 'log'>) {
        this.queue = new JobQueue(deps.db, deps.log);
    }

    private get s(): Services {
        if (!this.services) throw new Error('the scheduler is not started');
        return this.services;
    }

    async start(services: Services): Promise<void> {
        this.services = services;
        const cfg = this.s.config.functions;
        // One process owns an embedded database, so whatever was running when it stopped is lost now.
        const lost = await this.s.syncs.reapLost(this.s.db.kind === 'pglite' ? 0 : cfg.lostAfterMs);
        if (lost.length) this.s.log.warn({ jobs: lost }, 'sync runs interrupted by a stop were marked failed; their next runs resume from the last checkpoint');
        await this.queue.start([
            // pg-boss caps expiry at 24 h; our own heartbeat decides when a run is lost, so the cap is harmless.
            { name: SYNC_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.syncTimeoutMs / 1000) + 60, 86_400) },
            { name: ACTION_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.actionTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 },
            // Nango does not retry on-event runs; a job its instance lost expires and is not run again.
            { name: ON_EVENT_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.onEventTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 },
            // Nango does not retry webhook runs either (docs/scripts-compatibility.md, "Limits and timeouts"); a lost one ends as worker_lost in its sync_jobs row.
            { name: WEBHOOK_QUEUE, expireInSeconds: Math.min(Math.ceil(cfg.webhookRunTimeoutMs / 1000) + 60, 86_400), retryLimit: 0 }
        ]);
        await this.queue.work<{ jobId: number }>(SYNC_QUEUE, cfg.workerConcurrency, (d) =>
            executeSyncJob(this.s, d.jobId).catch((err: unknown) => this.s.log.error({ err, syncJobId: d.jobId }, 'sync run failed to execute'))
        );
        await this.queue.work<{ id: string }>(ACTION_QUEUE, cfg.workerConcurrency, (d) => executeAsyncAction(this.s, d.id));
        await this.queue.work<OnEventJob>(ON_EVENT_QUEUE, cfg.workerConcurrency, (d) =>
            executePostConnectionCreation(this.s, d).catch((err: unknown) => this.s.log.error({ err, ...d }, 'on-event run failed to execute'))
        );
        await this.queue.work<WebhookRunJob>(WEBHOOK_QUEUE, cfg.workerConcurrency, (d) =>
            executeWebhookRun(this.s, d).catch((err: unknown) => this.s.log.error({ err, syncJobId: d.jobId }, 'webhook run failed to execute'))
        );
        if (cfg.schedulerTickMs > 0) this.schedule(0);
    }

    private schedule(ms: number): void {
        if (this.stopped) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.tick(), ms).unref();
    }

    /** Runs a scheduling pass now (after a trigger), instead of at the next tick. */
    wake(): void {
        if (this.services && this.services.config.functions.schedulerTickMs > 0) this.schedule(0);
    }

    private async tick(): Promise<void> {
        if (this.running) return;
        this.running = this.pass()
            .then(() => undefined)
            .catch((err: unknown) => this.s.log.error({ err }, 'scheduler pass failed'))
            .finally(() => {
                this.running = undefined;
                this.schedule(this.s.config.functions.schedulerTickMs);
            });
        await this.running;
    }

    /** One pass: new schedules for new connections, lost runs given up, due schedules queued. */
    async pass(): Promise<number> {
        if (this.ticks++ % ENSURE_EVERY_TICKS === 0) await this.s.syncs.ensureSchedules();
        await this.s.syncs.reapLost(this.s.config.functions.lostAfterMs);
        let queued = 0;
        for (;;) {
            const n = await this.s.db.transaction(async (tx) => {
                const claimed = await this.s.syncs.claimDue(tx, CLAIM_BATCH);
                for (const c of claimed) await this.queue.send(tx, SYNC_QUEUE, { jobId: c.jobId });
                return claimed.length;
            });
            queued += n;
            if (n < CLAIM_BATCH || this.stopped) return queued;
        }
    }

    async stop(): Promise<void> {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        await this.running;
        await this.queue.stop();
    }
}
