// Issue #16 item 1: the lists the dashboard pages on the server (docs/dashboard.md, "What the dashboard calls"):
// the catalogue, connections with their status and refresh history, sync runs with counts, and the audit trail's
// cursor; each scoped to the environment the header names, on the embedded default and PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { removeDir, startServer, storageEnv, writeProvidersFile, type TestServer } from './support/server.ts';
import { api, waitFor, type Json } from './support/webhooks.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy } from './support/functions.ts';

const KEY = 'items';

async function signIn(server: TestServer): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${server.url}/dashboard/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ admin_key: server.adminKey })
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    return { cookie: /^(sb_dashboard=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!, csrf: body.data.csrf_token };
}

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`dashboard lists (${backend})`, () => {
        let server: TestServer;
        let storage: Awaited<ReturnType<typeof storageEnv>>;
        let items: ItemsApi;
        let session: { cookie: string; csrf: string };
        const apiKey = `key-${randomBytes(8).toString('hex')}`;

        const get = async (path: string, environment = 'dev'): Promise<{ status: number; body: Json }> => {
            const res = await fetch(`${server.url}/dashboard/api${path}`, { headers: { cookie: session.cookie, 'switchboard-environment': environment } });
            return { status: res.status, body: await res.json() };
        };

        before(async () => {
            storage = await storageEnv(backend);
            items = await startItemsApi(apiKey);
            items.setCount(30);
            const providers = writeProvidersFile(
                `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  categories:\n    - productivity\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
            );
            server = await startServer({
                ...storage.env,
                SWITCHBOARD_PROVIDERS: providers,
                SWITCHBOARD_SCHEDULER_TICK_MS: '200',
                SWITCHBOARD_RUNNER_MEMORY_MB: '256'
            });
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'items-api' })).status, 200);
            assert.equal(
                (
                    await deploy(server, [
                        { type: 'sync', name: 'items', file: 'items-sync.cjs', providerConfigKey: KEY, models: ['Item'], runs: 'every day', autoStart: false }
                    ])
                ).status,
                200
            );
            for (const [id, user] of [
                ['c-1', 'ann'],
                ['c-2', 'bob'],
                ['c-3', 'ann']
            ] as const) {
                const r = await api(server, 'POST', '/connections', {
                    provider_config_key: KEY,
                    connection_id: id,
                    credentials: { type: 'API_KEY', apiKey },
                    end_user: { id: user },
                    metadata: { n: id }
                });
                assert.equal(r.status, 201, JSON.stringify(r.body));
            }
            session = await signIn(server);
        });
        after(async () => {
            await server?.stop();
            await items?.close();
            if (server) removeDir(server.dataDir);
            await storage?.drop();
        });

        it('pages the catalogue with search and category', async () => {
            const first = await get('/catalogue?search=github&limit=2');
            assert.equal(first.status, 200);
            assert.equal(first.body.total, 3);
            assert.deepEqual(
                first.body.data.map((p: Json) => p.name),
                ['github', 'github-app']
            );
            assert.equal(first.body.next_page, 1);
            const second = await get('/catalogue?search=github&limit=2&page=1');
            assert.deepEqual(
                second.body.data.map((p: Json) => p.name),
                ['github-pat']
            );
            assert.equal(second.body.next_page, null);
            assert.equal(first.body.data[0].logo, '/images/template-logos/github.svg', 'same-origin logos (the page’s CSP)');
            const cat = await get('/catalogue?category=productivity&search=items');
            assert.deepEqual(
                cat.body.data.map((p: Json) => p.name),
                ['items-api']
            );
            assert.ok(cat.body.categories.includes('productivity'));
            assert.equal((await get('/catalogue?limit=1000')).status, 400, 'a page is at most 200 providers');
        });

        it('pages integrations by unique key, on the server', async () => {
            for (const key of ['b-extra', 'a-extra'])
                assert.equal((await api(server, 'POST', '/integrations', { unique_key: key, provider: 'items-api' })).status, 200);
            const first = await get('/integration-list?limit=2');
            assert.equal(first.status, 200, JSON.stringify(first.body));
            assert.deepEqual(
                first.body.data.map((i: Json) => i.unique_key),
                ['a-extra', 'b-extra']
            );
            assert.equal(first.body.next_cursor, 'b-extra');
            assert.equal(first.body.data[0].provider, 'items-api');
            assert.equal(first.body.data[0].credentials, undefined, 'no secrets in the list');
            const second = await get(`/integration-list?limit=2&cursor=${first.body.next_cursor}`);
            assert.deepEqual(
                second.body.data.map((i: Json) => i.unique_key),
                [KEY]
            );
            assert.equal(second.body.next_cursor, null);
            assert.equal((await get('/integration-list?limit=0')).status, 400);
            assert.deepEqual((await get('/integration-list', 'nowhere')).status >= 400, true, 'an unknown environment is refused');
            for (const key of ['b-extra', 'a-extra']) assert.equal((await api(server, 'DELETE', `/integrations/${key}`)).status, 200);
        });

        it('pages connections with filters, status and metadata', async () => {
            const page0 = await get(`/connection-list?integration=${KEY}&limit=2`);
            assert.equal(page0.status, 200, JSON.stringify(page0.body));
            assert.deepEqual(
                page0.body.data.map((c: Json) => c.connection_id),
                ['c-1', 'c-2']
            );
            assert.equal(page0.body.next_page, 1);
            const page1 = await get(`/connection-list?integration=${KEY}&limit=2&page=1`);
            assert.deepEqual(
                page1.body.data.map((c: Json) => c.connection_id),
                ['c-3']
            );
            assert.equal(page1.body.next_page, null);
            const ann = await get('/connection-list?end_user=ann');
            assert.deepEqual(
                ann.body.data.map((c: Json) => c.connection_id),
                ['c-1', 'c-3']
            );
            const c1 = page0.body.data[0];
            assert.equal(c1.status, 'active');
            assert.deepEqual(c1.metadata, { n: 'c-1' });
            assert.equal(c1.refresh_error, null);
            assert.equal('credentials' in c1, false, 'no credentials in the list');
            assert.equal((await get('/connection-list?status=revoked')).body.data.length, 0);
            assert.equal((await get('/connection-list?status=failing')).body.data.length, 0);
            assert.equal((await get('/connection-list?status=active')).body.data.length, 3);
            assert.equal((await get('/connection-list?status=bogus')).status, 400);
        });

        it('lists sync runs newest first with their counts, by cursor', async () => {
            for (const id of ['c-1', 'c-2']) {
                const r = await fetch(`${server.url}/dashboard/api/sync/trigger`, {
                    method: 'POST',
                    headers: {
                        cookie: session.cookie,
                        'switchboard-environment': 'dev',
                        origin: server.url,
                        'x-switchboard-csrf': session.csrf,
                        'content-type': 'application/json'
                    },
                    body: JSON.stringify({ provider_config_key: KEY, syncs: ['items'], connection_id: id })
                });
                assert.equal(r.status, 200);
                await r.arrayBuffer();
            }
            const runs = await waitFor(
                'two finished runs',
                async () => {
                    const r = await get('/runs');
                    return r.body.data.length === 2 && r.body.data.every((x: Json) => x.status === 'SUCCESS') ? r.body.data : undefined;
                },
                60_000
            );
            assert.ok(runs[0].id > runs[1].id, 'newest first');
            for (const run of runs) {
                assert.equal(run.sync, 'items');
                assert.equal(run.provider_config_key, KEY);
                assert.deepEqual(run.result, { Item: { added: 30, updated: 0, deleted: 0 } });
                assert.equal(run.error, null);
                assert.ok(run.started_at && run.finished_at);
            }
            const first = await get('/runs?limit=1');
            assert.equal(first.body.data[0].id, runs[0].id);
            assert.equal(first.body.next_cursor, runs[0].id);
            const second = await get(`/runs?limit=1&cursor=${first.body.next_cursor}`);
            assert.equal(second.body.data[0].id, runs[1].id);
            assert.deepEqual(
                (await get('/runs?connection_id=c-2')).body.data.map((r: Json) => r.connection_id),
                ['c-2']
            );
            assert.equal((await get('/runs?status=ERROR')).body.data.length, 0);
        });

        it('pages the audit trail by cursor', async () => {
            for (const id of ['c-2', 'c-3']) assert.equal((await api(server, 'DELETE', `/connections/${id}?provider_config_key=${KEY}`)).status, 200);
            const all = await get('/admin/audit?limit=100');
            assert.ok(all.body.data.length >= 2);
            const first = await get('/admin/audit?limit=1');
            assert.equal(first.body.data.length, 1);
            assert.ok(first.body.next_cursor);
            const second = await get(`/admin/audit?limit=1&cursor=${first.body.next_cursor}`);
            assert.equal(String(second.body.data[0].id), String(all.body.data[1].id));
            assert.deepEqual(
                (await get('/connection-list')).body.data.map((c: Json) => c.connection_id),
                ['c-1']
            );
        });

        it('scopes every list to the named environment', async () => {
            const created = await fetch(`${server.url}/dashboard/api/admin/environments`, {
                method: 'POST',
                headers: { cookie: session.cookie, origin: server.url, 'x-switchboard-csrf': session.csrf, 'content-type': 'application/json' },
                body: JSON.stringify({ name: 'staging' })
            });
            assert.equal(created.status, 201, await created.text());
            assert.deepEqual((await get('/connection-list', 'staging')).body.data, []);
            assert.deepEqual((await get('/runs', 'staging')).body.data, []);
            assert.deepEqual((await get('/admin/audit', 'staging')).body.data, []);
            assert.deepEqual((await get('/integrations', 'staging')).body.data, []);
            assert.deepEqual((await get('/integration-list', 'staging')).body.data, []);
            const me = await get('/session');
            assert.deepEqual(me.body.data.environments.sort(), ['dev', 'staging']);
        });
    });
}
