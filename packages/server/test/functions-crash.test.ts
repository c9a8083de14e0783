// A 100,000-record sync on PostgreSQL, killed with SIGKILL mid-run: what was saved stays, the next run resumes
// from the checkpoint, a re-run over unchanged data writes nothing, and records gone upstream are soft-deleted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { waitFor, api, type Json } from './support/webhooks.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy } from './support/functions.ts';

const KEY = 'items';
const CONN = 'big';
const TOTAL = 100_000;

describe('functions: a large sync survives kill -9', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let sql: pg.Client;
    let items: ItemsApi;
    let server: TestServer;
    let env: Record<string, string>;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    const secretKey = randomUUID();

    const liveCount = async () => Number((await sql.query("SELECT count(*) AS n FROM records WHERE model = 'Item' AND deleted_at IS NULL")).rows[0].n);
    const checkpoint = async () => (await sql.query("SELECT data FROM checkpoints WHERE key = 'sync:items'")).rows[0]?.data as { cursor: string } | undefined;
    const status = async (nango: Nango) => (await nango.syncStatus(KEY, ['items'], CONN)).syncs[0] as Json;

    before(async () => {
        db = await createTestDatabase();
        sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        items = await startItemsApi(apiKey);
        items.setCount(TOTAL);
        env = {
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_SECRET_KEY: secretKey,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(
                `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
            ),
            SWITCHBOARD_SCHEDULER_TICK_MS: '200',
            SWITCHBOARD_SYNC_LOST_AFTER_MS: '3000'
        };
        server = await startServer(env);
    });

    after(async () => {
        await server?.stop();
        await items?.close();
        await sql?.end();
        await db?.drop();
        if (server) removeDir(server.dataDir);
    });

    it('keeps what was saved before the kill and resumes from the checkpoint', async () => {
        assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'items-api' })).status, 200);
        assert.equal(
            (await api(server, 'POST', '/connections', { provider_config_key: KEY, connection_id: CONN, credentials: { type: 'API_KEY', apiKey } })).status,
            201
        );
        items.slow(40);
        const deployed = await deploy(server, [
            { type: 'sync', name: 'items', file: 'items-sync.cjs', providerConfigKey: KEY, models: ['Item'], autoStart: true }
        ]);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));

        await waitFor('a third of the pages', () => items.pages() >= 35 && checkpoint(), 120_000);
        await server.stop('SIGKILL');
        const savedBeforeKill = await liveCount();
        const cp = await checkpoint();
        assert.ok(cp && Number(cp.cursor) >= 30_000, `checkpoint ${JSON.stringify(cp)}`);
        assert.ok(savedBeforeKill >= Number(cp.cursor), `${savedBeforeKill} records saved, checkpoint at ${cp.cursor}`);
        assert.ok(savedBeforeKill < TOTAL);
        const firstSeen = (await sql.query("SELECT created_at, updated_at FROM records WHERE external_id = 'item-0'")).rows[0];

        items.slow(0);
        const requestsBefore = items.requests.length;
        server = await startServer({ ...env, SWITCHBOARD_DATA_DIR: server.dataDir });
        const nango = new Nango({ host: server.url, secretKey });
        const lost = await waitFor(
            'the killed run given up',
            async () => {
                const s = await status(nango);
                return s.latestExecutionStatus === 'ERROR' ? s : undefined;
            },
            30_000
        );
        assert.equal(lost.status, 'ERROR');

        await nango.triggerSync(KEY, ['items'], CONN);
        const done = await waitFor(
            'the resumed run',
            async () => {
                const s = await status(nango);
                return s.latestExecutionStatus === 'SUCCESS' ? s : undefined;
            },
            120_000
        );
        const resumed = items.requests.slice(requestsBefore).find((r) => r.url.startsWith('/items?'));
        assert.equal(new URL(resumed!.url, 'http://x').searchParams.get('cursor'), cp.cursor, 'the next run starts at the checkpoint');
        assert.deepEqual(done.latestResult, { Item: { added: TOTAL - savedBeforeKill, updated: 0, deleted: 0 } });
        assert.deepEqual(done.recordCount, { Item: TOTAL });
        assert.equal(await liveCount(), TOTAL);
        const after = (await sql.query("SELECT created_at, updated_at FROM records WHERE external_id = 'item-0'")).rows[0];
        assert.deepEqual(after, firstSeen, 'records saved before the kill are not rewritten');
    });

    it('re-runs over unchanged data with zero changes, then soft-deletes what disappeared upstream', async () => {
        const nango = new Nango({ host: server.url, secretKey });
        const finished = (await status(nango)).finishedAt;
        const maxUpdatedBefore = (await sql.query("SELECT max(updated_at) AS t FROM records WHERE model = 'Item'")).rows[0].t;
        await nango.triggerSync(KEY, ['items'], CONN);
        const same = await waitFor(
            'unchanged run',
            async () => {
                const s = await status(nango);
                return s.latestExecutionStatus === 'SUCCESS' && s.finishedAt !== finished ? s : undefined;
            },
            120_000
        );
        assert.deepEqual(same.latestResult, { Item: { added: 0, updated: 0, deleted: 0 } });
        assert.deepEqual(
            (await sql.query("SELECT max(updated_at) AS t FROM records WHERE model = 'Item'")).rows[0].t,
            maxUpdatedBefore,
            'nothing was rewritten'
        );

        for (let n = 500; n < 510; n++) items.remove(n);
        await nango.triggerSync(KEY, ['items'], CONN);
        const pruned = await waitFor(
            'run after upstream deletes',
            async () => {
                const s = await status(nango);
                return s.latestExecutionStatus === 'SUCCESS' && s.latestResult.Item.deleted > 0 ? s : undefined;
            },
            120_000
        );
        assert.deepEqual(pruned.latestResult, { Item: { added: 0, updated: 0, deleted: 10 } });
        assert.equal(await liveCount(), TOTAL - 10);
        const gone = (await sql.query('SELECT external_id FROM records WHERE deleted_at IS NOT NULL ORDER BY external_id')).rows.map((r) => r.external_id);
        assert.deepEqual(gone, Array.from({ length: 10 }, (_, i) => `item-${500 + i}`).sort());
    });
});
