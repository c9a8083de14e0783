import { hash } from 'node:crypto';
import { fail } from '../errors.ts';

/** One incoming record, validated: its external id and the payload to store (without `_nango_metadata`). */
export interface IncomingRecord {
    externalId: string;
    payload: Record<string, unknown>;
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

export function md5(text: string): string {
    return hash('md5', text);
}

/** `JSON.stringify(value)` made acceptable to jsonb, which rejects the \u0000 escape: NUL characters are dropped. */
export function jsonbText(value: unknown, json = JSON.stringify(value)): string {
    if (!json.includes('\\u0000')) return json;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\0', '') : v));
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
export function prepareBatch(records: ReadonlyArray<Record<string, unknown>>): { items: IncomingRecord[]; duplicates: string[] } {
    const errors: string[] = [];
    const seen = new Set<string>();
    const items: IncomingRecord[] = [];
    const duplicates: string[] = [];
    records.forEach((record, index) => {
        const id = externalIdOf(record);
        if (typeof id !== 'string') {
            errors.push(`record ${index}: ${id.error}`);
        } else if (seen.has(id)) {
            duplicates.push(id);
        } else {
            seen.add(id);
            items.push({ externalId: id, payload: withoutMetadata(record) });
        }
    });
    if (errors.length > 0) {
        const more = errors.length > 10 ? ` (and ${errors.length - 10} more)` : '';
        throw fail('invalid_record', { message: `Invalid records, nothing was written: ${errors.slice(0, 10).join('; ')}${more}` });
    }
    return { items, duplicates };
}

/**
 * One chunk as the JSON array the write statements read with jsonb_to_recordset: `e` external id, `h` md5 of
 * `JSON.stringify(record)` as sent (key order included, as Nango hashes), `p` payload, plus `extra` fields.
 * Built as text so each payload is serialised once, for both the hash and the parameter.
 */
export function chunkJson(chunk: IncomingRecord[], extra?: (r: IncomingRecord) => string): string {
    const parts = new Array<string>(chunk.length);
    for (let i = 0; i < chunk.length; i++) {
        const r = chunk[i]!;
        const json = JSON.stringify(r.payload);
        parts[i] = `{"e":${JSON.stringify(r.externalId)},"h":"${md5(json)}","p":${jsonbText(r.payload, json)}${extra ? extra(r) : ''}}`;
    }
    return `[${parts.join(',')}]`;
}
