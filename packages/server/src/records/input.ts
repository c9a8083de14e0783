import { createHash } from 'node:crypto';
import { fail } from '../http/errors.ts';

/** One incoming record, validated: its external id, the payload to store and the hash of what was sent. */
export interface PreparedRecord {
    externalId: string;
    payload: Record<string, unknown>;
    /** `payload` as jsonb-safe JSON, serialised once for both the hash and the SQL parameter. */
    json: string;
    hash: string;
}

const MAX_ID_LENGTH = 255;

/**
 * `String(record.id)` with NUL bytes removed (PostgreSQL text cannot hold them), as Nango keys records.
 * Returns an error message instead of throwing so a batch can name every bad record at once.
 */
export function externalIdOf(record: unknown): string | { error: string } {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return { error: 'a record must be an object' };
    const raw = (record as { id?: unknown }).id;
    if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) return { error: `id ${String(raw)} is not a finite number` };
        return String(raw);
    }
    if (typeof raw !== 'string') return { error: `id must be a string or a number, got ${raw === null ? 'null' : typeof raw}` };
    const id = raw.replaceAll('\0', '');
    if (id.length < 1 || id.length > MAX_ID_LENGTH) return { error: `id must be 1 to ${MAX_ID_LENGTH} characters, got ${id.length}` };
    return id;
}

/** JSON for a jsonb column: PostgreSQL rejects the \u0000 escape, so NUL characters are dropped from strings. */
export function toJsonb(value: unknown): string {
    const json = JSON.stringify(value);
    if (!json.includes('\\u0000')) return json;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\0', '') : v));
}

export function md5(text: string): string {
    return createHash('md5').update(text).digest('hex');
}

function withoutMetadata(record: Record<string, unknown>): Record<string, unknown> {
    if (!Object.hasOwn(record, '_nango_metadata')) return record;
    const { _nango_metadata: _drop, ...rest } = record;
    return rest;
}

/**
 * Validates a batch (all or nothing: one bad id rejects the call before anything is written), strips
 * `_nango_metadata`, and keeps the first of several records with the same id, reporting the others.
 */
export function prepareBatch(records: ReadonlyArray<Record<string, unknown>>): { prepared: PreparedRecord[]; duplicates: string[] } {
    const errors: string[] = [];
    const seen = new Set<string>();
    const prepared: PreparedRecord[] = [];
    const duplicates: string[] = [];
    records.forEach((record, index) => {
        const id = externalIdOf(record);
        if (typeof id !== 'string') {
            errors.push(`record ${index}: ${id.error}`);
            return;
        }
        if (seen.has(id)) {
            duplicates.push(id);
            return;
        }
        seen.add(id);
        const payload = withoutMetadata(record);
        // The hash is of the record as sent (key order included), so it matches what the caller would compute.
        const json = JSON.stringify(payload);
        prepared.push({ externalId: id, payload, json: json.includes('\\u0000') ? toJsonb(payload) : json, hash: md5(json) });
    });
    if (errors.length > 0) {
        const more = errors.length > 10 ? ` (and ${errors.length - 10} more)` : '';
        throw fail('invalid_record', { message: `Invalid records, nothing was written: ${errors.slice(0, 10).join('; ')}${more}` });
    }
    return { prepared, duplicates };
}
