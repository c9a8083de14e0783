// The set-based write statements of the records cache. Each runs on one chunk inside the caller's transaction,
// after the caller took the scope lock and read `ts` (see store.ts for why both matter).
import type { Queryable } from '../storage/db.ts';
import { deepMerge } from './merge.ts';
import { chunkJson, md5, jsonbText, type IncomingRecord } from './input.ts';

export interface RecordScope {
    connectionId: number;
    /** Model name, already suffixed `::variant` for non-base variants. */
    model: string;
}

export interface WriteCounts {
    added: number;
    updated: number;
    deleted: number;
    unchanged: number;
}

export const zeroCounts = (): WriteCounts => ({ added: 0, updated: 0, deleted: 0, unchanged: 0 });

export function addCounts(into: WriteCounts, from: WriteCounts): void {
    into.added += from.added;
    into.updated += from.updated;
    into.deleted += from.deleted;
    into.unchanged += from.unchanged;
}

const toCounts = (row: { added?: number; updated?: number; deleted?: number; unchanged?: number } | undefined): WriteCounts => ({
    added: Number(row?.added ?? 0),
    updated: Number(row?.updated ?? 0),
    deleted: Number(row?.deleted ?? 0),
    unchanged: Number(row?.unchanged ?? 0)
});

// `p json` keeps each payload object as the text jsonb prints for it (the same function as `jsonb::text`), which is
// how payloads are stored (migration 027) and spliced into GET /records pages as they are.
// Classification reads the row after the upsert: `xmax = 0` marks a fresh insert; created_at = ts an undelete;
// updated_at = ts a change; anything else was unchanged. `ts` is unique to this call, so this is exact.
const SAVE_SQL = `
WITH input AS (
    SELECT x.e, x.h, x.p FROM jsonb_to_recordset($3::jsonb) AS x(e text, h text, p json)
), written AS (
    INSERT INTO records AS r (connection_id, model, external_id, payload, data_hash, created_at, updated_at, last_seen_job, sync_id)
    SELECT $1, $2, e, p, h, $4::timestamptz, $4::timestamptz, $5, $6 FROM input
    ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
        payload = CASE WHEN r.deleted_at IS NULL AND r.pruned_at IS NULL AND r.data_hash = EXCLUDED.data_hash THEN r.payload ELSE EXCLUDED.payload END,
        data_hash = EXCLUDED.data_hash,
        created_at = CASE WHEN r.deleted_at IS NULL THEN r.created_at ELSE EXCLUDED.created_at END,
        updated_at = CASE WHEN r.deleted_at IS NULL AND r.data_hash = EXCLUDED.data_hash THEN r.updated_at ELSE EXCLUDED.updated_at END,
        deleted_at = NULL,
        pruned_at = NULL,
        last_seen_job = EXCLUDED.last_seen_job,
        sync_id = COALESCE(EXCLUDED.sync_id, r.sync_id)
    RETURNING (xmax::text = '0') AS inserted, created_at, updated_at
)
SELECT count(*) FILTER (WHERE inserted OR created_at = $4::timestamptz)::int AS added,
       count(*) FILTER (WHERE NOT inserted AND created_at <> $4::timestamptz AND updated_at = $4::timestamptz)::int AS updated,
       count(*) FILTER (WHERE NOT inserted AND updated_at <> $4::timestamptz)::int AS unchanged
FROM written`;

/** `json` is chunkJson() of the chunk, built by the caller so the next chunk serialises while this one runs. */
export async function saveChunk(tx: Queryable, scope: RecordScope, json: string, ts: string, jobId: number, syncId: string | null): Promise<WriteCounts> {
    const [row] = await tx.query<WriteCounts>(SAVE_SQL, [scope.connectionId, scope.model, json, ts, jobId, syncId]);
    return toCounts(row);
}

