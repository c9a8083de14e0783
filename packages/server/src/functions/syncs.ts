import type { Db, Queryable } from '../storage/db.ts';
import { nextSlot, parseFrequency } from './frequency.ts';

export type SyncStatus = 'STARTED' | 'PAUSED';
export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'ERROR' | 'STOPPED';
export type ModelCounts = Record<string, { added: number; updated: number; deleted: number }>;

/** One schedule: a sync function on one connection (and variant), with its latest run. */
export interface SyncView {
    id: string;
    functionId: number;
    name: string;
    variant: string;
    connectionDbId: number;
    connectionId: string;
    providerConfigKey: string;
    status: SyncStatus;
    runs: string;
    frequencyOverride: string | null;
    nextRunAt: Date | null;
    runningJobId: number | null;
    lastSyncDate: Date | null;
    models: string[];
    job: { id: number; type: string; status: JobStatus; startedAt: Date | null; finishedAt: Date | null; result: ModelCounts; error: unknown } | null;
}

/**
 * The job type of an onWebhook run (kind `webhook`). Its row is a run like any other (ids, heartbeat, lost-run
 * reaping and the write fence all apply) but never the schedule: it does not set `running_job_id`, `last_sync_date` or the
 * latest run that /sync/status reports.
 */
export const WEBHOOK_JOB = 'WEBHOOK';

/** A sync schedule an inbound provider webhook may run the onWebhook handler of. */
export interface WebhookTarget {
    syncId: string;
    name: string;
    status: SyncStatus;
    connectionDbId: number;
    webhookSubscriptions: string[];
}

export interface ClaimedJob {
    jobId: number;
    syncId: string;
    /** The slot the run is for (now for a requested run): it starts then, or at once when that has passed. */
    dueAt: Date;
}

interface ViewRow {
    id: string;
    function_id: number;
    name: string;
    variant: string;
    connection_db_id: number;
    connection_id: string;
    unique_key: string;
    status: SyncStatus;
    config: { runs?: string; models?: string[] };
    frequency_override: string | null;
    next_run_at: Date | null;
    running_job_id: string | null;
    last_sync_date: Date | null;
    job_id: string | null;
    job_type: string | null;
    job_status: JobStatus | null;
    job_started_at: Date | null;
    job_finished_at: Date | null;
    job_result: ModelCounts | null;
    job_error: unknown;
}

// The latest run a schedule reports is its own: onWebhook runs (kind webhook) are left out.
const viewSql = `SELECT s.id, s.function_id, f.name, s.variant, c.id AS connection_db_id, c.connection_id, i.unique_key, s.status, f.config,
        s.frequency_override, s.next_run_at, s.running_job_id, s.last_sync_date,
        j.id AS job_id, j.type AS job_type, j.status AS job_status, j.started_at AS job_started_at, j.finished_at AS job_finished_at,
        j.result AS job_result, j.error AS job_error
    FROM syncs s JOIN functions f ON f.id = s.function_id JOIN connections c ON c.id = s.connection_id JOIN integrations i ON i.id = f.integration_id
    LEFT JOIN LATERAL (SELECT * FROM runs WHERE sync_id = s.id AND kind = 'sync' ORDER BY id DESC LIMIT 1) j ON true`;

const toView = (r: ViewRow): SyncView => ({
    id: r.id,
    functionId: r.function_id,
    name: r.name,
    variant: r.variant,
    connectionDbId: r.connection_db_id,
    connectionId: r.connection_id,
    providerConfigKey: r.unique_key,
    status: r.status,
    runs: r.config.runs ?? '',
    frequencyOverride: r.frequency_override,
    nextRunAt: r.next_run_at,
    runningJobId: r.running_job_id === null ? null : Number(r.running_job_id),
    lastSyncDate: r.last_sync_date,
    models: r.config.models ?? [],
    job:
        r.job_id === null
            ? null
            : {
                  id: Number(r.job_id),
                  type: r.job_type!,
                  status: r.job_status!,
                  startedAt: r.job_started_at,
                  finishedAt: r.job_finished_at,
                  result: r.job_result ?? {},
                  error: r.job_error
              }
});

/** Frequency in seconds of a schedule (its override wins); a bad stored value falls back to hourly rather than stopping the scheduler. */
export function frequencySeconds(runs: string, override: string | null): number {
    const parsed = parseFrequency(override ?? runs);
    return parsed.ok ? parsed.seconds : 3600;
}

