// The read side of the records cache. A page is one index range scan of records_feed, in the index's own order
// (connection_id, model, updated_at, id), resumed after the cursor with a row comparison (keyset paging: no
// OFFSET, so page N costs what page 1 costs). The response body is built as bytes: the stored payload's text
// (jsonb's own text, kept as json since migration 027) is written in as it is, with `_nango_metadata` added before
// its closing brace, so a page is never parsed and serialised again on its way out.
// Measured on PostgreSQL, building the record in SQL (jsonb_build_object and `||`) cost about 9 ms per 1,000 rows;
// the whole page joined in SQL (string_agg) 9 ms in the database against 3.7 for the columns; to_char for
// created_at and updated_at about a quarter of the database's time per page, which formatting once per stamp in
// JS takes out. Then (100,000 records of bench/records-read's shape, 1,000-record pages, CPU per page, the old and
// new code alternating in one process, on a loaded 2-core machine): with the payload stored as jsonb its
// conversion to text was about 2 ms of the database's 3.5 to 3.7, and `(extract(epoch …) * 1000000)::bigint::text`
// about 0.5 per timestamp column (numeric arithmetic). Stored as json holding that text, with
// `extract(epoch …)::text` and created_at sent only when it differs, the database spends 1.7 to 1.9 (PostgreSQL 15;
// the embedded default 3.5 from 5.8). In Node the page was joined as one string, measured (byteLength) and copied
// as latin1, with the metadata and a base64 Buffer built per row: 4.5 to 4.8 ms; writing each row's parts into one
// exact-size buffer, the metadata built once per stamp: 2.6 to 3.2 (embedded 6.5 to 4.0). What remains in Node is
// mostly the pg driver decoding rows (`rowMode: 'array'` would save about 0.15 ms) and the socket.
import type { Queryable } from '../storage/db.ts';
import { cursorPrefix, cursorSuffix, decodeCursor, encodeCursor, sqlTimestamp } from './cursor.ts';
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

// The payload is stored as json holding jsonb's own text (migration 027), so reading it as text is a copy, not a
// jsonb-to-text conversion. updated_at leaves the database as `extract(epoch …)` text (seconds with six decimals:
// cheaper to produce than to_char or micros as bigint, and the rows of one batch share one stamp, so each is
// formatted once per page in JS: see PageMeta); created_at only when it differs from updated_at (null: the same
// stamp, as for every ADDED record). deleted_at and pruned_at are NULL for almost every row and are formatted in SQL.
const COLUMNS = `r.payload::text AS p, r.external_id AS e, r.id::text AS i,
    CASE WHEN r.created_at <> r.updated_at THEN extract(epoch FROM r.created_at)::text END AS c, extract(epoch FROM r.updated_at)::text AS u,
    ${sqlTimestamp('r.deleted_at')} AS d, ${sqlTimestamp('r.pruned_at')} AS x`;

interface Row {
    p: string;
    e: string;
    i: string;
    /** null when created_at equals updated_at. */
    c: string | null;
    u: string;
    d: string | null;
    x: string | null;
}

/**
 * An `extract(epoch FROM t)::text` (seconds, `.` and the fraction; six decimals for a timestamptz) as cursor.ts's
 * timestamp text (what sqlTimestamp gives for the same instant). The digits are read as an integer of
 * microseconds, exactly: no floating-point seconds.
 */
export function formatEpoch(epoch: string): string {
    const dot = epoch.indexOf('.');
    const us = dot < 0 ? Number(epoch) * 1_000_000 : Number(epoch.slice(0, dot) + epoch.slice(dot + 1).padEnd(6, '0'));
    const ms = Math.floor(us / 1000);
    return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}+00:00`;
}

// Timestamps and cursors are made of characters JSON needs no escape for; `null` stays null.
const quoted = (v: string | null): string => (v === null ? 'null' : `"${v}"`);

/**
 * The `_nango_metadata` of a page's records (docs/compatibility.md, "Records"), remembered from the previous row:
 * a sync's batch stamps all its rows alike, so for most rows everything but the cursor's end is the same text.
 * The cursor's start (cursor.ts's cursorPrefix) does not depend on the id, so only its end is encoded per row.
 */
class PageMeta {
    private c: string | null = '';
    private u = '';
    private d: string | null = '';
    private x: string | null = '';
    /** The metadata object's text up to the cursor's per-row part. */
    private open = '';
    /** `, "_nango_metadata": ` + open: what follows a spliced payload (see recordJson). */
    spliced = '';

    /** Brings open and spliced up to date for `row`; returns open. */
    of(row: Row): string {
        if (row.u !== this.u || row.c !== this.c || row.d !== this.d || row.x !== this.x) {
            [this.c, this.u, this.d, this.x] = [row.c, row.u, row.d, row.x];
            const updated = formatEpoch(row.u);
            const action = row.d !== null ? 'DELETED' : row.c === null ? 'ADDED' : 'UPDATED';
            this.open = `{"first_seen_at":"${row.c === null ? updated : formatEpoch(row.c)}","last_modified_at":"${updated}","last_action":"${action}","deleted_at":${quoted(row.d)},"pruned_at":${quoted(row.x)},"cursor":"${cursorPrefix(updated)}`;
            this.spliced = `, "_nango_metadata": ${this.open}`;
        }
        return this.open;
    }
}

