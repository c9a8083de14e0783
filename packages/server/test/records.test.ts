// The records cache store: one suite, run unchanged against embedded PGlite and real PostgreSQL (CONTRIBUTING.md, "Test rules").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordsStore, type RecordScope } from '../src/records/store.ts';
import { ApiError } from '../src/errors.ts';
import { encodeCursor } from '../src/records/cursor.ts';
import { migrate } from '../src/storage/migrate.ts';
import { backends, type OpenedBackend } from './support/storage-backends.ts';
import { insertConnection, readAll } from './support/records.ts';

type Meta = { first_seen_at: string; last_modified_at: string; last_action: string; deleted_at: string | null; pruned_at: string | null; cursor: string };
const meta = (r: Record<string, unknown> | undefined): Meta => r!['_nango_metadata'] as Meta;
const byId = (records: Array<Record<string, unknown>>) => new Map(records.map((r) => [r['id'] as string, r]));
let modelSeq = 0;

for (const backend of backends) {
    describe(`records store on ${backend.name}`, () => {
        let opened: OpenedBackend;
        let store: RecordsStore;
        let connectionId: number;
        // Each test gets its own model, so tests never see each other's records.
        const fresh = (): RecordScope => ({ connectionId, model: `Model${++modelSeq}` });

        before(async () => {
            opened = await backend.open();
            store = new RecordsStore(opened.db);
            connectionId = await insertConnection(opened.db);
        });
        after(async () => opened?.cleanup());

        test('save classifies added, unchanged, updated and undeleted records', async () => {
            const scope = fresh();
            assert.deepEqual(
                await store.save(
                    scope,
                    [
                        { id: 1, a: 1 },
                        { id: 'two', a: 2 }
                    ],
                    1
                ),
                { added: 2, updated: 0, deleted: 0, unchanged: 0, duplicates: [] }
            );
            const first = byId((await store.list(scope, {})).records);
            assert.equal(meta(first.get('1')).last_action, 'ADDED');

            const again = await store.save(scope, [{ id: 1, a: 1 }, { id: 'two', a: 3 }, { id: 3 }], 2);
            assert.deepEqual(again, { added: 1, updated: 1, deleted: 0, unchanged: 1, duplicates: [] });
            const second = byId((await store.list(scope, {})).records);
            assert.equal(meta(second.get('1')).last_modified_at, meta(first.get('1')).last_modified_at, 'unchanged keeps updated_at');
            assert.equal(meta(second.get('two')).last_action, 'UPDATED');
            assert.equal(second.get('two')!['a'], 3);
            assert.match(meta(second.get('two')).last_modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);

            await store.delete(scope, [{ id: 'two' }], 3);
            const back = await store.save(scope, [{ id: 'two', a: 3 }], 4);
            assert.equal(back.added, 1, 'a deleted record saved again is added');
            const third = byId((await store.list(scope, {})).records);
            assert.equal(meta(third.get('two')).last_action, 'ADDED');
            assert.equal(meta(third.get('two')).deleted_at, null);
            assert.notEqual(meta(third.get('two')).first_seen_at, meta(first.get('two')).first_seen_at, 'created_at is reset');
        });

        test('the hash is of the record as sent: key order matters, _nango_metadata does not', async () => {
            const scope = fresh();
            await store.save(scope, [{ id: 'a', x: 1, y: 2 }], 1);
            assert.equal((await store.save(scope, [{ id: 'a', x: 1, y: 2, _nango_metadata: { cursor: 'zzz' } }], 2)).unchanged, 1);
            assert.equal((await store.save(scope, [{ id: 'a', y: 2, x: 1 }], 3)).updated, 1);
            const [record] = (await store.list(scope, {})).records;
            assert.equal(meta(record).cursor.length > 0, true);
            assert.deepEqual(Object.keys(record!).sort(), ['_nango_metadata', 'id', 'x', 'y']);
        });

        test('duplicates in one call keep the first and are reported', async () => {
            const scope = fresh();
            const res = await store.save(scope, [{ id: 'd', v: 'first' }, { id: 'e' }, { id: 'd', v: 'second' }, { id: 'd', v: 'third' }], 1);
            assert.deepEqual(res.duplicates, ['d', 'd']);
            assert.equal(res.added, 2);
            const [d] = await store.getByIds(scope, ['d']);
            assert.equal(d!['v'], 'first');
        });

        test('invalid ids reject the whole call and write nothing', async () => {
            const scope = fresh();
            for (const bad of [{}, { id: '' }, { id: 'x'.repeat(256) }, { id: null }, { id: { a: 1 } }, { id: Number.NaN }, { id: '\0\0' }]) {
                await assert.rejects(
                    store.save(scope, [{ id: 'ok' }, bad], 1),
                    (err: unknown) => err instanceof ApiError && err.code === 'invalid_record' && /record 1/.test(err.message)
                );
            }
            assert.deepEqual(await store.counts(connectionId, [scope.model]), { [scope.model]: 0 });
            // NUL bytes are removed from ids and payload strings; 255 characters is allowed; numbers become strings.
            await store.save(scope, [{ id: 'a\0b', text: 'x\0y' }, { id: 'y'.repeat(255) }, { id: 42.5 }], 1);
            const got = byId(await store.getByIds(scope, ['ab', 'y'.repeat(255), '42.5']));
            assert.equal(got.size, 3);
            assert.equal(got.get('ab')!['text'], 'xy');
        });

        test('update deep-merges into live records only', async () => {
            const scope = fresh();
            await store.save(scope, [{ id: 'u', name: 'n', nested: { a: 1, b: { c: 1 } }, list: [1, 2, 3] }, { id: 'gone' }], 1);
            await store.delete(scope, [{ id: 'gone' }], 2);
            const res = await store.update(
                scope,
                [
                    { id: 'u', nested: { b: { d: 2 } }, list: [9] },
                    { id: 'unknown', x: 1 },
                    { id: 'gone', x: 1 }
                ],
                3
            );
            assert.deepEqual(res, { added: 0, updated: 1, deleted: 0, unchanged: 0 });
            const [u] = await store.getByIds(scope, ['u']);
            assert.deepEqual(
                { ...u, _nango_metadata: undefined },
                { id: 'u', name: 'n', nested: { a: 1, b: { c: 1, d: 2 } }, list: [9], _nango_metadata: undefined }
            );
            assert.equal(meta(u).last_action, 'UPDATED');
            assert.deepEqual(await store.getByIds(scope, ['unknown']), []);
            const [gone] = await store.getByIds(scope, ['gone']);
            assert.equal(gone!['x'], undefined, 'deleted records are not updated');
            // A patch that changes nothing is counted unchanged.
            assert.equal((await store.update(scope, [{ id: 'u', name: 'n' }], 4)).unchanged, 1);
        });

        test('delete: live → deleted with deletedAt, unknown → uncounted tombstone, deleted → nothing', async () => {
            const scope = fresh();
            await store.save(scope, [{ id: 'a', keep: 'me' }, { id: 'b' }], 1);
            const res = await store.delete(
                scope,
                [{ id: 'a', deletedAt: '2024-01-02T03:04:05.000Z' }, { id: 'b', deletedAt: 'not a date' }, { id: 'ghost' }],
                2
            );
            assert.deepEqual(res, { added: 0, updated: 0, deleted: 2, unchanged: 0 });
            const all = byId((await store.list(scope, {})).records);
            assert.equal(meta(all.get('a')).deleted_at, '2024-01-02T03:04:05.000000+00:00');
            assert.equal(all.get('a')!['keep'], 'me', 'the last payload is kept');
            assert.equal(meta(all.get('b')).deleted_at, meta(all.get('b')).last_modified_at, 'an invalid deletedAt means now');
            assert.equal(meta(all.get('ghost')).last_action, 'DELETED');
            const before = meta(all.get('a')).last_modified_at;
            assert.deepEqual(await store.delete(scope, [{ id: 'a' }, { id: 'ghost' }], 3), { added: 0, updated: 0, deleted: 0, unchanged: 0 });
            assert.equal(meta((await store.getByIds(scope, ['a']))[0]).last_modified_at, before);
            assert.deepEqual(await store.counts(connectionId, [scope.model]), { [scope.model]: 0 });
        });

        test('deleteNotSeenSince deletes what no job since the start job wrote or saw, across jobs', async () => {
            const scope = fresh();
            await store.save(scope, [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }, { id: 'e' }], 10);
            // trackDeletesStart at job 11; the run spans jobs 11 and 12 (a multi-run backfill).
            await store.save(scope, [{ id: 'a' }], 11); // unchanged still counts as seen
            await store.delete(scope, [{ id: 'b' }], 11);
            await store.update(scope, [{ id: 'c', more: true }], 12);
            await store.save(scope, [{ id: 'f' }], 12);
            const deleted = await store.deleteNotSeenSince(scope, 11);
            assert.deepEqual(deleted.sort(), ['d', 'e']);
            assert.deepEqual(await store.deleteNotSeenSince(scope, 11), [], 'already deleted');
            assert.deepEqual(await store.counts(connectionId, [scope.model]), { [scope.model]: 3 });
        });

        test('counts and hardDelete are per model', async () => {
            const a = fresh();
            const b = fresh();
            await store.save(a, [{ id: 1 }, { id: 2 }, { id: 3 }], 1);
            await store.save(b, [{ id: 1 }], 1);
            await store.delete(a, [{ id: 3 }], 2);
            assert.deepEqual(await store.counts(connectionId, [a.model, b.model, 'Nothing']), { [a.model]: 2, [b.model]: 1, Nothing: 0 });
            assert.equal(await store.hardDelete(connectionId, [a.model]), 3);
            assert.deepEqual(await store.counts(connectionId, [a.model, b.model]), { [a.model]: 0, [b.model]: 1 });
            assert.equal((await store.list(a, { filter: ['deleted'] })).records.length, 0);
        });

        test('variants are separate models, and records go when their connection goes', async () => {
            const other = await insertConnection(opened.db);
            await store.save({ connectionId: other, model: 'Ticket' }, [{ id: 1 }], 1);
            await store.save({ connectionId: other, model: 'Ticket::eu' }, [{ id: 1 }, { id: 2 }], 1);
            assert.deepEqual(await store.counts(other, ['Ticket', 'Ticket::eu']), { Ticket: 1, 'Ticket::eu': 2 });
            await opened.db.query('DELETE FROM connections WHERE id = $1', [other]);
            assert.deepEqual(await store.counts(other, ['Ticket', 'Ticket::eu']), { Ticket: 0, 'Ticket::eu': 0 });
        });

        test('paging walks every record once, in order, with no gaps while records keep changing', async () => {
            const scope = fresh();
            const n = 2500;
            await store.save(
                scope,
                Array.from({ length: n }, (_, i) => ({ id: `r${i}`, v: 0 })),
                1
            );
            const seen: Array<Record<string, unknown>> = [];
            let cursor: string | undefined;
            let round = 0;
            for (;;) {
                const page = await store.list(scope, { cursor, limit: 97 });
                seen.push(...page.records);
                // Change records behind and ahead of the reader between pages.
                round++;
                await store.save(
                    scope,
                    [
                        { id: `r${(round * 37) % n}`, v: round },
                        { id: `new${round}`, v: round }
                    ],
                    1 + round
                );
                if (!page.next_cursor) break;
                assert.equal(page.next_cursor, meta(page.records.at(-1)).cursor);
                cursor = page.next_cursor;
            }
            const cursors = seen.map((r) => meta(r).cursor);
            assert.equal(new Set(cursors).size, cursors.length, 'no record version twice');
            const keys = seen.map((r) => `${meta(r).last_modified_at}|${meta(r).cursor}`);
            const order = seen.map((r) => [meta(r).last_modified_at, Number(Buffer.from(meta(r).cursor, 'base64').toString().split('||')[1])] as const);
            for (let i = 1; i < order.length; i++) {
                const [pu, pi] = order[i - 1]!;
                const [u, id] = order[i]!;
                assert.ok(pu < u || (pu === u && pi < id), `out of order at ${i}: ${keys[i - 1]} then ${keys[i]}`);
            }
            // Everything that exists at the end was seen, in its latest version (the last one written was read).
            const final = byId((await readAll(store, scope, { limit: 1000 })).records);
            const lastSeen = byId(seen);
            for (const [id, record] of final) {
                if (id === `new${round}`) continue; // written after the last page was read
                assert.ok(lastSeen.has(id), `missed ${id}`);
                if (meta(record).last_modified_at <= meta(seen.at(-1)).last_modified_at) assert.equal(lastSeen.get(id)!['v'], record['v'], `stale ${id}`);
            }
            assert.ok(final.size >= n);
        });

        test('filters (and their unions), modifiedAfter and ids', async () => {
            const scope = fresh();
            await store.save(scope, [{ id: 'added' }, { id: 'updated', v: 1 }, { id: 'deleted' }], 1);
            await store.save(scope, [{ id: 'updated', v: 2 }], 2);
            await store.delete(scope, [{ id: 'deleted' }], 2);
            const ids = async (q: Parameters<RecordsStore['list']>[1]) => (await store.list(scope, q)).records.map((r) => r['id']).sort();
            assert.deepEqual(await ids({ filter: ['added'] }), ['added']);
            assert.deepEqual(await ids({ filter: ['updated'] }), ['updated']);
            assert.deepEqual(await ids({ filter: ['deleted'] }), ['deleted']);
            assert.deepEqual(await ids({ filter: ['added', 'deleted'] }), ['added', 'deleted']);
            assert.deepEqual(await ids({ filter: ['added', 'updated'] }), ['added', 'updated']);
            assert.deepEqual(await ids({ filter: ['updated', 'deleted'] }), ['deleted', 'updated']);
            assert.deepEqual(await ids({ filter: ['added', 'updated', 'deleted'] }), ['added', 'deleted', 'updated']);
            assert.deepEqual(await ids({ ids: ['added', 'deleted', 'nope'] }), ['added', 'deleted']);
            assert.deepEqual(await ids({ ids: ['added', 'deleted'], filter: ['deleted'] }), ['deleted']);
            const all = byId((await store.list(scope, {})).records);
            const t = meta(all.get('updated')).last_modified_at;
            // modifiedAfter has millisecond precision: a record written earlier in the same millisecond (`added`, on a
            // fast machine) is at the cutoff too.
            assert.deepEqual(
                await ids({ modifiedAfter: new Date(t) }),
                ['added', 'deleted', 'updated'].filter((id) => meta(all.get(id)).last_modified_at >= t.slice(0, 23)).sort()
            );
            assert.ok((await ids({ modifiedAfter: new Date(t) })).includes('updated'));
            assert.deepEqual(await ids({ modifiedAfter: new Date(Date.now() + 60_000) }), []);
        });

        test('limit bounds the page; invalid cursors are errors', async () => {
            const scope = fresh();
            await store.save(
                scope,
                Array.from({ length: 5 }, (_, i) => ({ id: i })),
                1
            );
            const page = await store.list(scope, { limit: 2 });
            assert.equal(page.records.length, 2);
            const last = await store.list(scope, { limit: 3, cursor: page.next_cursor! });
            assert.equal(last.records.length, 3);
            assert.equal(last.next_cursor, null);
            assert.equal((await store.list(scope, {})).next_cursor, null);
            for (const bad of [
                'nope',
                Buffer.from('2024-01-01||1').toString('base64'),
                Buffer.from('2024-01-01T00:00:00.000000+00:00||x').toString('base64'),
                '%%%'
            ]) {
                await assert.rejects(store.list(scope, { cursor: bad }), (err: unknown) => err instanceof ApiError && err.code === 'invalid_cursor');
            }
            // A well-formed cursor from the future reads nothing.
            assert.deepEqual((await store.list(scope, { cursor: encodeCursor({ updatedAt: '2999-01-01T00:00:00.000000+00:00', id: '1' }) })).records, []);
        });

        test('prune clears payloads up to and including the cursor, in limited steps', async () => {
            const scope = fresh();
            await store.save(
                scope,
                Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, big: 'x'.repeat(100) })),
                1
            );
            await store.save(scope, [{ id: 'p0', big: 'changed' }], 2); // moves p0 to the end of the feed
            const { records } = await store.list(scope, {});
            const until = meta(records[4]).cursor; // the 5th record in feed order
            assert.deepEqual(await store.prune(scope, until, 3), { count: 3, has_more: true });
            assert.deepEqual(await store.prune(scope, until, 3), { count: 2, has_more: false });
            assert.deepEqual(await store.prune(scope, until, 3), { count: 0, has_more: false });
            const after = (await store.list(scope, {})).records;
            assert.deepEqual(
                after.map((r) => r['id']),
                records.map((r) => r['id']),
                'pruning does not move records'
            );
            for (const [i, r] of after.entries()) {
                if (i <= 4) {
                    assert.equal(r['big'], undefined);
                    assert.ok(meta(r).pruned_at);
                } else {
                    assert.ok(r['big']);
                    assert.equal(meta(r).pruned_at, null);
                }
            }
            // Saving a pruned record again restores its payload.
            await store.save(scope, [{ id: records[0]!['id'] as string, big: 'x'.repeat(100) }], 3);
            const [restored] = await store.getByIds(scope, [records[0]!['id'] as string]);
            assert.equal(restored!['big'], 'x'.repeat(100));
            assert.equal(meta(restored).pruned_at, null);
        });

        test('the page text is the record as stored with id and _nango_metadata, spliced or rebuilt alike', async () => {
            const scope = fresh();
            const nested = { id: 'not-the-record-id', list: [1, { id: 2 }], s: 'q"uote\\ \u00e9 \u2028', empty: {} };
            await store.save(
                scope,
                [
                    // spliced: a string id equal to the external id
                    { id: 'str', a: 1, nested, 'weird "key"': null },
                    // rebuilt: a numeric id (served as the string), an id with a NUL byte (removed), a record pruned to {}
                    { id: 42, b: [true, false] },
                    { id: 'nu\u0000l', c: 'x' },
                    { id: 'gone', d: 1 }
                ],
                1
            );
            await store.delete(scope, [{ id: 'str' }], 2);
            const all = await store.listJson(scope, {});
            assert.equal(all.count, 4);
            const parsed = JSON.parse(all.body.toString('utf8')) as { records: Array<Record<string, unknown>>; next_cursor: string | null };
            assert.deepEqual(Object.keys(parsed), ['records', 'next_cursor']);
            assert.equal(parsed.next_cursor, null);
            const got = byId(parsed.records);
            const strip = (r: Record<string, unknown> | undefined) => {
                const { _nango_metadata: m, ...rest } = r!;
                assert.deepEqual(Object.keys(m as object), ['first_seen_at', 'last_modified_at', 'last_action', 'deleted_at', 'pruned_at', 'cursor']);
                return rest;
            };
            assert.deepEqual(strip(got.get('str')), { id: 'str', a: 1, nested, 'weird "key"': null });
            assert.equal(meta(got.get('str')).last_action, 'DELETED');
            assert.equal(typeof meta(got.get('str')).deleted_at, 'string');
            assert.deepEqual(strip(got.get('42')), { id: '42', b: [true, false] });
            assert.deepEqual(strip(got.get('nul')), { id: 'nul', c: 'x' });
            const last = meta(parsed.records.at(-1)).cursor;
            await store.prune(scope, last, 10);
            const pruned = byId((JSON.parse((await store.listJson(scope, {})).body.toString('utf8')) as { records: Array<Record<string, unknown>> }).records);
            assert.deepEqual(strip(pruned.get('gone')), { id: 'gone' });
            assert.equal(typeof meta(pruned.get('gone')).pruned_at, 'string');
            // list() is the same text, parsed; a page of 2 has a cursor that resumes after its last record.
            assert.deepEqual((await store.list(scope, {})).records, JSON.parse((await store.listJson(scope, {})).body.toString('utf8')).records);
            const page = JSON.parse((await store.listJson(scope, { limit: 2 })).body.toString('utf8')) as {
                records: Array<Record<string, unknown>>;
                next_cursor: string;
            };
            assert.equal(page.next_cursor, meta(page.records[1]).cursor);
        });

        test('migration 027 turns stored jsonb payloads into json of the same text: existing records read, merge and prune as before', async () => {
            // The table as it was before 027, with rows written then, as the writes wrote them (jsonb payloads).
            await opened.db.exec(`ALTER TABLE records ALTER COLUMN payload TYPE jsonb USING payload::jsonb`);
            const scope = fresh();
            const old = [{ id: 'a', z: 1, nested: { b: [1, 'x'] }, '': 'first' }, { id: 'b\u00e9', n: 1.5 }, { id: 3 }];
            for (const [i, r] of old.entries())
                await opened.db.query(
                    `INSERT INTO records (connection_id, model, external_id, payload, data_hash, created_at, updated_at, last_seen_job)
                     VALUES ($1, $2, $3, $4::jsonb, 'h', now() - interval '1 hour', now() - make_interval(secs => 60 - $5), 1)`,
                    [scope.connectionId, scope.model, String(r.id), JSON.stringify(r), i]
                );
            const before = await opened.db.query<{ p: string }>(`SELECT payload::text AS p FROM records WHERE model = $1 ORDER BY external_id`, [scope.model]);
            await opened.db.query(`DELETE FROM schema_migrations WHERE version = '027_records_payload_json.sql'`);
            assert.deepEqual(await migrate(opened.db), ['027_records_payload_json.sql']);
            const after = await opened.db.query<{ p: string; t: string }>(
                `SELECT payload::text AS p, pg_typeof(payload)::text AS t FROM records WHERE model = $1 ORDER BY external_id`,
                [scope.model]
            );
            assert.deepEqual(
                after.map((r) => r.p),
                before.map((r) => r.p)
            );
            assert.ok(after.every((r) => r.t === 'json'));
            // An instance still on the previous version keeps working: its jsonb writes become the same text, and
            // it reads payloads as objects, as its batchUpdate's merge expects.
            await opened.db.query(
                `INSERT INTO records (connection_id, model, external_id, payload, data_hash, created_at, updated_at, last_seen_job)
                 VALUES ($1, $2, 'old', $3::jsonb, 'h', now() - interval '1 hour', now() - interval '1 minute', 1)`,
                [scope.connectionId, scope.model, JSON.stringify({ zz: 1, id: 'old', a: [true] })]
            );
            const [written] = await opened.db.query<{ p: string; o: unknown }>(
                `SELECT payload::text AS p, payload AS o FROM records WHERE model = $1 AND external_id = 'old'`,
                [scope.model]
            );
            assert.equal(written!.p, '{"a": [true], "id": "old", "zz": 1}');
            assert.deepEqual(written!.o, { a: [true], id: 'old', zz: 1 });
            await opened.db.query(`DELETE FROM records WHERE model = $1 AND external_id = 'old'`, [scope.model]);
            const records = (await store.list(scope, {})).records;
            assert.deepEqual(
                records.map(({ _nango_metadata: _m, ...rest }) => rest),
                old.map((r) => ({ ...r, id: String(r.id) }))
            );
            assert.deepEqual(await store.update(scope, [{ id: 'a', nested: { c: true } }], 2), { added: 0, updated: 1, deleted: 0, unchanged: 0 });
            assert.deepEqual((await store.getByIds(scope, ['a']))[0]!['nested'], { b: [1, 'x'], c: true });
            // 'a' moved to the end of the feed with its merge; pruning up to the old last record leaves it whole.
            await store.prune(scope, meta(records.at(-1)).cursor, 10);
            assert.deepEqual(
                (await store.list(scope, {})).records.map(({ _nango_metadata: _m, ...rest }) => rest),
                [{ id: 'b\u00e9' }, { id: '3' }, { ...old[0], nested: { b: [1, 'x'], c: true } }]
            );
        });

        test('id lists (getByIds, the ids filter, update) match ids that array syntax would quote', async () => {
            const scope = fresh();
            const ids = ['a,b', '{x}', 'q"uo\\te', 'NULL', ' sp ', 'caf\u00e9', 'tab\there'];
            await store.save(
                scope,
                ids.map((id) => ({ id, v: 1 })),
                1
            );
            assert.deepEqual(
                (await store.getByIds(scope, [...ids].reverse())).map((r) => r['id']),
                [...ids].reverse()
            );
            assert.deepEqual((await store.list(scope, { ids: [ids[0]!, ids[3]!, 'absent'] })).records.map((r) => r['id']).sort(), [ids[0], ids[3]].sort());
            assert.deepEqual(
                await store.update(
                    scope,
                    ids.map((id) => ({ id, w: 2 })),
                    2
                ),
                { added: 0, updated: ids.length, deleted: 0, unchanged: 0 }
            );
            assert.ok((await store.getByIds(scope, ids)).every((r) => r['w'] === 2 && r['v'] === 1));
        });

        test('large batches are chunked in one transaction; concurrent writers of one model serialise', async () => {
            const scope = fresh();
            const batch = (tag: string) => Array.from({ length: 2500 }, (_, i) => ({ id: `k${i}`, tag }));
            const results = await Promise.all([store.save(scope, batch('a'), 1), store.save(scope, batch('b'), 2), store.save(scope, batch('c'), 3)]);
            assert.equal(
                results.reduce((n, r) => n + r.added, 0),
                2500
            );
            assert.equal(
                results.reduce((n, r) => n + r.updated, 0),
                5000
            );
            const tags = new Set((await readAll(store, scope, { limit: 10000 })).records.map((r) => r['tag']));
            assert.equal(tags.size, 1, 'one writer won as a whole');
            await assert.rejects(store.save(scope, [...batch('d'), { id: '' }], 4));
            assert.equal((await store.list(scope, { filter: ['updated'], limit: 1 })).records[0]!['tag'] !== 'd', true);
        });
    });
}
