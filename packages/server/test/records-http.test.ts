// GET /records and PATCH /records/prune through the official @nangohq/node SDK, against Switchboard started as the
// README starts it on PostgreSQL; the test writes records through a RecordsStore on the same database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import type { Db } from '../src/storage/db.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { RecordsStore } from '../src/records/store.ts';
import { sdkFailure } from './support/sdk.ts';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, writeProvidersFile, type TestServer } from './support/server.ts';

type Page = { next_cursor: string | null; records: Array<Record<string, unknown> & { _nango_metadata: { cursor: string; last_action: string } }> };

describe('records over HTTP with @nangohq/node', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let server: TestServer;
    let nango: Nango;
    let db: Db;
    let store: RecordsStore;
    let connectionId: number;
    const target = { providerConfigKey: 'acme', connectionId: 'conn-1' };

    before(async () => {
        database = await createTestDatabase();
        const providers = writeProvidersFile(`
acme-key:
  display_name: Acme (API key)
  auth_mode: API_KEY
  proxy:
    base_url: http://127.0.0.1:1
`);
        server = await startServer({
            SWITCHBOARD_PROVIDERS: providers,
            SWITCHBOARD_DATABASE_URL: database.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey()
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'acme-key', unique_key: 'acme' });
        const created = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: 'acme', connection_id: 'conn-1', credentials: { type: 'API_KEY', apiKey: 'k' } })
        });
        assert.equal(created.status, 201);
        db = await openPostgres(database.url, 2);
        store = new RecordsStore(db);
        const [row] = await db.query<{ id: number }>(`SELECT id FROM connections WHERE connection_id = 'conn-1'`);
        connectionId = row!.id;
        await store.save(
            { connectionId, model: 'Ticket' },
            Array.from({ length: 25 }, (_, i) => ({ id: `t${i}`, title: `Ticket ${i}`, nested: { n: i } })),
            1
        );
        await store.save({ connectionId, model: 'Ticket' }, [{ id: 't3', title: 'changed', nested: { n: 3 } }], 2);
        await store.delete({ connectionId, model: 'Ticket' }, [{ id: 't4' }], 2);
        await store.save({ connectionId, model: 'Ticket::eu' }, [{ id: 'eu1' }], 1);
    });

    after(async () => {
        await db?.close();
        await server?.stop();
        if (server) removeDir(server.dataDir);
        await database?.drop();
    });

    it('pages through a model with the SDK (GET /records/)', async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
            const page = (await nango.listRecords({ ...target, model: 'Ticket', limit: 10, ...(cursor ? { cursor } : {}) })) as unknown as Page;
            pages++;
            seen.push(...page.records.map((r) => r['id'] as string));
            cursor = page.next_cursor ?? undefined;
        } while (cursor);
        assert.equal(pages, 3);
        assert.equal(seen.length, 25);
        assert.deepEqual(seen.slice(-2).sort(), ['t3', 't4'], 'changed records come last');
        const all = (await nango.listRecords({ ...target, model: 'Ticket', limit: 100 })) as unknown as Page;
        const t3 = all.records.find((r) => r['id'] === 't3')!;
        assert.equal(t3['title'], 'changed');
        assert.equal(t3._nango_metadata.last_action, 'UPDATED');
        assert.equal(all.records.find((r) => r['id'] === 't4')!._nango_metadata.last_action, 'DELETED');
    });

    it('filters, ids, modified_after and variants', async () => {
        const deleted = (await nango.listRecords({ ...target, model: 'Ticket', filter: 'deleted' })) as unknown as Page;
        assert.deepEqual(
            deleted.records.map((r) => r['id']),
            ['t4']
        );
        const mixed = (await nango.listRecords({ ...target, model: 'Ticket', filter: 'UPDATED,Deleted' as 'updated' })) as unknown as Page;
        assert.deepEqual(mixed.records.map((r) => r['id']).sort(), ['t3', 't4']);
        const byIds = (await nango.listRecords({ ...target, model: 'Ticket', ids: ['t1', 't2', 'nope'] })) as unknown as Page;
        assert.deepEqual(byIds.records.map((r) => r['id']).sort(), ['t1', 't2']);
        const one = (await nango.listRecords({ ...target, model: 'Ticket', ids: ['t7'] })) as unknown as Page;
        assert.deepEqual(
            one.records.map((r) => r['id']),
            ['t7']
        );
        const future = (await nango.listRecords({
            ...target,
            model: 'Ticket',
            modifiedAfter: new Date(Date.now() + 3_600_000).toISOString()
        })) as unknown as Page;
        assert.deepEqual(future.records, []);
        const past = (await nango.listRecords({ ...target, model: 'Ticket', modifiedAfter: '2020-01-01T00:00:00Z' })) as unknown as Page;
        assert.equal(past.records.length, 25);
        const eu = (await nango.listRecords({ ...target, model: 'Ticket', variant: 'eu' })) as unknown as Page;
        assert.deepEqual(
            eu.records.map((r) => r['id']),
            ['eu1']
        );
        const base = (await nango.listRecords({ ...target, model: 'Ticket', variant: 'base', limit: 1 })) as unknown as Page;
        assert.equal(base.records.length, 1);
        // The path without the trailing slash is served too.
        const plain = await fetch(`${server.url}/records?model=Ticket&limit=1`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'connection-id': 'conn-1', 'provider-config-key': 'acme' }
        });
        assert.equal(plain.status, 200);
        // The page is sent as text built from the stored payloads: still JSON, with its type, and the same record
        // the store reads (the SDK above parsed it the same way).
        assert.match(plain.headers.get('content-type') ?? '', /^application\/json/);
        const body = (await plain.json()) as Page;
        assert.deepEqual(Object.keys(body), ['records', 'next_cursor']);
        assert.deepEqual(body.records, (await store.list({ connectionId, model: 'Ticket' }, { limit: 1 })).records);
    });

    it('prunes payloads up to a cursor (PATCH /records/prune)', async () => {
        const page = (await nango.listRecords({ ...target, model: 'Ticket', limit: 5 })) as unknown as Page;
        const res = await nango.pruneRecords({ ...target, model: 'Ticket', untilCursor: page.next_cursor!, limit: 3 });
        assert.deepEqual(res, { count: 3, has_more: true });
        assert.deepEqual(await nango.pruneRecords({ ...target, model: 'Ticket', untilCursor: page.next_cursor! }), { count: 2, has_more: false });
        const after = (await nango.listRecords({ ...target, model: 'Ticket', limit: 5 })) as unknown as Page;
        assert.ok(after.records.every((r) => r['title'] === undefined && (r._nango_metadata as unknown as { pruned_at: string }).pruned_at));
        const bad = await sdkFailure(nango.pruneRecords({ ...target, model: 'Ticket', untilCursor: 'garbage' }));
        assert.equal(bad.status, 400);
        assert.equal(bad.data.error.code, 'invalid_body');
    });

    it('rejects bad requests with Nango error codes', async () => {
        const get = (query: string, headers: Record<string, string> = { 'connection-id': 'conn-1', 'provider-config-key': 'acme' }) =>
            fetch(`${server.url}/records/?${query}`, { headers: { authorization: `Bearer ${server.secretKey}`, ...headers } });
        const expect = async (res: Promise<Response>, status: number, code: string, path?: string) => {
            const r = await res;
            const body = (await r.json()) as { error: { code: string; errors?: Array<{ path: string[] }> } };
            assert.equal(r.status, status, JSON.stringify(body));
            assert.equal(body.error.code, code);
            if (path)
                assert.deepEqual(
                    body.error.errors?.map((e) => e.path.join('.')),
                    [path]
                );
        };
        await expect(get('model=Ticket', {}), 400, 'invalid_headers');
        await expect(get('model=Ticket', { 'connection-id': 'conn-1' }), 400, 'invalid_headers');
        await expect(get(''), 400, 'invalid_query_params', 'model');
        await expect(get('model=ticket'), 400, 'invalid_query_params', 'model');
        await expect(get('model=T'), 400, 'invalid_query_params', 'model');
        await expect(get('model=Ticket&limit=0'), 400, 'invalid_query_params', 'limit');
        await expect(get('model=Ticket&limit=10001'), 400, 'invalid_query_params', 'limit');
        await expect(get('model=Ticket&limit=abc'), 400, 'invalid_query_params', 'limit');
        await expect(get('model=Ticket&filter=added,removed'), 400, 'invalid_query_params', 'filter');
        await expect(get('model=Ticket&cursor=not-a-cursor'), 400, 'invalid_query_params', 'cursor');
        await expect(get(`model=Ticket&cursor=${'A'.repeat(1001)}`), 400, 'invalid_query_params', 'cursor');
        await expect(get('model=Ticket&modified_after=yesterday'), 400, 'invalid_query_params', 'modified_after');
        await expect(get(`model=Ticket&${Array.from({ length: 101 }, (_, i) => `ids=${i}`).join('&')}`), 400, 'invalid_query_params', 'ids');
        await expect(get('model=Ticket&bogus=1'), 400, 'invalid_query_params');
        await expect(get('model=Ticket', { 'connection-id': 'nobody', 'provider-config-key': 'acme' }), 400, 'unknown_connection');
        await expect(get('model=Ticket', { 'connection-id': 'conn-1', 'provider-config-key': 'other' }), 400, 'unknown_connection');
        const noAuth = await fetch(`${server.url}/records/?model=Ticket`);
        assert.equal(noAuth.status, 401);
        const sdk = await sdkFailure(nango.listRecords({ providerConfigKey: 'acme', connectionId: 'nobody', model: 'Ticket' }));
        assert.equal(sdk.status, 400);
        assert.equal(sdk.data.error.code, 'unknown_connection');
    });
});