/**
 * When the payload's text starts with `{"id": <the external id as JSON>` (jsonb puts "id" first unless a shorter
 * or smaller two-letter key exists), its `id` is already right and the text is spliced: everything but its
 * closing brace, then `meta.spliced`, the cursor's end (cursorSuffix) and `"}}`.
 */
const splices = (row: Row): boolean => row.p.startsWith('{"id": ') && row.p.startsWith(JSON.stringify(row.e), 7);

/**
 * The record as JSON text: the stored payload with `id` forced to the external id and `_nango_metadata` added.
 * A payload that does not splice (a numeric id, an id that had NUL bytes removed, a pruned record's emptied
 * payload, an earlier key) is parsed, corrected and serialised, which gives the same record.
 */
function recordJson(row: Row, meta: PageMeta): string {
    const open = meta.of(row);
    if (splices(row)) return `${row.p.slice(0, -1)}${meta.spliced}${cursorSuffix(row.i)}"}}`;
    const record = JSON.parse(row.p) as Record<string, unknown>;
    record['id'] = row.e;
    const json = JSON.stringify(record);
    return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"_nango_metadata":${open}${cursorSuffix(row.i)}"}}`;
}

/** A page as the JSON body of `GET /records` (UTF-8 bytes), and how many records it holds. */
export interface RecordPageJson {
    body: Buffer;
    count: number;
}

/**
 * The page's bytes, written once into a buffer of the exact size: per spliced row the payload's text, the
 * metadata shared with the previous row and the cursor's end, so no page-sized string is joined, measured and
 * copied again. Everything but payload text is ASCII.
 */
function pageBytes(page: Row[], next: string): Buffer {
    const meta = new PageMeta();
    // First pass: what each row writes and the total size; second pass: the writes.
    const texts = new Array<string>(page.length);
    const ends = new Array<string>(page.length);
    const spliced = new Array<string | undefined>(page.length);
    let size = '{"records":['.length + '],"next_cursor":}'.length + next.length + Math.max(page.length - 1, 0);
    for (let k = 0; k < page.length; k++) {
        const row = page[k]!;
        if (splices(row)) {
            meta.of(row);
            spliced[k] = meta.spliced;
            ends[k] = cursorSuffix(row.i);
            size += Buffer.byteLength(row.p) - 1 + meta.spliced.length + ends[k]!.length + 3;
        } else {
            texts[k] = recordJson(row, meta);
            size += Buffer.byteLength(texts[k]!);
        }
    }
    const out = Buffer.allocUnsafe(size);
    let at = out.write('{"records":[', 0, 'latin1');
    for (let k = 0; k < page.length; k++) {
        if (k > 0) out[at++] = 0x2c; // ,
        const head = spliced[k];
        if (head === undefined) {
            at += out.write(texts[k]!, at, 'utf8');
            continue;
        }
        at += out.write(page[k]!.p, at, 'utf8') - 1; // the payload's closing brace is overwritten
        at += out.write(head, at, 'latin1');
        at += out.write(ends[k]!, at, 'latin1');
        out[at++] = 0x22; // "
        out[at++] = 0x7d; // }
        out[at++] = 0x7d; // }
    }
    at += out.write(`],"next_cursor":${next}}`, at, 'latin1');
    return at === size ? out : out.subarray(0, at);
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
        params.push(q.ids);
        where.push(`r.external_id = ANY($${params.length}::text[])`);
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
    const next = more && last ? `"${encodeCursor({ updatedAt: formatEpoch(last.u), id: last.i })}"` : 'null';
    return { body: pageBytes(page, next), count: page.length };
}

/** listPageJson as objects, for callers inside the server (a script's listRecords); the same text, parsed. */
export async function listPage(db: Queryable, scope: RecordScope, q: ListQuery): Promise<RecordPage> {
    return JSON.parse((await listPageJson(db, scope, q)).body.toString('utf8')) as RecordPage;
}

/** Records by external id, in the order asked, with the same shape as a page (deleted ones included). */
export async function recordsByIds(db: Queryable, scope: RecordScope, ids: string[]): Promise<Array<Record<string, unknown>>> {
    if (ids.length === 0) return [];
    const rows = await db.query<Row>(
        `SELECT ${COLUMNS} FROM records r
         WHERE r.connection_id = $1 AND r.model = $2 AND r.external_id = ANY($3::text[])`,
        [scope.connectionId, scope.model, ids]
    );
    const meta = new PageMeta();
    const byId = new Map(rows.map((r) => [r.e, JSON.parse(recordJson(r, meta)) as Record<string, unknown>]));
    return ids.flatMap((id) => {
        const record = byId.get(id);
        return record ? [record] : [];
    });
}
