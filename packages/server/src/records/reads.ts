// The read side of the records cache: each record's JSON, metadata and cursor are built in SQL, so a page is one
// index range scan and one JSON parse per row.
import type { Queryable } from '../storage/db.ts';
import { decodeCursor, sqlCursor, sqlTimestamp } from './cursor.ts';
import type { RecordScope } from './writes.ts';

export type RecordFilter = 'added' | 'updated' | 'deleted';

export interface ListQuery {
    cursor?: string;
    limit?: number;
    filter?: RecordFilter[];
    modifiedAfter?: Date;
    ids?: string[];
}

export interface RecordPage {
    records: Array<Record<string, unknown>>;
    next_cursor: string | null;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

// The stored payload, `id` forced to the external id, and Nango's `_nango_metadata` (nango-api.md §6).
const RECORD_JSON = `r.payload || jsonb_build_object(
    'id', r.external_id,
    '_nango_metadata', jsonb_build_object(
        'first_seen_at', ${sqlTimestamp('r.created_at')},
        'last_modified_at', ${sqlTimestamp('r.updated_at')},
        'last_action', CASE WHEN r.deleted_at IS NOT NULL THEN 'DELETED' WHEN r.created_at = r.updated_at THEN 'ADDED' ELSE 'UPDATED' END,
        'deleted_at', CASE WHEN r.deleted_at IS NULL THEN NULL ELSE ${sqlTimestamp('r.deleted_at')} END,
        'pruned_at', CASE WHEN r.pruned_at IS NULL THEN NULL ELSE ${sqlTimestamp('r.pruned_at')} END,
        'cursor', ${sqlCursor('r.updated_at', 'r.id')}))`;

const FILTER_SQL: Record<RecordFilter, string> = {
    added: '(r.deleted_at IS NULL AND r.created_at = r.updated_at)',
    updated: '(r.deleted_at IS NULL AND r.created_at <> r.updated_at)',
    deleted: '(r.deleted_at IS NOT NULL)'
};

/** One page of a (connection, model) feed in (updated_at, id) order, strictly after `q.cursor`. */
export async function listPage(db: Queryable, scope: RecordScope, q: ListQuery): Promise<RecordPage> {
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const params: unknown[] = [scope.connectionId, scope.model];
    const where = ['r.connection_id = $1', 'r.model = $2'];
    if (q.cursor !== undefined) {
        const position = decodeCursor(q.cursor);
        params.push(position.updatedAt, position.id);
        where.push(`(r.updated_at, r.id) > ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    if (q.modifiedAfter) {
        params.push(q.modifiedAfter.toISOString());
        where.push(`r.updated_at >= $${params.length}::timestamptz`);
    }
    if (q.ids && q.ids.length > 0) {
        params.push(JSON.stringify(q.ids));
        where.push(`r.external_id IN (SELECT jsonb_array_elements_text($${params.length}::jsonb))`);
    }
    const kinds = [...new Set(q.filter ?? [])];
    // All three kinds together is everything; leave the predicate out so the index range scan stays simple.
    if (kinds.length > 0 && kinds.length < 3) where.push(`(${kinds.map((k) => FILTER_SQL[k]).join(' OR ')})`);
    params.push(limit + 1);
    const rows = await db.query<{ record: Record<string, unknown>; cursor: string }>(
        `SELECT ${RECORD_JSON} AS record FROM records r
         WHERE ${where.join(' AND ')}
         ORDER BY r.updated_at, r.id
         LIMIT $${params.length}`,
        params
    );
    const more = rows.length > limit;
    const records = (more ? rows.slice(0, limit) : rows).map((r) => r.record);
    const last = records[records.length - 1];
    const next = more && last ? (last['_nango_metadata'] as { cursor: string }).cursor : null;
    return { records, next_cursor: next };
}

/** Records by external id, in the order asked, with the same shape as a page (deleted ones included). */
export async function recordsByIds(db: Queryable, scope: RecordScope, ids: string[]): Promise<Array<Record<string, unknown>>> {
    if (ids.length === 0) return [];
    const rows = await db.query<{ external_id: string; record: Record<string, unknown> }>(
        `SELECT r.external_id, ${RECORD_JSON} AS record FROM records r
         WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id IN (SELECT jsonb_array_elements_text($3::jsonb))`,
        [scope.connectionId, scope.model, JSON.stringify(ids)]
    );
    const byId = new Map(rows.map((r) => [r.external_id, r.record]));
    return ids.flatMap((id) => {
        const record = byId.get(id);
        return record ? [record] : [];
    });
}