/** Schedules, run requests and run records of syncs. */
export class SyncStore {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    /**
     * Creates the missing schedules: one per (sync function, connection of its integration). New connections get
     * theirs here, whichever path created them; `autoStart` decides whether they start right away. Each grid
     * starts when its schedule is created; schedules created together (a deploy over 10,000 connections) start
     * 10 ms apart, at most 30 s (the shortest period) in all, so their runs do not all fall due in one instant.
     */
    async ensureSchedules(
        q: Queryable = this.db,
        scope: { environmentId?: number; connectionDbId?: number; afterConnectionDbId?: number } = {}
    ): Promise<number> {
        const rows = await q.query<{ id: string }>(
            `INSERT INTO syncs (id, function_id, connection_id, status, starts_at, next_run_at)
             SELECT gen_random_uuid(), n.function_id, n.connection_id, n.status, n.at, n.at FROM (
                SELECT f.id AS function_id, c.id AS connection_id, CASE WHEN (f.config->>'autoStart')::boolean THEN 'STARTED' ELSE 'PAUSED' END AS status,
                       now() + (row_number() OVER (ORDER BY c.id, f.id) - 1) * least(0.01, 30.0 / count(*) OVER ()) * interval '1 second' AS at
                FROM functions f JOIN connections c ON c.integration_id = f.integration_id
                WHERE f.type = 'sync' AND ($1::int IS NULL OR f.environment_id = $1) AND ($2::int IS NULL OR c.id = $2) AND ($3::int IS NULL OR c.id > $3)
                  AND NOT EXISTS (SELECT 1 FROM syncs s WHERE s.function_id = f.id AND s.connection_id = c.id AND s.variant = 'base')
             ) n
             ON CONFLICT DO NOTHING RETURNING id`,
            [scope.environmentId ?? null, scope.connectionDbId ?? null, scope.afterConnectionDbId ?? null]
        );
        return rows.length;
    }

    /** The highest connection row id: later connections are the new ones a scheduler pass looks at. */
    async lastConnectionDbId(q: Queryable = this.db): Promise<number> {
        const rows = await q.query<{ id: number | null }>('SELECT max(id) AS id FROM connections');
        return Number(rows[0]?.id ?? 0);
    }

    /**
     * Adds a variant's schedule on one connection: same function, grid from now, started when the sync auto-starts
     * (as its base schedule). Undefined when the variant already exists (the unique key decides, so two concurrent
     * creations cannot both win).
     */
    async createVariant(
        r: { functionId: number; connectionDbId: number; variant: string; started: boolean },
        q: Queryable = this.db
    ): Promise<string | undefined> {
        const rows = await q.query<{ id: string }>(
            `INSERT INTO syncs (id, function_id, connection_id, variant, status, next_run_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, now())
             ON CONFLICT (function_id, connection_id, variant) DO NOTHING RETURNING id`,
            [r.functionId, r.connectionDbId, r.variant, r.started ? 'STARTED' : 'PAUSED']
        );
        return rows[0]?.id;
    }

    /**
     * Deletes one schedule and its run records. Deleting the job rows waits for any write its run has in flight
     * (holdRunning), and every later write of that run finds no job and is refused; its worker stops at the next
     * heartbeat, as when a redeploy removes the sync.
     */
    async remove(id: string, q: Queryable = this.db): Promise<boolean> {
        const rows = await q.query('DELETE FROM syncs WHERE id = $1 RETURNING id', [id]);
        return rows.length > 0;
    }

    async find(
        environmentId: number,
        providerConfigKey: string,
        opts: { names?: string[]; connectionId?: string },
        q: Queryable = this.db
    ): Promise<SyncView[]> {
        const rows = await q.query<ViewRow>(
            `${viewSql} WHERE f.environment_id = $1 AND i.unique_key = $2 AND ($3::text[] IS NULL OR f.name = ANY($3)) AND ($4::text IS NULL OR c.connection_id = $4)
             ORDER BY f.name, c.connection_id, s.variant`,
            [environmentId, providerConfigKey, opts.names ?? null, opts.connectionId ?? null]
        );
        return rows.map(toView);
    }

    async byId(id: string, q: Queryable = this.db): Promise<SyncView | undefined> {
        const rows = await q.query<ViewRow>(`${viewSql} WHERE s.id = $1`, [id]);
        return rows[0] && toView(rows[0]);
    }

