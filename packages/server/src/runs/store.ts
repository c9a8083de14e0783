import type { Db, Queryable } from '../storage/db.ts';
import type { ModelCounts } from '../functions/syncs.ts';
import { encryptedColumn, reencryptColumn } from '../vault/rotate.ts';
import type { Vault } from '../vault/vault.ts';

/** What ran: a scheduled sync, a sync's onWebhook handler, an action, or an on-event script. */
export type RunKind = 'sync' | 'webhook' | 'action' | 'on-event';
export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'ERROR' | 'STOPPED';
export type EndStatus = 'SUCCESS' | 'ERROR' | 'STOPPED';

/** A run taken from the queue (or started inline): what its worker needs to run it. */
export interface StartedRun {
    id: number;
    kind: RunKind;
    /** The public id of an asynchronous action. */
    uuid: string | null;
    syncId: string | null;
    type: string | null;
    reset: boolean;
    emptyCache: boolean;
    connectionDbId: number | null;
    functionId: number | null;
    input: unknown;
    maxRetries: number;
    startedAt: Date;
}

/** A run the reaper gave up on: enough to tell its app (webhook) and its audit trail. */
export interface LostRun {
    id: number;
    kind: RunKind;
    uuid: string | null;
    syncId: string | null;
    type: string | null;
    environmentId: number | null;
    connectionDbId: number | null;
    functionId: number | null;
    startedAt: Date | null;
}

export interface ActionRunView {
    status: RunStatus;
    output: unknown;
    error: unknown;
}

/** Which runs a list shows, newest first: `before` is the id of the last run of the previous page. */
export interface RunListFilter {
    integration?: string | undefined;
    connectionId?: string | undefined;
    status?: RunStatus | undefined;
    before?: number | undefined;
    limit: number;
}

/** A sync run (scheduled, triggered or onWebhook's sync) as the dashboard lists it. */
export interface SyncRunSummary {
    id: number;
    sync: string;
    variant: string;
    providerConfigKey: string;
    connectionId: string;
    type: string | null;
    reset: boolean;
    status: RunStatus;
    queuedAt: Date;
    startedAt: Date | null;
    finishedAt: Date | null;
    result: Record<string, unknown> | null;
    error: unknown;
}

/** An action run (synchronous or X-Async) as the dashboard lists it: sizes of input and output, never their contents. */
export interface ActionRunSummary {
    id: number;
    /** The public id of an asynchronous action; null for a synchronous one. */
    uuid: string | null;
    action: string;
    providerConfigKey: string;
    connectionId: string | null;
    status: RunStatus;
    attempts: number;
    queuedAt: Date;
    startedAt: Date | null;
    finishedAt: Date | null;
    inputBytes: number | null;
    outputBytes: number | null;
    error: unknown;
}

/** The error a run ends with when its worker stopped heart-beating. */
export const WORKER_LOST = {
    type: 'worker_lost',
    message: 'The run stopped reporting (its server instance stopped or crashed) and was given up; a sync resumes from its last checkpoint at its next run'
};

interface StartedRow {
    id: string;
    kind: RunKind;
    uuid: string | null;
    sync_id: string | null;
    type: string | null;
    reset: boolean;
    empty_cache: boolean;
    connection_id: number | null;
    function_id: number | null;
    input: unknown;
    input_sealed: string | null;
    max_retries: number;
    started_at: Date;
}

const startedColumns = 'id, kind, uuid, sync_id, type, reset, empty_cache, connection_id, function_id, input, input_sealed, max_retries, started_at';

/** The vault owner of an asynchronous action's input and output: its public id, so a row's ciphertext opens on no other row. */
const ownerOf = (uuid: string): string => `action-run:${uuid}`;

/**
 * The one table of script runs (`runs`): every kind is started, heart-beaten, fenced, finished and reaped by the
 * same statements. A sync's schedule (`syncs.running_job_id`) is freed when its run ends, whichever way.
 */
