// The read side of the records cache. A page is one index range scan; timestamps are formatted in SQL (exact
// microseconds), and the record object is assembled here: measured on PostgreSQL, building it with
// jsonb_build_object and `||` cost about 9 ms per 1,000 rows against 3 ms for payload::text + JSON.parse.
import type { Queryable } from '../storage/db.ts';
import { decodeCursor, encodeCursor, sqlTimestamp } from './cursor.ts';
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

const COLUMNS = `r.payload::text AS p, r.external_id AS e, r.id::text AS i,
    ${sqlTimestamp('r.created_at')} AS c, ${sqlTimestamp('r.updated_at')} AS u,
    ${sqlTimestamp('r.deleted_at')} AS d, ${sqlTimestamp('r.pruned_at')} AS x`;

interface Row {
    p: string;
    e: string;
    i: string;
    c: string;
    u: string;
    d: string | null;
    x: string | null;
}

/** The stored payload, `id` forced to the external id, and Nango's `_nango_metadata` (docs/compatibility.md, "Records"). */
function toRecord(row: Row): Record<string, unknown> {
    const record = JSON.parse(row.p) as Record<string, unknown>;
    record['id'] = row.e;
    record['_nango_metadata'] = {
        first_seen_at: row.c,
        last_modified_at: row.u,
        last_action: row.d !== null ? 'DELETED' : row.c === row.u ? 'ADDED' : 'UPDATED',
        deleted_at: row.d,
        pruned_at: row.x,
        cursor: encodeCursor({ updatedAt: row.u, id: row.i })
    };
    return record;
}

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
    const rows = await db.query<Row>(
        `SELECT ${COLUMNS} FROM records r
         WHERE ${where.join(' AND ')}
         ORDER BY r.updated_at, r.id
         LIMIT $${params.length}`,
        params
    );
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return { records: page.map(toRecord), next_cursor: more && last ? encodeCursor({ updatedAt: last.u, id: last.i }) : null };
}

/** Records by external id, in the order asked, with the same shape as a page (deleted ones included). */
export async function recordsByIds(db: Queryable, scope: RecordScope, ids: string[]): Promise<Array<Record<string, unknown>>> {
    if (ids.length === 0) return [];
    const rows = await db.query<Row>(
        `SELECT ${COLUMNS} FROM records r
         WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id IN (SELECT jsonb_array_elements_text($3::jsonb))`,
        [scope.connectionId, scope.model, JSON.stringify(ids)]
    );
    const byId = new Map(rows.map((r) => [r.e, toRecord(r)]));
    return ids.flatMap((id) => {
        const record = byId.get(id);
        return record ? [record] : [];
    });
}
