import type { Db, Queryable } from '../storage/db.ts';
import { chunkJson, prepareBatch, type IncomingRecord } from './input.ts';
import { decodeCursor } from './cursor.ts';
import { listPage, listPageJson, recordsByIds, type ListQuery, type RecordPage, type RecordPageJson } from './reads.ts';
import { addCounts, deleteChunk, deleteChunkJson, saveChunk, updateChunk, zeroCounts, type RecordScope, type WriteCounts } from './writes.ts';

export type { RecordScope, WriteCounts } from './writes.ts';
export type { ListQuery, RecordPage, RecordPageJson, RecordFilter } from './reads.ts';

/** Records per SQL statement: big enough to amortise the round trip, small enough to bound one statement's memory. */
const CHUNK = 1000;
export const DEFAULT_PRUNE_LIMIT = 1000;

function chunks<T>(items: T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
    return out;
}

/**
 * Serialises writers of one (connection, model) until the transaction ends (works on PGlite too), then reads the
 * time every row of this call is stamped with. Taking the clock after the lock makes updated_at grow with commit
 * order within a feed, so a reader's cursor never skips a transaction that commits later with an older stamp.
 */
async function lockScope(tx: Queryable, scope: RecordScope): Promise<string> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`switchboard:records:${scope.connectionId}:${scope.model}`]);
    const [row] = await tx.query<{ ts: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS ts`);
    return row!.ts;
}

/** The records cache of every connection: sync writes (batchSave/Update/Delete, delete detection) and the read feed. */
export class RecordsStore {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    /** Runs fn in the caller's transaction when given one, else in a new one. */
    private inTx<T>(tx: Queryable | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> {
        return tx ? fn(tx) : this.db.transaction(fn);
    }

    /**
     * Runs `run` on each chunk under the scope lock. Chunk i+1 is serialised (JSON + md5, the client's CPU work)
     * while the database executes chunk i, so the two overlap instead of adding up.
     */
    private async write(
        scope: RecordScope,
        items: IncomingRecord[],
        tx: Queryable | undefined,
        serialise: (chunk: IncomingRecord[]) => string,
        run: (q: Queryable, json: string, ts: string) => Promise<WriteCounts>
    ): Promise<WriteCounts> {
        const total = zeroCounts();
        if (items.length === 0) return total;
        const parts = chunks(items);
        return this.inTx(tx, async (q) => {
            const ts = await lockScope(q, scope);
            let next = serialise(parts[0]!);
            for (let i = 0; i < parts.length; i++) {
                const running = run(q, next, ts);
                // Keep the rejection attached until awaited below, so an error in serialise() cannot leave it unhandled.
                running.catch(() => undefined);
                if (i + 1 < parts.length) next = serialise(parts[i + 1]!);
                addCounts(total, await running);
            }
            return total;
        });
    }

    /** Like write() for batchUpdate, whose chunks read before they write and so cannot be pre-serialised. */
    private async writeEach(
        scope: RecordScope,
        items: IncomingRecord[],
        tx: Queryable | undefined,
        run: (q: Queryable, chunk: IncomingRecord[], ts: string) => Promise<WriteCounts>
    ): Promise<WriteCounts> {
        const total = zeroCounts();
        if (items.length === 0) return total;
        return this.inTx(tx, async (q) => {
            const ts = await lockScope(q, scope);
            for (const chunk of chunks(items)) addCounts(total, await run(q, chunk, ts));
            return total;
        });
    }

    /** batchSave: upserts records and classifies each as added, updated or unchanged (docs/scripts-compatibility.md, "Records"). */
    async save(
        scope: RecordScope,
        records: Array<Record<string, unknown>>,
        jobId: number,
        syncId?: string,
        tx?: Queryable
    ): Promise<WriteCounts & { duplicates: string[] }> {
        const { items, duplicates } = prepareBatch(records);
        const counts = await this.write(
            scope,
            items,
            tx,
            (c) => chunkJson(c),
            (q, json, ts) => saveChunk(q, scope, json, ts, jobId, syncId ?? null)
        );
        return { ...counts, duplicates };
    }

    /** batchUpdate: deep-merges into existing live records; unknown or deleted ids are ignored. */
    async update(scope: RecordScope, records: Array<Record<string, unknown>>, jobId: number, tx?: Queryable): Promise<WriteCounts> {
        const { items } = prepareBatch(records);
        return this.writeEach(scope, items, tx, (q, chunk, ts) => updateChunk(q, scope, chunk, ts, jobId));
    }

    /** batchDelete: soft-deletes live records; unknown ids become uncounted tombstones. */
    async delete(scope: RecordScope, records: Array<Record<string, unknown>>, jobId: number, tx?: Queryable): Promise<WriteCounts> {
        const { items } = prepareBatch(records);
        return this.write(scope, items, tx, deleteChunkJson, (q, json, ts) => deleteChunk(q, scope, json, ts, jobId));
    }

    /** trackDeletesEnd: soft-deletes every live record no job since `jobId` wrote or saw; returns their ids. */
    async deleteNotSeenSince(scope: RecordScope, jobId: number, tx?: Queryable): Promise<string[]> {
        return this.inTx(tx, async (q) => {
            const ts = await lockScope(q, scope);
            const rows = await q.query<{ external_id: string }>(
                `UPDATE records SET deleted_at = $3::timestamptz, updated_at = $3::timestamptz
                 WHERE connection_id = $1 AND model = $2 AND deleted_at IS NULL AND last_seen_job < $4
                 RETURNING external_id`,
                [scope.connectionId, scope.model, ts, jobId]
            );
            return rows.map((r) => r.external_id);
        });
    }

    /** Records by external id (deleted ones included, with their metadata), in the order asked. */
    getByIds(scope: RecordScope, ids: string[], tx?: Queryable): Promise<Array<Record<string, unknown>>> {
        return recordsByIds(tx ?? this.db, scope, ids);
    }

    /** One page of the feed (GET /records). An invalid cursor throws `invalid_cursor`. */
    list(scope: RecordScope, q: ListQuery, tx?: Queryable): Promise<RecordPage> {
        return listPage(tx ?? this.db, scope, q);
    }

    /** list() as the JSON text of the page, served as it is by GET /records (no parse-and-serialise round trip). */
    listJson(scope: RecordScope, q: ListQuery, tx?: Queryable): Promise<RecordPageJson> {
        return listPageJson(tx ?? this.db, scope, q);
    }

    /** Removes records for good (a sync's models deleted, or a full resync); returns how many rows went. */
    async hardDelete(connectionId: number, models: string[], tx?: Queryable): Promise<number> {
        if (models.length === 0) return 0;
        return this.inTx(tx, async (q) => {
            // Locks in a fixed order, so two callers with overlapping model lists cannot deadlock.
            for (const model of [...new Set(models)].sort()) await lockScope(q, { connectionId, model });
            const rows = await q.query<{ n: number }>(
                `WITH gone AS (DELETE FROM records WHERE connection_id = $1 AND model IN (SELECT jsonb_array_elements_text($2::jsonb)) RETURNING 1)
                 SELECT count(*)::int AS n FROM gone`,
                [connectionId, JSON.stringify(models)]
            );
            return rows[0]?.n ?? 0;
        });
    }

    /** Live (not deleted) records per model; every model asked for is present, 0 when empty. */
    async counts(connectionId: number, models: string[], tx?: Queryable): Promise<Record<string, number>> {
        const out: Record<string, number> = Object.fromEntries(models.map((m) => [m, 0]));
        if (models.length === 0) return out;
        const rows = await (tx ?? this.db).query<{ model: string; n: number }>(
            `SELECT model, count(*)::int AS n FROM records
             WHERE connection_id = $1 AND model IN (SELECT jsonb_array_elements_text($2::jsonb)) AND deleted_at IS NULL
             GROUP BY model`,
            [connectionId, JSON.stringify(models)]
        );
        for (const r of rows) out[r.model] = r.n;
        return out;
    }

    /**
     * Clears the payloads of up to `limit` records at or before `untilCursor` (PATCH /records/prune), oldest first.
     * The records stay in the feed, where they are, with `pruned_at` set; `has_more` says a next call has work.
     */
    async prune(scope: RecordScope, untilCursor: string, limit = DEFAULT_PRUNE_LIMIT, tx?: Queryable): Promise<{ count: number; has_more: boolean }> {
        const until = decodeCursor(untilCursor);
        return this.inTx(tx, async (q) => {
            const ts = await lockScope(q, scope);
            const [row] = await q.query<{ count: number; total: number }>(
                `WITH candidates AS (
                     SELECT external_id FROM records
                     WHERE connection_id = $1 AND model = $2 AND pruned_at IS NULL
                       AND (updated_at, id) <= ($3::timestamptz, $4::bigint)
                     ORDER BY updated_at, id
                     LIMIT $5
                 ), pruned AS (
                     UPDATE records r SET payload = '{}', pruned_at = $6::timestamptz
                     FROM (SELECT external_id FROM candidates LIMIT $5 - 1) c
                     WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id = c.external_id
                     RETURNING 1
                 )
                 SELECT (SELECT count(*) FROM pruned)::int AS count, (SELECT count(*) FROM candidates)::int AS total`,
                [scope.connectionId, scope.model, until.updatedAt, until.id, limit + 1, ts]
            );
            return { count: row?.count ?? 0, has_more: (row?.total ?? 0) > limit };
        });
    }
}