// Endings queued by finishSoon() are written together, up to this many per statement, at most this long after the
// first of them (the runner processes end runs one by one, so a batch needs a moment to gather).
const FINISH_BATCH = 500;
const FINISH_GATHER_MS = 20;

/** How a run ends. `output` is kept (sealed) only for an asynchronous action, whose `uuid` GET /action/:id reads it by. */
export type RunEnd = {
    status: EndStatus;
    result?: ModelCounts;
    output?: unknown;
    /** An action's output size in bytes of JSON (kept even where the output itself is not: a synchronous action). */
    outputBytes?: number | null;
    uuid?: string | null;
    error?: unknown;
};
/** Bytes of a value's JSON: what the dashboard shows of an action's input and output instead of their contents. */
export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v ?? null) ?? 'null', 'utf8');
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/**
 * The columns both run lists read, with their row: aliases r (runs), i (integrations) and c (connections); `C` is
 * the connection id's type (an action may have none).
 */
const RUN_LIST_COLUMNS = `r.id::text AS id, r.status, r.queued_at, r.started_at, r.finished_at, r.error,
                    i.unique_key AS provider_config_key, c.connection_id`;
interface RunListRow<C extends string | null> {
    id: string;
    status: RunStatus;
    queued_at: Date;
    started_at: Date | null;
    finished_at: Date | null;
    error: unknown;
    provider_config_key: string;
    connection_id: C;
}

/**
 * The rest of a run list's query after its own `WHERE … = $1` (the environment), and all its parameters: the
 * RunListFilter's integration, connection, status and cursor, newest first, one page.
 */
function runListPage(environmentId: number, f: RunListFilter): { sql: string; params: unknown[] } {
    return {
        sql: `AND ($2::text IS NULL OR i.unique_key = $2) AND ($3::text IS NULL OR c.connection_id = $3)
               AND ($4::text IS NULL OR r.status = $4) AND ($5::bigint IS NULL OR r.id < $5)
             ORDER BY r.id DESC LIMIT $6`,
        params: [environmentId, f.integration ?? null, f.connectionId ?? null, f.status ?? null, f.before ?? null, f.limit]
    };
}

/** What a sync run's and an action run's summaries share, from RUN_LIST_COLUMNS. */
function runSummary<C extends string | null>(
    r: RunListRow<C>
): Pick<SyncRunSummary, 'id' | 'providerConfigKey' | 'status' | 'queuedAt' | 'startedAt' | 'finishedAt' | 'error'> & { connectionId: C } {
    return {
        id: Number(r.id),
        providerConfigKey: r.provider_config_key,
        connectionId: r.connection_id,
        status: r.status,
        queuedAt: new Date(r.queued_at),
        startedAt: r.started_at ? new Date(r.started_at) : null,
        finishedAt: r.finished_at ? new Date(r.finished_at) : null,
        error: r.error
    };
}

export class RunStore {
    private readonly db: Db;
    private readonly vault: Vault;
    private pendingEnds: Array<{ id: number; out: RunEnd; done: (ended: boolean) => void; failed: (err: unknown) => void }> = [];
    private flushTimer: NodeJS.Timeout | undefined;
    private flushing: Promise<void> | undefined;

    constructor(db: Db, vault: Vault) {
        this.db = db;
        this.vault = vault;
    }

    private toStarted(r: StartedRow): StartedRun {
        return {
            id: Number(r.id),
            kind: r.kind,
            uuid: r.uuid,
            syncId: r.sync_id,
            type: r.type,
            reset: r.reset,
            emptyCache: r.empty_cache,
            connectionDbId: r.connection_id,
            functionId: r.function_id,
            input: r.input_sealed !== null && r.uuid !== null ? this.vault.decryptJson(r.input_sealed, ownerOf(r.uuid)) : r.input,
            maxRetries: r.max_retries,
            startedAt: r.started_at
        };
    }

    /** The sealed output of an ending, or null: only an asynchronous action's output is kept. */
    private sealedOutput(out: RunEnd): string | null {
        return out.output === undefined || !out.uuid ? null : this.vault.encryptJson(out.output, ownerOf(out.uuid));
    }

