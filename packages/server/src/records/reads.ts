// The read side of the records cache. A page is one index range scan of records_feed, in the index's own order
// (connection_id, model, updated_at, id), resumed after the cursor with a row comparison (keyset paging: no
// OFFSET, so page N costs what page 1 costs). The response body is built as text: the stored payload's text
// (jsonb::text) is spliced in as it is, with `_nango_metadata` added before its closing brace, so a page is never
// parsed and serialised again on its way out. Measured on PostgreSQL, building the record in SQL (jsonb_build_object
// and `||`) cost about 9 ms per 1,000 rows; the whole page joined in SQL (string_agg) 9 ms in the database against
// 3.7 for the columns; to_char for created_at and updated_at about a quarter of the database's time per page,
// which formatting once per stamp in JS (Stamps) takes out (bench/records-read).
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

// created_at and updated_at leave the database as integer microseconds since the epoch (cheaper to produce than
// to_char, and the rows of one batch share one stamp, so each is formatted once per page in JS: see Stamps);
// deleted_at and pruned_at are NULL for almost every row and are formatted in SQL.
const COLUMNS = `r.payload::text AS p, r.external_id AS e, r.id::text AS i,
    (extract(epoch FROM r.created_at) * 1000000)::bigint::text AS c, (extract(epoch FROM r.updated_at) * 1000000)::bigint::text AS u,
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

/** Microseconds since the epoch as cursor.ts's timestamp text (what sqlTimestamp gives for the same instant). */
export function formatMicros(micros: string): string {
    const us = Number(micros);
    const ms = Math.floor(us / 1000);
    return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}+00:00`;
}

/**
 * The timestamp texts of one page, remembered from the previous row: a sync's batch stamps all its rows alike.
 * A cursor is base64 of `<timestamp>||<id>`; the timestamp and the first `|` are 33 bytes, a multiple of 3, so
 * their base64 is a prefix that does not depend on the id and is also computed once per stamp.
 */
class Stamps {
    private c = '';
    private cText = '';
    private u = '';
    private uText = '';
    private uCursor = '';

    created(micros: string): string {
        if (micros !== this.c) [this.c, this.cText] = [micros, formatMicros(micros)];
        return this.cText;
    }

    updated(micros: string): string {
        if (micros !== this.u) {
            this.u = micros;
            this.uText = formatMicros(micros);
            this.uCursor = Buffer.from(`${this.uText}|`, 'latin1').toString('base64');
        }
        return this.uText;
    }

    /** encodeCursor({ updatedAt: updated(micros), id }), for the stamp updated() was last called with. */
    cursor(id: string): string {
        return this.uCursor + Buffer.from(`|${id}`, 'latin1').toString('base64');
    }
}

// Timestamps and cursors are made of characters JSON needs no escape for; `null` stays null.
const quoted = (v: string | null): string => (v === null ? 'null' : `"${v}"`);

/** Nango's `_nango_metadata` as JSON text (docs/compatibility.md, "Records"). */
function metadataJson(row: Row, stamps: Stamps): string {
    const action = row.d !== null ? 'DELETED' : row.c === row.u ? 'ADDED' : 'UPDATED';
    const updated = stamps.updated(row.u);
    return `{"first_seen_at":"${stamps.created(row.c)}","last_modified_at":"${updated}","last_action":"${action}","deleted_at":${quoted(row.d)},"pruned_at":${quoted(row.x)},"cursor":"${stamps.cursor(row.i)}"}`;
}

/**
 * The record as JSON text: the stored payload with `id` forced to the external id and `_nango_metadata` added.
 * When the payload's text starts with `{"id": <the external id as JSON>` (jsonb puts "id" first unless a shorter
 * or smaller two-letter key exists), its `id` is already right and the text is spliced; any other payload (a
 * numeric id, an id that had NUL bytes removed, a pruned record's emptied payload, an earlier key) is parsed,
 * corrected and serialised, which gives the same record.
 */
function recordJson(row: Row, stamps: Stamps): string {
    if (row.p.startsWith(`{"id": ${JSON.stringify(row.e)}`)) return `${row.p.slice(0, -1)}, "_nango_metadata": ${metadataJson(row, stamps)}}`;
    const record = JSON.parse(row.p) as Record<string, unknown>;
    record['id'] = row.e;
    const json = JSON.stringify(record);
    return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"_nango_metadata":${metadataJson(row, stamps)}}`;
}

/** A page as the JSON body of `GET /records`, and how many records it holds. */
export interface RecordPageJson {
    body: string;
    count: number;
}

const FILTER_SQL: Record<RecordFilter, string> = {
    added: '(r.deleted_at IS NULL AND r.created_at = r.updated_at)',
    updated: '(r.deleted_at IS NULL AND r.created_at <> r.updated_at)',
    deleted: '(r.deleted_at IS NOT NULL)'
};

/**
 * One page of a (connection, model) feed in (updated_at, id) order, strictly after `q.cursor`, as the JSON text
 * of `{records, next_cursor}`.
 */
export async function listPageJson(db: Queryable, scope: RecordScope, q: ListQuery): Promise<RecordPageJson> {
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
    const parts = new Array<string>(page.length);
    const stamps = new Stamps();
    for (let k = 0; k < page.length; k++) parts[k] = recordJson(page[k]!, stamps);
    const next = more && last ? `"${encodeCursor({ updatedAt: formatMicros(last.u), id: last.i })}"` : 'null';
    return { body: `{"records":[${parts.join(',')}],"next_cursor":${next}}`, count: page.length };
}

/** listPageJson as objects, for callers inside the server (a script's listRecords); the same text, parsed. */
export async function listPage(db: Queryable, scope: RecordScope, q: ListQuery): Promise<RecordPage> {
    return JSON.parse((await listPageJson(db, scope, q)).body) as RecordPage;
}

/** Records by external id, in the order asked, with the same shape as a page (deleted ones included). */
export async function recordsByIds(db: Queryable, scope: RecordScope, ids: string[]): Promise<Array<Record<string, unknown>>> {
    if (ids.length === 0) return [];
    const rows = await db.query<Row>(
        `SELECT ${COLUMNS} FROM records r
         WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id IN (SELECT jsonb_array_elements_text($3::jsonb))`,
        [scope.connectionId, scope.model, JSON.stringify(ids)]
    );
    const stamps = new Stamps();
    const byId = new Map(rows.map((r) => [r.e, JSON.parse(recordJson(r, stamps)) as Record<string, unknown>]));
    return ids.flatMap((id) => {
        const record = byId.get(id);
        return record ? [record] : [];
    });
}
