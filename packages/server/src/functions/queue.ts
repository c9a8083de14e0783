import { PgBoss, type Db as BossDb } from 'pg-boss';
import type { Db, Queryable } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';

export const ACTION_QUEUE = 'switchboard-action-run';
export const ON_EVENT_QUEUE = 'switchboard-on-event-run';
export const WEBHOOK_QUEUE = 'switchboard-webhook-run';

/** pg-boss speaks to our storage through its documented `db` adapter, so it runs on PGlite and PostgreSQL alike. */
function adapter(db: Db): BossDb {
    return {
        executeSql: async (text: string, values?: unknown[]) => ({ rows: values?.length ? await db.query(text, values) : await db.script(text) })
    };
}

/** The same adapter over a transaction of ours: a job sent through it commits or rolls back with that transaction. */
function txAdapter(tx: Queryable): BossDb {
    return { executeSql: async (text: string, values?: unknown[]) => ({ rows: await tx.query(text, values ?? []) }) };
}

/**
 * The job queue (pg-boss): runs and async actions are jobs in PostgreSQL, fetched with SKIP LOCKED by every
 * instance, so work is shared with no double execution and no cluster protocol of our own.
 */
export class JobQueue {
    private readonly boss: PgBoss;
    private readonly log: Logger;
    private started = false;

    constructor(db: Db, log: Logger) {
        this.log = log;
        this.boss = new PgBoss({ db: adapter(db), schema: 'pgboss', ...(db.kind === 'pglite' ? { backend: 'pglite' as const } : {}) });
        this.boss.on('error', (err: unknown) => this.log.error({ err }, 'job queue error'));
    }

    async start(queues: Array<{ name: string; expireInSeconds: number; retryLimit?: number }>): Promise<void> {
        await this.boss.start();
        this.started = true;
        for (const q of queues) {
            const existing = await this.boss.getQueue(q.name);
            if (!existing) await this.boss.createQueue(q.name, { expireInSeconds: q.expireInSeconds, retryLimit: q.retryLimit ?? 0, retryBackoff: true });
        }
    }

    /** Queues a job inside the caller's transaction. */
    async send(tx: Queryable, queue: string, data: object, opts: { retryLimit?: number; expireInSeconds?: number } = {}): Promise<void> {
        await this.boss.send(queue, data, { ...opts, db: txAdapter(tx) });
    }

    /**
     * Runs up to `concurrency` jobs at once on this instance. Workers take small batches and run them side by side;
     * a full batch means the queue has more, so pg-boss fetches again at once instead of waiting for its next poll
     * (burst mode only exists for batches larger than one).
     */
    async work<T extends object>(queue: string, concurrency: number, handler: (data: T) => Promise<void>): Promise<void> {
        const batchSize = 2;
        await this.boss.work<T>(
            queue,
            { localConcurrency: Math.max(1, Math.ceil(concurrency / batchSize)), batchSize, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
            async (jobs) => {
                await Promise.all(jobs.map((job) => handler(job.data)));
            }
        );
    }

    async stop(): Promise<void> {
        if (this.started) await this.boss.stop({ graceful: true, timeout: 5000 });
    }
}