    /** Queues an asynchronous action in the caller's transaction, under its public uuid. */
    async queueAction(
        tx: Queryable,
        r: { uuid: string; environmentId: number; connectionDbId: number; functionId: number; input: unknown; maxRetries: number }
    ): Promise<void> {
        await tx.query(
            `INSERT INTO runs (kind, uuid, environment_id, connection_id, function_id, status, input_sealed, max_retries, input_bytes)
             VALUES ('action', $1, $2, $3, $4, 'QUEUED', $5, $6, $7)`,
            [
                r.uuid,
                r.environmentId,
                r.connectionDbId,
                r.functionId,
                this.vault.encryptJson(r.input ?? null, ownerOf(r.uuid)),
                r.maxRetries,
                jsonBytes(r.input)
            ]
        );
    }

    /** Records a run that starts at once (a synchronous action, an on-event script): RUNNING from the start. */
    async startInline(r: {
        kind: 'action' | 'on-event';
        environmentId: number;
        connectionDbId: number | null;
        functionId: number;
        /** A synchronous action's input size (the input itself is not kept). */
        inputBytes?: number;
    }): Promise<StartedRun> {
        const rows = await this.db.query<StartedRow>(
            `INSERT INTO runs (kind, environment_id, connection_id, function_id, status, started_at, heartbeat_at, attempts, input_bytes)
             VALUES ($1, $2, $3, $4, 'RUNNING', now(), now(), 1, $5)
             RETURNING ${startedColumns}`,
            [r.kind, r.environmentId, r.connectionDbId, r.functionId, r.inputBytes ?? null]
        );
        return this.toStarted(rows[0]!);
    }

    /**
     * Marks a queued run running, found by id or (an asynchronous action) by its public uuid; undefined when it is
     * no longer queued (stopped, reaped, or already taken).
     */
    async start(key: number | { uuid: string }): Promise<StartedRun | undefined> {
        const rows = await this.db.query<StartedRow>(
            `UPDATE runs SET status = 'RUNNING', started_at = now(), heartbeat_at = now(), attempts = attempts + 1
             WHERE ${typeof key === 'number' ? 'id = $1' : 'uuid = $1::uuid'} AND status = 'QUEUED'
             RETURNING ${startedColumns}`,
            [typeof key === 'number' ? key : key.uuid]
        );
        return rows[0] && this.toStarted(rows[0]);
    }

    /**
     * Takes up to `limit` queued sync runs that are due, earliest first, and marks them started: the sync runs' queue
     * is this table, and one statement claims a batch. SKIP LOCKED lets every instance take at once and never the
     * same run twice; a run another instance took in between is no longer QUEUED when its lock is granted.
     */
    async claimDueSyncs(limit: number): Promise<StartedRun[]> {
        const rows = await this.db.query<StartedRow>(
            `UPDATE runs SET status = 'RUNNING', started_at = now(), heartbeat_at = now(), attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM runs WHERE status = 'QUEUED' AND kind = 'sync' AND due_at <= now()
                 ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
             ) AND status = 'QUEUED'
             RETURNING ${startedColumns}`,
            [limit]
        );
        return rows.map((r) => this.toStarted(r));
    }

    /** Proves the run is alive; false once it was stopped, given up as lost, or deleted with its owner. */
    async heartbeat(id: number, result: ModelCounts): Promise<boolean> {
        const rows = await this.db.query(`UPDATE runs SET heartbeat_at = now(), result = $2 WHERE id = $1 AND status = 'RUNNING' RETURNING id`, [
            id,
            JSON.stringify(result)
        ]);
        return rows.length > 0;
    }

    /**
     * The fence of a run's writes, taken first in the write's transaction: true while the run is running, and then
     * the row stays until the write commits. KEY SHARE does not block the heartbeat or finish (non-key updates),
     * only the deletion of the row (schedule or sync removed).
     */
    async holdRunning(tx: Queryable, id: number): Promise<boolean> {
        const rows = await tx.query(`SELECT 1 FROM runs WHERE id = $1 AND status = 'RUNNING' FOR KEY SHARE`, [id]);
        return rows.length > 0;
    }