// A live record becomes deleted and keeps its last payload (Nango's documented behaviour); an unknown id becomes
// a tombstone that is not counted; an already deleted record only gets last_seen_job.
const DELETE_SQL = `
WITH input AS (
    SELECT x.e, x.h, x.p, x.d FROM jsonb_to_recordset($3::jsonb) AS x(e text, h text, p json, d timestamptz)
), written AS (
    INSERT INTO records AS r (connection_id, model, external_id, payload, data_hash, created_at, updated_at, deleted_at, last_seen_job)
    SELECT $1, $2, e, p, h, $4::timestamptz, $4::timestamptz, COALESCE(d, $4::timestamptz), $5 FROM input
    ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
        deleted_at = COALESCE(r.deleted_at, EXCLUDED.deleted_at),
        updated_at = CASE WHEN r.deleted_at IS NULL THEN EXCLUDED.updated_at ELSE r.updated_at END,
        last_seen_job = EXCLUDED.last_seen_job
    RETURNING (xmax::text = '0') AS inserted, updated_at
)
SELECT count(*) FILTER (WHERE NOT inserted AND updated_at = $4::timestamptz)::int AS deleted FROM written`;

/** `deletedAt` as an ISO string when it is a valid date, else null (the store uses now). */
function deletedAtOf(payload: Record<string, unknown>): string | null {
    const raw = payload['deletedAt'];
    if (typeof raw !== 'string' && typeof raw !== 'number' && !(raw instanceof Date)) return null;
    const date = new Date(raw);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export const deleteChunkJson = (chunk: IncomingRecord[]): string => chunkJson(chunk, (r) => `,"d":${JSON.stringify(deletedAtOf(r.payload))}`);

/** `json` is deleteChunkJson() of the chunk. */
export async function deleteChunk(tx: Queryable, scope: RecordScope, json: string, ts: string, jobId: number): Promise<WriteCounts> {
    const [row] = await tx.query<WriteCounts>(DELETE_SQL, [scope.connectionId, scope.model, json, ts, jobId]);
    return toCounts(row);
}

/**
 * batchUpdate: the deep merge is done here (jsonb `||` is shallow), between one read and one set-based write.
 * Rows are locked by the scope lock the caller holds, so nothing changes between the two statements.
 */
export async function updateChunk(tx: Queryable, scope: RecordScope, chunk: IncomingRecord[], ts: string, jobId: number): Promise<WriteCounts> {
    // An id list as an array parameter, not `IN (SELECT jsonb_array_elements_text(…))`: while the model's rows are
    // not yet in the planner's statistics (a sync's first run) that became a nested loop parsing the list once per
    // row of the model, 2 s for 1,000 ids among 10,000 records; `= ANY` of a bound array is hashed (3 ms).
    const ids = chunk.map((r) => r.externalId);
    const existing = await tx.query<{ external_id: string; payload: Record<string, unknown>; data_hash: string }>(
        `SELECT external_id, payload, data_hash FROM records
         WHERE connection_id = $1 AND model = $2 AND deleted_at IS NULL AND external_id = ANY($3::text[])`,
        [scope.connectionId, scope.model, ids]
    );
    if (existing.length === 0) return zeroCounts();
    const byId = new Map(existing.map((r) => [r.external_id, r]));
    const rows: string[] = [];
    const counts = zeroCounts();
    for (const patch of chunk) {
        const current = byId.get(patch.externalId);
        if (!current) continue;
        const merged = deepMerge(current.payload, patch.payload);
        const json = JSON.stringify(merged);
        const hash = md5(json);
        if (hash === current.data_hash) counts.unchanged++;
        else counts.updated++;
        rows.push(`{"e":${JSON.stringify(patch.externalId)},"h":"${hash}","p":${jsonbText(merged, json)}}`);
    }
    await tx.query(
        `UPDATE records AS r SET
             payload = x.p,
             updated_at = CASE WHEN r.data_hash = x.h AND r.pruned_at IS NULL THEN r.updated_at ELSE $4::timestamptz END,
             data_hash = x.h,
             pruned_at = NULL,
             last_seen_job = $5
         FROM jsonb_to_recordset($3::jsonb) AS x(e text, h text, p json)
         WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id = x.e`,
        [scope.connectionId, scope.model, `[${rows.join(',')}]`, ts, jobId]
    );
    return counts;
}
