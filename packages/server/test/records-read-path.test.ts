// The read path of GET /records as it is sent (issue #13 item 3): timestamps formatted in JS from the database's
// microseconds, cursors built from a per-stamp base64 prefix, payload text spliced or rebuilt, and ASCII pages sent
// as latin1 bytes. Each must give the records as stored, and cursors that resume exactly where they say, on the
// embedded default and on PostgreSQL, over HTTP with the server started as main.ts starts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/config.ts';
import { start } from '../src/server.ts';
import { encodeCursor, parseCursor, sqlTimestamp } from '../src/records/cursor.ts';
import { formatEpoch } from '../src/records/reads.ts';
import type { RecordScope } from '../src/records/store.ts';
import type { Queryable } from '../src/storage/db.ts';
import { removeDir, storageEnv, writeProvidersFile } from './support/server.ts';

type Running = Awaited<ReturnType<typeof start>>;
type Meta = { cursor: string; first_seen_at: string; last_modified_at: string; last_action: string; deleted_at: string | null; pruned_at: string | null };
type Rec = Record<string, unknown> & { _nango_metadata: Meta };
type Page = { records: Rec[]; next_cursor: string | null };

// Payloads that take each branch: spliced (id first and equal), rebuilt (numeric id, a key jsonb sorts before
// "id", an id that is not the external id), non-ASCII text (the page is then sent as UTF-8, not latin1), escapes,
// and a number JavaScript cannot hold exactly (kept as the database prints it only on the spliced branch).
function payload(i: number): Record<string, unknown> {
    const base = { id: `r${i}`, title: `Record ${i}`, n: i };
    if (i % 11 === 3) return { ...base, id: i };
    if (i % 11 === 5) return { ...base, a: 'sorted before id' };
    if (i % 11 === 7) return { ...base, note: 'caf\u00e9 \u2713 \ud83d\ude00', quote: 'say "hi"\n\\' };
    if (i % 11 === 9) return { ...base, nested: { deep: [1, { x: null }], empty: {} } };
    return base;
}

/**
 * GET /records as it was answered before payloads were stored as text and pages built as bytes (kept here as the
 * reference the served bytes must equal): the payload re-read as jsonb and printed, every timestamp formatted by
 * the database, the cursor as base64 of its whole text (not cursor.ts's prefix and suffix), the page joined as a string.
 */