    /**
     * Ends a run once (false when it already ended or is gone) and frees its schedule; a successful scheduled sync
     * also records its start as the next lastSyncDate. One statement, so it is atomic on its own: a caller with
     * nothing else to write in the same transaction may pass the Db itself (one round trip instead of four).
     */
    async finish(q: Queryable, id: number, out: RunEnd): Promise<boolean> {
        const rows = await q.query<{ id: string }>(
            `WITH ended AS (
                 UPDATE runs SET status = $2, finished_at = now(), result = COALESCE($3::jsonb, result), output_sealed = $4, error = $5,
                     output_bytes = COALESCE($6::integer, output_bytes)
                 WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')
                 RETURNING id, sync_id, kind, started_at
             ), freed AS (
                 UPDATE syncs s SET running_job_id = NULL, last_job_id = e.id,
                     last_sync_date = CASE WHEN $2 = 'SUCCESS' AND e.kind = 'sync' THEN e.started_at ELSE s.last_sync_date END
                 FROM ended e WHERE s.id = e.sync_id AND s.running_job_id = e.id
             )
             SELECT id FROM ended`,
            [
                id,
                out.status,
                out.result === undefined ? null : JSON.stringify(out.result),
                this.sealedOutput(out),
                out.error === undefined ? null : JSON.stringify(out.error),
                out.outputBytes ?? null
            ]
        );
        return rows.length > 0;
    }

    /**
     * finish() outside any transaction, written together with the other endings queued in the same turn of the event
     * loop: one statement for a batch of runs (scheduled syncs end by the hundred a second). Resolves as finish().
     */
    finishSoon(id: number, out: RunEnd): Promise<boolean> {
        return new Promise((done, failed) => {
            if (this.pendingEnds.push({ id, out, done, failed }) === 1) {
                this.flushTimer = setTimeout(() => {
                    this.flushing = this.flushEnds().finally(() => (this.flushing = undefined));
                }, FINISH_GATHER_MS);
            }
        });
    }

    /** Writes the endings finishSoon() is still gathering (the server is stopping: nothing may be left behind). */
    async drain(): Promise<void> {
        clearTimeout(this.flushTimer);
        await this.flushing;
        if (this.pendingEnds.length) await this.flushEnds();
    }

    /**
     * Puts a scheduled sync run whose script never started (the server stopped first) back in the queue, due at
     * once, for another instance or the next start; false when it is no longer running (stopped, reaped, deleted).
     */
    async requeue(id: number): Promise<boolean> {
        const rows = await this.db.query(
            `UPDATE runs SET status = 'QUEUED', started_at = NULL, heartbeat_at = NULL, attempts = GREATEST(attempts - 1, 0)
             WHERE id = $1 AND kind = 'sync' AND status = 'RUNNING' RETURNING id`,
            [id]
        );
        return rows.length > 0;
    }

    private async flushEnds(): Promise<void> {
        const all = this.pendingEnds;
        this.pendingEnds = [];
        for (let i = 0; i < all.length; i += FINISH_BATCH) {
            const batch = all.slice(i, i + FINISH_BATCH);
            try {
                const rows = await this.db.query<{ id: string }>(
                    `WITH input AS (
                         SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::text[], $5::jsonb[], $6::integer[]) AS x(id, status, result, output, error, output_bytes)
                     ), ended AS (
                         UPDATE runs r SET status = x.status, finished_at = now(), result = COALESCE(x.result, r.result), output_sealed = x.output, error = x.error,
                             output_bytes = COALESCE(x.output_bytes, r.output_bytes)
                         FROM input x WHERE r.id = x.id AND r.status IN ('QUEUED', 'RUNNING')
                         RETURNING r.id, r.sync_id, r.kind, r.started_at, x.status
                     ), freed AS (
                         UPDATE syncs s SET running_job_id = NULL, last_job_id = e.id,
                             last_sync_date = CASE WHEN e.status = 'SUCCESS' AND e.kind = 'sync' THEN e.started_at ELSE s.last_sync_date END
                         FROM ended e WHERE s.id = e.sync_id AND s.running_job_id = e.id
                     )
                     SELECT id FROM ended`,
                    [
                        batch.map((e) => e.id),
                        batch.map((e) => e.out.status),
                        batch.map((e) => json(e.out.result)),
                        batch.map((e) => this.sealedOutput(e.out)),
                        batch.map((e) => json(e.out.error)),
                        batch.map((e) => e.out.outputBytes ?? null)
                    ]
                );
                const ended = new Set(rows.map((r) => Number(r.id)));
                for (const e of batch) e.done(ended.has(e.id));
            } catch (err) {
                for (const e of batch) e.failed(err);
            }
        }
    }