    /** byId for many (a sync worker's batch): one round trip; the ones gone are left out. */
    async byIds(ids: string[], q: Queryable = this.db): Promise<SyncView[]> {
        if (ids.length === 0) return [];
        const rows = await q.query<ViewRow>(`${viewSql} WHERE s.id = ANY($1::uuid[])`, [ids]);
        return rows.map(toView);
    }

    async setStatus(ids: string[], status: SyncStatus): Promise<void> {
        await this.db.transaction(async (tx) => {
            const rows = await tx.query<{
                id: string;
                status: SyncStatus;
                runs: string | null;
                frequency_override: string | null;
                starts_at: Date;
                next_run_at: Date | null;
                now: Date;
            }>(
                `SELECT s.id, s.status, f.config->>'runs' AS runs, s.frequency_override, s.starts_at, s.next_run_at, now() AS now
                 FROM syncs s JOIN functions f ON f.id = s.function_id WHERE s.id = ANY($1::uuid[]) FOR UPDATE OF s`,
                [ids]
            );
            for (const r of rows) {
                // A schedule started again keeps its grid: the slots missed while paused are skipped, not run at once.
                const stale = r.status === 'PAUSED' && status === 'STARTED' && (!r.next_run_at || r.next_run_at <= r.now);
                const next = stale ? nextSlot(r.starts_at, frequencySeconds(r.runs ?? '', r.frequency_override), r.now) : r.next_run_at;
                await tx.query('UPDATE syncs SET status = $2, next_run_at = $3 WHERE id = $1', [r.id, status, next]);
            }
        });
    }

    async requestRun(ids: string[], opts: { reset: boolean; emptyCache: boolean }): Promise<void> {
        await this.db.query(
            'UPDATE syncs SET trigger_requested = true, pending_reset = pending_reset OR $2, pending_empty_cache = pending_empty_cache OR $3 WHERE id = ANY($1::uuid[])',
            [ids, opts.reset, opts.emptyCache]
        );
    }

    async setFrequencyOverride(id: string, frequency: string | null): Promise<void> {
        await this.db.query('UPDATE syncs SET frequency_override = $2, starts_at = now(), next_run_at = now() WHERE id = $1', [id, frequency]);
    }

