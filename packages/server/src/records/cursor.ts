import { fail } from '../errors.ts';

/** A position in a (connection, model) feed: the record's updated_at (microseconds, UTC text) and row id. */
export interface CursorPosition {
    updatedAt: string;
    id: string;
}

// What SQL_TIMESTAMP below produces; anything else was not made by us.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const ROW_ID = /^[1-9]\d{0,18}$/;

/**
 * How timestamps leave the database: fixed UTC with six fractional digits, independent of the session time zone,
 * so the cursor round-trips exactly (a JS Date would drop the microseconds).
 */
export const sqlTimestamp = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;

/*
 * A cursor is base64 of `<updatedAt>||<id>`. The timestamp text is 32 ASCII bytes (TIMESTAMP), so with the first
 * `|` it is 33, a multiple of 3: base64 turns each 3 bytes into 4 characters with nothing carried over, so the
 * base64 of `<updatedAt>|` followed by the base64 of `|<id>` is exactly the base64 of the whole. The records read
 * path (reads.ts) encodes the prefix once per timestamp on a page and only the suffix per row.
 */

/** The id-independent start of a cursor: base64 of `<updatedAt>|`, updatedAt as sqlTimestamp gives it (32 bytes). */
export const cursorPrefix = (updatedAt: string): string => btoa(`${updatedAt}|`);

/** The rest of a cursor after cursorPrefix: base64 of `|<id>`; ids are digits. */
export const cursorSuffix = (id: string): string => btoa(`|${id}`);

/**
 * The cursor of a position: cursorPrefix then cursorSuffix (see above why the two make the whole). updatedAt is
 * sqlTimestamp's text, the only one parseCursor accepts back.
 */
export function encodeCursor(position: CursorPosition): string {
    return cursorPrefix(position.updatedAt) + cursorSuffix(position.id);
}

/** The position in an opaque cursor, or undefined when it is not one of ours. */
export function parseCursor(cursor: string): CursorPosition | undefined {
    // Node's base64 decoder skips invalid characters; insist on the canonical alphabet (SQL encode() wraps at 76).
    const compact = cursor.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
    const [updatedAt, id, ...rest] = Buffer.from(compact, 'base64').toString('utf8').split('||');
    if (rest.length > 0 || !updatedAt || !id || !TIMESTAMP.test(updatedAt) || !ROW_ID.test(id)) return undefined;
    if (Number.isNaN(Date.parse(updatedAt))) return undefined;
    return { updatedAt, id };
}

/** parseCursor for store callers: an invalid cursor is the caller's mistake, reported as a value. */
export function decodeCursor(cursor: string): CursorPosition {
    const position = parseCursor(cursor);
    if (!position) throw fail('invalid_cursor');
    return position;
}