    /** Asks a queued or running run to stop (a full reset replaces the sync run in flight); its worker notices at its next beat. */
    async stop(id: number): Promise<void> {
        await this.db.transaction(async (tx) => {
            const rows = await tx.query<{ sync_id: string | null }>(
                `UPDATE runs SET status = 'STOPPED', finished_at = now() WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING sync_id`,
                [id]
            );
            if (rows[0]?.sync_id) await tx.query('UPDATE syncs SET running_job_id = NULL WHERE id = $1 AND running_job_id = $2', [rows[0].sync_id, id]);
        });
    }

    async status(id: number): Promise<RunStatus | undefined> {
        const rows = await this.db.query<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [id]);
        return rows[0]?.status;
    }

    /** An environment's sync runs, newest first, filtered by integration, connection and status. */
    async listSyncRuns(environmentId: number, f: RunListFilter): Promise<SyncRunSummary[]> {
        const page = runListPage(environmentId, f);
        const rows = await this.db.query<
            RunListRow<string> & { type: string | null; reset: boolean; result: Record<string, unknown> | null; sync_name: string; variant: string }
        >(
            `SELECT ${RUN_LIST_COLUMNS}, r.type, r.reset, r.result, f.name AS sync_name, y.variant
             FROM runs r JOIN syncs y ON y.id = r.sync_id JOIN functions f ON f.id = y.function_id
             JOIN integrations i ON i.id = f.integration_id JOIN connections c ON c.id = y.connection_id
             WHERE f.environment_id = $1 ${page.sql}`,
            page.params
        );
        return rows.map((r) => ({ ...runSummary(r), sync: r.sync_name, variant: r.variant, type: r.type, reset: r.reset, result: r.result }));
    }

    /** An environment's action runs, synchronous and X-Async, newest first, filtered as listSyncRuns is. */
    async listActionRuns(environmentId: number, f: RunListFilter): Promise<ActionRunSummary[]> {
        const page = runListPage(environmentId, f);
        const rows = await this.db.query<
            RunListRow<string | null> & { uuid: string | null; attempts: number; input_bytes: number | null; output_bytes: number | null; action: string }
        >(
            `SELECT ${RUN_LIST_COLUMNS}, r.uuid::text AS uuid, r.attempts, r.input_bytes, r.output_bytes, f.name AS action
             FROM runs r JOIN functions f ON f.id = r.function_id JOIN integrations i ON i.id = f.integration_id
             LEFT JOIN connections c ON c.id = r.connection_id
             WHERE r.kind = 'action' AND r.environment_id = $1 ${page.sql}`,
            page.params
        );
        return rows.map((r) => ({
            ...runSummary(r),
            uuid: r.uuid,
            action: r.action,
            attempts: r.attempts,
            inputBytes: r.input_bytes,
            outputBytes: r.output_bytes
        }));
    }

    /** An asynchronous action as GET /action/:id reads it. */
    async action(environmentId: number, uuid: string): Promise<ActionRunView | undefined> {
        const rows = await this.db.query<ActionRunView & { output_sealed: string | null }>(
            `SELECT status, output, output_sealed, error FROM runs WHERE uuid = $1 AND environment_id = $2 AND kind = 'action'`,
            [uuid, environmentId]
        );
        const r = rows[0];
        if (!r) return undefined;
        return { status: r.status, output: r.output_sealed !== null ? this.vault.decryptJson(r.output_sealed, ownerOf(uuid)) : r.output, error: r.error };
    }

    /**
     * Seals the input and output of asynchronous actions written in plaintext before they were encrypted (a start
     * after an upgrade), a batch at a time; rows another instance sealed meanwhile are left alone. Returns how many.
     */
    async sealPlaintext(): Promise<number> {
        let n = 0;
        for (;;) {
            const rows = await this.db.query<{ id: string; uuid: string; input: unknown; output: unknown }>(
                `SELECT id, uuid::text AS uuid, input, output FROM runs WHERE uuid IS NOT NULL AND (input IS NOT NULL OR output IS NOT NULL) ORDER BY id LIMIT 500`
            );
            if (rows.length === 0) return n;
            for (const r of rows) {
                const seal = (v: unknown): string | null => (v === null ? null : this.vault.encryptJson(v, ownerOf(r.uuid)));
                await this.db.query(
                    `UPDATE runs SET input_sealed = COALESCE($2, input_sealed), output_sealed = COALESCE($3, output_sealed), input = NULL, output = NULL
                     WHERE id = $1 AND (input IS NOT NULL OR output IS NOT NULL)`,
                    [r.id, seal(r.input), seal(r.output)]
                );
            }
            n += rows.length;
        }
    }

    /** Key rotation of asynchronous actions' sealed input and output. */
    async reencryptAll(failed: string[] = []): Promise<number> {
        const input = await reencryptColumn(this.db, this.vault, encryptedColumn('runs', 'input_sealed'), ownerOf, failed);
        return input + (await reencryptColumn(this.db, this.vault, encryptedColumn('runs', 'output_sealed'), ownerOf, failed));
    }

    /**
     * Deletes runs nobody reads back once they ended a day ago: synchronous actions (their caller got the answer) and
     * on-event scripts (the audit trail keeps them). Asynchronous actions stay readable by GET /action/:id.
     */
    async purgeAnswered(): Promise<number> {
        const rows = await this.db.query(
            `DELETE FROM runs WHERE uuid IS NULL AND kind IN ('action', 'on-event') AND status NOT IN ('QUEUED', 'RUNNING') AND finished_at < now() - interval '1 day' RETURNING id`
        );
        return rows.length;
    }

    /**
     * Gives up, in the caller's transaction, on runs of every kind whose worker stopped heart-beating (its process
     * died): they end as ERROR `worker_lost` and their schedule is free. Queued runs wait in the durable queue
     * however long the backlog is; only one left queued for a day (its queue job gone) is given up.
     */
    async reapLost(tx: Queryable, olderThanMs: number): Promise<LostRun[]> {
        const rows = await tx.query<{
            id: string;
            kind: RunKind;
            uuid: string | null;
            sync_id: string | null;
            type: string | null;
            environment_id: number | null;
            connection_id: number | null;
            function_id: number | null;
            started_at: Date | null;
        }>(
            `UPDATE runs SET status = 'ERROR', finished_at = now(), error = $2
             WHERE (status = 'RUNNING' AND heartbeat_at < now() - ($1::int * interval '1 millisecond'))
                OR (status = 'QUEUED' AND queued_at < now() - interval '24 hours')
             RETURNING id, kind, uuid, sync_id, type, environment_id, connection_id, function_id, started_at`,
            [olderThanMs, JSON.stringify(WORKER_LOST)]
        );
        for (const r of rows)
            if (r.sync_id) await tx.query('UPDATE syncs SET running_job_id = NULL, last_job_id = $2 WHERE id = $1 AND running_job_id = $2', [r.sync_id, r.id]);
        return rows.map((r) => ({
            id: Number(r.id),
            kind: r.kind,
            uuid: r.uuid,
            syncId: r.sync_id,
            type: r.type,
            environmentId: r.environment_id,
            connectionDbId: r.connection_id === null ? null : Number(r.connection_id),
            functionId: r.function_id,
            startedAt: r.started_at
        }));
    }
}