    /**
     * Turns due schedules into queued runs, in bulk and in the caller's transaction: a schedule is due when started
     * and its slot comes within `lookaheadMs`, or when a run was requested. A schedule with a queued or running run
     * is skipped (no overlap), and the next slot is the first grid point after the one claimed, or after now when
     * slots were missed (they are skipped, never replayed). SKIP LOCKED lets every instance claim at once without
     * claiming the same schedule twice. Three statements per batch, whatever its size: the locking read (through
     * the due and requested indexes only), the runs inserted and the schedules moved on together, and the caller's
     * queue insert.
     */
    async claimDue(tx: Queryable, limit: number, lookaheadMs = 0): Promise<ClaimedJob[]> {
        const due = await tx.query<{
            id: string;
            runs: string | null;
            frequency_override: string | null;
            status: SyncStatus;
            starts_at: Date;
            next_run_at: Date | null;
            last_sync_date: Date | null;
            trigger_requested: boolean;
            pending_reset: boolean;
            pending_empty_cache: boolean;
            now: Date;
        }>(
            // The locking reads return the columns themselves: a row another instance changed since this
            // statement's snapshot is read as it is once locked, not as the snapshot saw it.
            `WITH due AS (
                SELECT id, function_id, frequency_override, status, starts_at, next_run_at, last_sync_date, trigger_requested, pending_reset, pending_empty_cache
                FROM syncs WHERE running_job_id IS NULL AND status = 'STARTED' AND next_run_at <= now() + $2::int * interval '1 millisecond'
                ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED
             ), asked AS (
                SELECT id, function_id, frequency_override, status, starts_at, next_run_at, last_sync_date, trigger_requested, pending_reset, pending_empty_cache
                FROM syncs WHERE running_job_id IS NULL AND trigger_requested LIMIT $1 FOR UPDATE SKIP LOCKED
             )
             SELECT s.id, f.config->>'runs' AS runs, s.frequency_override, s.status, s.starts_at, s.next_run_at, s.last_sync_date, s.trigger_requested,
                    s.pending_reset, s.pending_empty_cache, now() AS now
             FROM (SELECT * FROM due UNION SELECT * FROM asked) s JOIN functions f ON f.id = s.function_id`,
            [limit, Math.max(0, Math.round(lookaheadMs))]
        );
        if (!due.length) return [];
        const now = due[0]!.now;
        const plan = due.map((d) => {
            // A slot within the look-ahead is run at its time, a missed one at once; a requested run at once.
            const slot = d.status === 'STARTED' && d.next_run_at && d.next_run_at.getTime() <= now.getTime() + lookaheadMs ? d.next_run_at : undefined;
            const dueAt = !d.trigger_requested && slot ? slot : now;
            const from = slot && slot > now ? slot : now;
            return {
                id: d.id,
                type: d.pending_reset ? 'FULL' : d.last_sync_date ? 'INCREMENTAL' : 'INITIAL',
                reset: d.pending_reset,
                emptyCache: d.pending_empty_cache,
                next: nextSlot(d.starts_at, frequencySeconds(d.runs ?? '', d.frequency_override), from),
                dueAt
            };
        });
        const rows = await tx.query<{ id: string; sync_id: string }>(
            `WITH v AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::boolean[], $5::timestamptz[], $6::timestamptz[]) AS v(sync_id, type, reset, empty_cache, next_run_at, due_at)
             ), ins AS (
                INSERT INTO runs (kind, sync_id, type, status, reset, empty_cache, due_at) SELECT 'sync', sync_id, type, 'QUEUED', reset, empty_cache, due_at FROM v
                RETURNING id, sync_id
             ), moved AS (
                UPDATE syncs s SET running_job_id = ins.id, next_run_at = v.next_run_at, trigger_requested = false, pending_reset = false, pending_empty_cache = false
                FROM ins JOIN v ON v.sync_id = ins.sync_id WHERE s.id = ins.sync_id
                RETURNING s.id
             )
             SELECT id, sync_id FROM ins`,
            [
                plan.map((p) => p.id),
                plan.map((p) => p.type),
                plan.map((p) => p.reset),
                plan.map((p) => p.emptyCache),
                plan.map((p) => p.next.toISOString()),
                plan.map((p) => p.dueAt.toISOString())
            ]
        );
        const dueById = new Map(plan.map((p) => [p.id, p.dueAt]));
        return rows.map((r) => ({ jobId: Number(r.id), syncId: r.sync_id, dueAt: dueById.get(r.sync_id)! }));
    }

    /**
     * The `base` schedules of the integration's deployed syncs on the given connections (webhook runs always
     * belong to the base sync, as in Nango). Missing schedules of new connections are created first, so a webhook
     * that arrives before the scheduler's next pass is not dropped.
     */
    async webhookTargets(tx: Queryable, integrationId: number, connectionDbIds: number[]): Promise<WebhookTarget[]> {
        if (!connectionDbIds.length) return [];
        for (const id of connectionDbIds) await this.ensureSchedules(tx, { connectionDbId: id });
        const rows = await tx.query<{ id: string; name: string; status: SyncStatus; connection_id: number; subs: string[] | null }>(
            `SELECT s.id, f.name, s.status, s.connection_id, ARRAY(SELECT jsonb_array_elements_text(COALESCE(f.config->'webhookSubscriptions', '[]'::jsonb))) AS subs
             FROM syncs s JOIN functions f ON f.id = s.function_id
             WHERE f.integration_id = $1 AND f.type = 'sync' AND s.variant = 'base' AND s.connection_id = ANY($2::int[])
             ORDER BY s.connection_id, f.name`,
            [integrationId, connectionDbIds]
        );
        return rows.map((r) => ({ syncId: r.id, name: r.name, status: r.status, connectionDbId: Number(r.connection_id), webhookSubscriptions: r.subs ?? [] }));
    }

    /** Queues a webhook run of one schedule, in the caller's transaction; returns its job id. */
    async queueWebhookJob(tx: Queryable, syncId: string): Promise<number> {
        const rows = await tx.query<{ id: string }>(`INSERT INTO runs (kind, sync_id, type, status) VALUES ('webhook', $1, $2, $3) RETURNING id`, [
            syncId,
            WEBHOOK_JOB,
            'QUEUED'
        ]);
        return Number(rows[0]!.id);
    }
}