async function referencePage(db: Queryable, scope: RecordScope, limit: number, cursor?: string): Promise<{ body: Buffer; next: string | null }> {
    const after = cursor ? Buffer.from(cursor, 'base64').toString('utf8').split('||') : undefined;
    const rows = await db.query<{ p: string; e: string; i: string; c: string; u: string; d: string | null; x: string | null }>(
        `SELECT r.payload::jsonb::text AS p, r.external_id AS e, r.id::text AS i, ${sqlTimestamp('r.created_at')} AS c, ${sqlTimestamp('r.updated_at')} AS u,
                ${sqlTimestamp('r.deleted_at')} AS d, ${sqlTimestamp('r.pruned_at')} AS x
         FROM records r WHERE r.connection_id = $1 AND r.model = $2 ${after ? 'AND (r.updated_at, r.id) > ($4::timestamptz, $5::bigint)' : ''}
         ORDER BY r.updated_at, r.id LIMIT $3`,
        [scope.connectionId, scope.model, limit + 1, ...(after ?? [])]
    );
    const page = rows.slice(0, limit);
    const quoted = (v: string | null) => (v === null ? 'null' : `"${v}"`);
    const cursorOf = (row: { u: string; i: string }) => Buffer.from(`${row.u}||${row.i}`, 'utf8').toString('base64');
    const parts = page.map((row) => {
        const action = row.d !== null ? 'DELETED' : row.c === row.u ? 'ADDED' : 'UPDATED';
        const meta = `{"first_seen_at":"${row.c}","last_modified_at":"${row.u}","last_action":"${action}","deleted_at":${quoted(row.d)},"pruned_at":${quoted(row.x)},"cursor":"${cursorOf(row)}"}`;
        if (row.p.startsWith(`{"id": ${JSON.stringify(row.e)}`)) return `${row.p.slice(0, -1)}, "_nango_metadata": ${meta}}`;
        const record = JSON.parse(row.p) as Record<string, unknown>;
        record['id'] = row.e;
        const json = JSON.stringify(record);
        return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"_nango_metadata":${meta}}`;
    });
    const last = page.at(-1);
    const next = rows.length > limit && last ? cursorOf(last) : null;
    return { body: Buffer.from(`{"records":[${parts.join(',')}],"next_cursor":${next ? `"${next}"` : 'null'}}`, 'utf8'), next };
}

// Payloads whose text is spliced or rebuilt in every way: ids that are numbers (integer, fraction, negative zero,
// too large for an integer), ids with NUL bytes, quotes, backslashes, control and non-ASCII characters, keys
// jsonb sorts before "id" ("", "a", "ab"), NUL bytes in values, deep nesting, an empty object after pruning.
const TRICKY: Array<Record<string, unknown>> = [
    { id: 'plain', v: 1 },
    { id: 7 },
    { id: 1.5, x: 'fraction' },
    { id: -0, x: 'negative zero' },
    { id: 2 ** 70, x: 'too large for an integer' },
    { id: 'nu\u0000l', x: 'id had a NUL' },
    { id: 'q"uo\\te', x: 'escapes in the id' },
    { id: 'tab\there\u0001', x: 'control characters' },
    { id: 'caf\u00e9 \u2713 \ud83d\ude00', x: 'non-ASCII id' },
    { id: 'keys', '': 'empty key', a: 1, ab: 2, zz: 3 },
    { id: 'only-a', a: null },
    { id: 'nul-value', s: 'a\u0000b', deep: { k: [1, { m: 'n\u0000' }] } },
    { id: 'nested', o: { b: { c: { d: [[], {}, [{}]] } } }, big: 1e300, small: -1e-300, t: true, f: false },
    { id: 'unicode', s: '\u00e9\u2713\ud83d\ude00 "quoted" \\ \n\r\t\b\f \u2028\u2029' },
    { id: 'to-prune', x: 1 },
    { id: 'to-delete', x: 1 },
    { id: 'to-merge', a2: { b: 1 }, keep: 'yes' }
];

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`GET /records read path (${backend})`, () => {
        let running: Running;
        let dataDir: string;
        let drop: () => Promise<void>;
        let scope: RecordScope;
        const key = randomUUID();
        const expected = new Map<string, Record<string, unknown>>();

        const get = async (query: string): Promise<{ status: number; type: string | null; length: number; bytes: number; page: Page }> => {
            const res = await fetch(`${running.url}/records?${query}`, {
                headers: { authorization: `Bearer ${key}`, 'connection-id': 'c1', 'provider-config-key': 'acme' }
            });
            const bytes = Buffer.from(await res.arrayBuffer());
            const page = JSON.parse(bytes.toString('utf8')) as Page;
            return { status: res.status, type: res.headers.get('content-type'), length: Number(res.headers.get('content-length')), bytes: bytes.length, page };
        };
        const readAll = async (model: string, limit: number): Promise<{ records: Rec[]; pages: Page[] }> => {
            const records: Rec[] = [];
            const pages: Page[] = [];
            let cursor: string | null = null;
            do {
                const { status, page }: { status: number; page: Page } = await get(
                    `model=${model}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
                );
                assert.equal(status, 200);
                pages.push(page);
                records.push(...page.records);
                cursor = page.next_cursor;
            } while (cursor);
            return { records, pages };
        };

        before(async () => {
            const storage = await storageEnv(backend);
            drop = storage.drop;
            dataDir = mkdtempSync(join(tmpdir(), 'sb-read-path-'));
            const providers = writeProvidersFile('acme-key:\n  display_name: Acme\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:1\n');
            running = await start(
                loadConfig({
                    PORT: '0',
                    HOST: '127.0.0.1',
                    SWITCHBOARD_DATA_DIR: dataDir,
                    SWITCHBOARD_SECRET_KEY: key,
                    SWITCHBOARD_PROVIDERS: providers,
                    SWITCHBOARD_LOG_LEVEL: 'warn',
                    ...storage.env
                })
            );
            const post = (path: string, body: unknown) =>
                fetch(`${running.url}${path}`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
                    body: JSON.stringify(body)
                });
            assert.equal((await post('/integrations', { provider: 'acme-key', unique_key: 'acme' })).status < 300, true);
            assert.equal(
                (await post('/connections', { provider_config_key: 'acme', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k' } })).status,
                201
            );
            const [row] = await running.services.db.query<{ id: number }>(`SELECT id FROM connections WHERE connection_id = 'c1'`);
            scope = { connectionId: row!.id, model: 'Ticket' };
            // Several batches (several stamps), then updates, deletes and a prune, so every metadata field varies.
            const records = running.services.records;
            for (let b = 0; b < 5; b++)
                await records.save(
                    scope,
                    Array.from({ length: 240 }, (_, k) => payload(b * 240 + k)),
                    b + 1
                );
            await records.save(
                scope,
                [
                    { ...payload(3), title: 'changed' },
                    { ...payload(7), title: 'changed too' }
                ],
                10
            );
            await records.delete(scope, [{ id: 'r20' }, { id: 'r21' }], 10);
            const first = (await records.list(scope, { limit: 2 })).records;
            await records.prune(scope, (first[1]!['_nango_metadata'] as Meta).cursor, 10);
            // A numeric id is stored as its text: the record's id is the external id, a string.
            for (let i = 0; i < 1200; i++) expected.set(String(payload(i)['id']), { ...payload(i), id: String(payload(i)['id']) });
            expected.set('3', { ...payload(3), id: '3', title: 'changed' });
            expected.set('r7', { ...payload(7), id: 'r7', title: 'changed too' });
            for (const r of first) expected.set(r['id'] as string, { id: r['id'] });
        });

        after(async () => {
            await running?.close();
            removeDir(dataDir);
            await drop?.();
        });

        test('every record as stored, once, in the same order at every page size; cursors resume after their record', async () => {
            const whole = await readAll('Ticket', 10_000);
            assert.equal(whole.pages.length, 1);
            assert.equal(whole.records.length, 1200);
            const ids = whole.records.map((r) => r['id']);
            assert.equal(new Set(ids).size, 1200);
            for (const r of whole.records) {
                const { _nango_metadata: meta, ...rest } = r;
                assert.deepEqual(rest, expected.get(r['id'] as string), `record ${String(r['id'])}`);
                assert.equal(meta.last_action, meta.deleted_at ? 'DELETED' : meta.first_seen_at === meta.last_modified_at ? 'ADDED' : 'UPDATED');
            }
            const byId = new Map(whole.records.map((r) => [r['id'], r]));
            assert.equal(byId.get('r20')!._nango_metadata.last_action, 'DELETED');
            assert.equal(byId.get('3')!._nango_metadata.last_action, 'UPDATED');
            assert.equal(typeof byId.get(whole.records[0]!['id'])!._nango_metadata.pruned_at, 'string');
            for (const limit of [3, 7, 100, 1000]) {
                const paged = await readAll('Ticket', limit);
                assert.deepEqual(paged.records, whole.records, `limit ${limit}`);
                for (const p of paged.pages.slice(0, -1)) assert.equal(p.next_cursor, p.records.at(-1)!._nango_metadata.cursor);
            }
            for (const k of [0, 239, 240, 777, 1198]) {
                const { page } = await get(`model=Ticket&limit=2&cursor=${encodeURIComponent(whole.records[k]!._nango_metadata.cursor)}`);
                assert.deepEqual(page.records[0], whole.records[k + 1], `after record ${k}`);
            }
        });

        test('every page is byte for byte what the earlier read path sent, for every record shape', async () => {
            const records = running.services.records;
            const tricky: RecordScope = { connectionId: scope.connectionId, model: 'Tricky' };
            await records.save(tricky, TRICKY, 20);
            await records.save(
                tricky,
                [
                    { id: 'plain', v: 2 },
                    { id: 7, changed: true }
                ],
                21
            );
            await records.update(tricky, [{ id: 'to-merge', a2: { c: 'caf\u00e9' } }], 22);
            await records.delete(tricky, [{ id: 'to-delete' }, { id: 'never-saved' }], 23);
            const first = (await records.list(tricky, { limit: 100 })).records;
            const prunedUpTo = first.find((r) => r['id'] === 'to-prune')!['_nango_metadata'] as Meta;
            await records.prune(tricky, prunedUpTo.cursor, 100);
            const db = running.services.db;
            for (const [model, s] of [
                ['Tricky', tricky],
                ['Ticket', scope]
            ] as const) {
                for (const limit of [1, 4, 1000]) {
                    let cursor: string | undefined;
                    let pages = 0;
                    do {
                        const res = await fetch(
                            `${running.url}/records?model=${model}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
                            {
                                headers: { authorization: `Bearer ${key}`, 'connection-id': 'c1', 'provider-config-key': 'acme' }
                            }
                        );
                        const bytes = Buffer.from(await res.arrayBuffer());
                        const reference = await referencePage(db, s, limit, cursor);
                        assert.equal(bytes.toString('utf8'), reference.body.toString('utf8'), `${model}, limit ${limit}, page ${pages}`);
                        assert.ok(bytes.equals(reference.body));
                        cursor = reference.next ?? undefined;
                        pages++;
                    } while (cursor);
                    assert.ok(pages >= (model === 'Tricky' && limit === 1 ? TRICKY.length : 1));
                }
            }
            // getByIds gives the same records as the page.
            const page = (await records.list(tricky, { limit: 100 })).records;
            const ids = page.map((r) => r['id'] as string);
            assert.deepEqual(await records.getByIds(tricky, ids), page);
        });

        test('a page is sent as its exact UTF-8 bytes, ASCII or not', async () => {
            // The first records hold ASCII only (r7 is the first with non-ASCII text; r0 and r1 are pruned, 3 moved).
            const ascii = await get('model=Ticket&limit=3');
            assert.equal(ascii.type, 'application/json; charset=utf-8');
            assert.equal(ascii.length, ascii.bytes);
            assert.equal(ascii.page.records.length, 3);
            const mixed = await get('model=Ticket&limit=20');
            assert.equal(mixed.length, mixed.bytes);
            const note = mixed.page.records.find((r) => typeof r['note'] === 'string');
            assert.ok(note, 'the page holds a record with non-ASCII text');
            assert.equal(note['note'], 'caf\u00e9 \u2713 \ud83d\ude00');
            assert.equal(note['quote'], 'say "hi"\n\\');
        });

        test('timestamps formatted from epoch seconds equal the database formatting; cursors equal encodeCursor', async () => {
            const rows = await running.services.db.query<{ text: string; epoch: string }>(
                `SELECT ${sqlTimestamp('t')} AS text, extract(epoch FROM t)::text AS epoch
                 FROM unnest(ARRAY['1969-12-31 23:59:59.999999+00', '1970-01-01 00:00:00+00', '2000-02-29 12:00:00.000001+00',
                                   '2024-05-01 10:00:00.123456+02', '2099-12-31 23:59:59.5+00', now()::text]::timestamptz[]) AS t`
            );
            for (const r of rows) assert.equal(formatEpoch(r.epoch), r.text);
            // Without the fraction, or with fewer than six decimals, it is read the same way.
            assert.equal(formatEpoch('0'), '1970-01-01T00:00:00.000000+00:00');
            assert.equal(formatEpoch('-1.5'), '1969-12-31T23:59:58.500000+00:00');
            const [one] = (await get('model=Ticket&limit=1')).page.records;
            const [row] = await running.services.db.query<{ id: string }>(
                `SELECT id::text FROM records WHERE connection_id = $1 AND model = 'Ticket' ORDER BY updated_at, id LIMIT 1`,
                [scope.connectionId]
            );
            assert.equal(one!._nango_metadata.cursor, encodeCursor({ updatedAt: one!._nango_metadata.last_modified_at, id: row!.id }));
            // encodeCursor joins cursor.ts's prefix and suffix: the base64 of the whole text, for ids of every length.
            for (let digits = 1; digits <= 19; digits++) {
                const position = { updatedAt: rows[digits % rows.length]!.text, id: '9876543210123456789'.slice(0, digits) };
                const cursor = encodeCursor(position);
                assert.equal(cursor, Buffer.from(`${position.updatedAt}||${position.id}`, 'utf8').toString('base64'));
                assert.deepEqual(parseCursor(cursor), position);
            }
        });
    });
}
