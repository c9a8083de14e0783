// Issue #16 item 1, second round: what the dashboard shows besides the API's own lists (docs/dashboard.md): action
// runs with the sizes of their input and output (never the contents), connections filtered by organisation and
// tags, the provider webhooks received, and this instance's recent errors; on the embedded default and PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { removeDir, startServer, storageEnv, writeProvidersFile, type TestServer } from './support/server.ts';
import { api, waitFor, type Json } from './support/webhooks.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy } from './support/functions.ts';
import { createLogger } from '../src/log/logger.ts';
import { RecentErrors } from '../src/log/recent-errors.ts';
import { openDatabase } from '../src/storage/open.ts';
import { purgeInboundWebhooks, recordInbound } from '../src/webhooks/inbound/received.ts';

const KEY = 'items';
const GH_SECRET = 'github-webhook-secret';

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

describe('recent errors ring', () => {
    it('keeps the last error-level lines, redacted, newest first, bounded', () => {
        const ring = new RecentErrors(3);
        const sink = new Writable({ write: (_c, _e, done) => done() });
        const log = createLogger('info', sink as unknown as Parameters<typeof createLogger>[1], ring);
        log.info('not an error');
        log.warn('not an error either');
        for (let i = 1; i <= 4; i++) {
            const err = Object.assign(new Error(`boom ${i}`), { code: 'E_TEST', access_token: 'tok-secret-value' });
            log.error({ err, route: '/proxy/*', method: 'GET', credentials: { apiKey: 'key-secret-value' } }, `failure ${i}`);
        }
        const first = ring.page(undefined, 2);
        assert.deepEqual(
            first.entries.map((e) => e.message),
            ['failure 4', 'failure 3']
        );
        assert.equal(first.entries[0]!.error_type, 'Error');
        assert.equal(first.entries[0]!.error_code, 'E_TEST');
        assert.equal(first.entries[0]!.route, '/proxy/*');
        assert.equal(first.nextCursor, first.entries[1]!.id);
        const second = ring.page(first.nextCursor ?? undefined, 2);
        assert.deepEqual(
            second.entries.map((e) => e.message),
            ['failure 2']
        );
        assert.equal(second.nextCursor, null, 'only the last three are kept');
        assert.doesNotMatch(JSON.stringify(ring.page(undefined, 10)), /secret-value|boom/);
    });
});

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`dashboard activity lists (${backend})`, () => {
        let server: TestServer;
        let storage: Awaited<ReturnType<typeof storageEnv>>;
        let items: ItemsApi;
        let session: { cookie: string; csrf: string };
        const apiKey = `key-${randomBytes(8).toString('hex')}`;

        const get = async (path: string, environment = 'dev', cookie = session.cookie): Promise<{ status: number; body: Json }> => {
            const res = await fetch(`${server.url}/dashboard/api${path}`, { headers: { cookie, 'switchboard-environment': environment } });
            return { status: res.status, body: await res.json() };
        };

        before(async () => {
            storage = await storageEnv(backend);
            items = await startItemsApi(apiKey);
            items.setCount(3);
            const providers = writeProvidersFile(
                `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
            );
            server = await startServer({ ...storage.env, SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_RUNNER_MEMORY_MB: '256' });
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'items-api' })).status, 200);
            const deployed = await deploy(server, [{ type: 'action', name: 'get-item', file: 'get-item.cjs', providerConfigKey: KEY }]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            for (const [id, org, tags] of [
                ['c-1', 'acme', { plan: 'pro', region: 'eu' }],
                ['c-2', 'acme', { plan: 'free', region: 'eu' }],
                ['c-3', 'globex', { plan: 'pro', region: 'us' }]
            ] as const) {
                const r = await api(server, 'POST', '/connections', {
                    provider_config_key: KEY,
                    connection_id: id,
                    credentials: { type: 'API_KEY', apiKey },
                    end_user: { id: `u-${id}`, organization: { id: org } },
                    tags
                });
                assert.equal(r.status, 201, JSON.stringify(r.body));
            }
            assert.equal(
                (
                    await api(server, 'POST', '/integrations', {
                        provider: 'github',
                        unique_key: 'gh',
                        credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', webhook_secret: GH_SECRET }
                    })
                ).status,
                200
            );
            assert.equal(
                (
                    await api(server, 'POST', '/connections', {
                        provider_config_key: 'gh',
                        connection_id: 'install-42',
                        credentials: { type: 'OAUTH2', access_token: 'x' },
                        connection_config: { installation_id: '42' }
                    })
                ).status,
                201
            );
            session = await signIn(server);
        });
        after(async () => {
            await server?.stop();
            await items?.close();
            if (server) removeDir(server.dataDir);
            await storage?.drop();
        });

        it('lists action runs, synchronous and asynchronous, with sizes and error types but no contents', async () => {
            const headers = { 'connection-id': 'c-1', 'provider-config-key': KEY };
            const ok = await api(server, 'POST', '/action/trigger', { action_name: 'get-item', input: { id: 'item-1' } }, headers);
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const failed = await api(server, 'POST', '/action/trigger', { action_name: 'get-item', input: { id: 'missing' } }, headers);
            assert.ok(failed.status >= 400);
            const queued = await api(
                server,
                'POST',
                '/action/trigger',
                { action_name: 'get-item', input: { id: 'item-2' } },
                { ...headers, 'x-async': 'true' }
            );
            assert.equal(queued.status, 202, JSON.stringify(queued.body));
            const runs = await waitFor('three finished action runs', async () => {
                const r = await get('/runs?kind=action');
                return r.body.data.length === 3 && r.body.data.every((x: Json) => x.finished_at) ? r.body.data : undefined;
            });
            const [asyncRun, failedRun, okRun] = runs;
            assert.equal(okRun.mode, 'sync');
            assert.equal(okRun.status, 'SUCCESS');
            assert.equal(okRun.action, 'get-item');
            assert.equal(okRun.connection_id, 'c-1');
            assert.equal(okRun.input_bytes, Buffer.byteLength(JSON.stringify({ id: 'item-1' })));
            assert.equal(okRun.output_bytes, Buffer.byteLength(JSON.stringify(ok.body)));
            assert.equal(okRun.error, null);
            assert.equal(failedRun.status, 'ERROR');
            assert.equal(failedRun.output_bytes, null);
            assert.equal(typeof failedRun.error.type, 'string');
            assert.equal(asyncRun.mode, 'async');
            assert.equal(asyncRun.action_id, queued.body.id);
            assert.equal(asyncRun.status, 'SUCCESS');
            assert.equal(asyncRun.input_bytes, Buffer.byteLength(JSON.stringify({ id: 'item-2' })));
            assert.ok(asyncRun.output_bytes > 0);
            assert.doesNotMatch(JSON.stringify(runs), /item-1|item-2|"input"|"output"/, 'sizes, never contents');
            // Paged by cursor, and the sync runs' list does not mix them in.
            const first = await get('/runs?kind=action&limit=2');
            assert.equal(first.body.next_cursor, runs[1].id);
            assert.deepEqual(
                (await get(`/runs?kind=action&limit=2&cursor=${first.body.next_cursor}`)).body.data.map((r: Json) => r.id),
                [okRun.id]
            );
            assert.deepEqual((await get('/runs')).body.data, []);
            assert.equal((await get('/runs?kind=action&status=ERROR')).body.data.length, 1);
            assert.equal((await get('/runs?kind=bogus')).status, 400);
        });

        it('filters connections by organisation and tags', async () => {
            const ids = async (q: string) => (await get(`/connection-list?${q}`)).body.data.map((c: Json) => c.connection_id);
            assert.deepEqual(await ids(`integration=${KEY}&organization=acme`), ['c-1', 'c-2']);
            assert.deepEqual(await ids(`integration=${KEY}&tags=plan:pro`), ['c-1', 'c-3']);
            assert.deepEqual(await ids(`integration=${KEY}&tags=${encodeURIComponent('plan:pro, region:eu')}`), ['c-1']);
            assert.deepEqual(await ids(`integration=${KEY}&organization=globex&tags=region:eu`), []);
            const bad = await get('/connection-list?tags=no-colon');
            assert.equal(bad.status, 400);
            assert.equal(bad.body.error.code, 'invalid_query_params');
        });

        it('records provider webhooks received, without their payload, and pages them', async () => {
            const info = await api(server, 'GET', '/integrations/gh?include=webhook');
            const url = new URL(info.body.data.webhook_url).pathname;
            const send = (body: string, secret: string) =>
                fetch(`${server.url}${url}`, {
                    method: 'POST',
                    headers: {
                        'content-type': 'application/json',
                        'x-github-event': 'push',
                        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
                    },
                    body
                });
            const routed = JSON.stringify({ installation: { id: 42 }, secret_marker: 'payload-secret-value' });
            assert.equal((await send(routed, GH_SECRET)).status, 200);
            assert.equal((await send(routed, 'wrong')).status, 401);
            // An integration nobody created is not recorded (a stranger's names never fill the table).
            const envUuid = url.split('/')[2];
            assert.equal((await fetch(`${server.url}/webhook/${envUuid}/nope`, { method: 'POST', body: '{}' })).status, 401);
            const list = await get('/inbound-webhooks');
            assert.equal(list.status, 200, JSON.stringify(list.body));
            const [refused, ok] = list.body.data;
            assert.equal(list.body.data.length, 2);
            assert.deepEqual(Object.keys(ok), [
                'id',
                'provider_config_key',
                'provider',
                'event',
                'outcome',
                'reason',
                'connections',
                'runs',
                'forwards',
                'body_bytes',
                'received_at'
            ]);
            assert.equal(typeof ok.id, 'number');
            assert.equal(ok.received_at, new Date(ok.received_at).toISOString());
            assert.equal(ok.provider, 'github');
            assert.equal(ok.provider_config_key, 'gh');
            assert.equal(ok.event, 'push');
            assert.equal(ok.outcome, 'routed');
            assert.equal(ok.connections, 1);
            assert.equal(ok.body_bytes, Buffer.byteLength(routed));
            assert.equal(refused.outcome, 'refused');
            assert.equal(refused.reason, 'bad signature');
            assert.doesNotMatch(JSON.stringify(list.body), /payload-secret-value|installation/);
            const page = await get('/inbound-webhooks?limit=1');
            assert.equal(page.body.next_cursor, refused.id);
            assert.deepEqual(
                (await get(`/inbound-webhooks?limit=1&cursor=${page.body.next_cursor}`)).body.data.map((w: Json) => w.id),
                [ok.id]
            );
            assert.equal((await get('/inbound-webhooks?outcome=refused')).body.data.length, 1);
            assert.equal((await get('/inbound-webhooks?outcome=maybe')).status, 400);
            await api(server, 'POST', '/admin/environments', { name: 'staging' }, { authorization: `Bearer ${server.adminKey}` });
            assert.deepEqual((await get('/inbound-webhooks', 'staging')).body.data, [], 'another environment sees none');
        });

        it('shows recent errors to the signed-in operator only', async () => {
            const page = await get('/errors?limit=5');
            assert.equal(page.status, 200, JSON.stringify(page.body));
            assert.ok(Array.isArray(page.body.data));
            assert.equal(page.body.capacity, 200);
            const anonymous = await fetch(`${server.url}/dashboard/api/errors`);
            assert.equal(anonymous.status, 401);
            await anonymous.arrayBuffer();
            const withAppKey = await fetch(`${server.url}/dashboard/api/errors`, { headers: { authorization: `Bearer ${server.secretKey}` } });
            assert.equal(withAppKey.status, 401, 'an app’s key opens nothing under /dashboard/api');
            await withAppKey.arrayBuffer();
            assert.equal((await get('/errors?limit=500')).status, 400);
        });

        it('keeps provider webhook summaries seven days, and at most the newest of each environment', async () => {
            const dir = backend === 'pglite' ? mkdtempSync(join(tmpdir(), 'sb-inbound-')) : undefined;
            const db = await openDatabase(
                dir ? { databaseUrl: undefined, dataDir: dir } : { databaseUrl: storage.env['SWITCHBOARD_DATABASE_URL'], dataDir: server.dataDir }
            );
            try {
                const [env] = await db.query<{ id: number }>("INSERT INTO environments (uuid, name) VALUES (gen_random_uuid(), 'purge-test') RETURNING id");
                const row = {
                    environmentId: env!.id,
                    integrationId: null,
                    providerConfigKey: 'gh',
                    provider: 'github',
                    outcome: 'refused' as const,
                    bodyBytes: 1
                };
                for (let i = 0; i < 5; i++) await recordInbound(db, { ...row, reason: `r${i}` });
                await db.query(`UPDATE inbound_webhooks SET received_at = now() - interval '8 days' WHERE environment_id = $1 AND reason = 'r0'`, [env!.id]);
                await purgeInboundWebhooks(db, { keep: 3 });
                const left = await db.query<{ reason: string }>('SELECT reason FROM inbound_webhooks WHERE environment_id = $1 ORDER BY id', [env!.id]);
                assert.deepEqual(
                    left.map((r) => r.reason),
                    ['r2', 'r3', 'r4']
                );
                if (backend === 'postgres') {
                    // The server's own rows (another environment) are untouched by this environment's cap.
                    assert.ok(
                        (await db.query("SELECT 1 FROM inbound_webhooks WHERE provider_config_key = 'gh' AND environment_id <> $1", [env!.id])).length > 0
                    );
                }
            } finally {
                await db.close();
                if (dir) removeDir(dir);
            }
        });

        if (backend === 'postgres') {
            it('a request that fails on the server appears in the recent errors, without the secret it touched', async () => {
                // A connection whose stored ciphertext was damaged: reading it fails with a 500 and an error-level line.
                const made = await api(server, 'POST', '/connections', {
                    provider_config_key: KEY,
                    connection_id: 'c-broken',
                    credentials: { type: 'API_KEY', apiKey: 'damaged-secret-value' }
                });
                assert.equal(made.status, 201);
                const client = new pg.Client({ connectionString: storage.env['SWITCHBOARD_DATABASE_URL'] });
                await client.connect();
                try {
                    await client.query(`UPDATE connections SET credentials = 'v1.nope.tampered-ciphertext' WHERE connection_id = 'c-broken'`);
                } finally {
                    await client.end();
                }
                const before = (await get('/errors')).body.data.length;
                const read = await api(server, 'GET', `/connections/c-broken?provider_config_key=${KEY}`);
                assert.equal(read.status, 500, JSON.stringify(read.body));
                const errors = await waitFor('the error in the ring', async () => {
                    const r = await get('/errors');
                    return r.body.data.length > before ? r.body.data : undefined;
                });
                const [newest] = errors;
                assert.equal(newest.message, 'request failed');
                assert.equal(newest.route, '/connections/:connectionId');
                assert.equal(newest.method, 'GET');
                assert.ok(newest.error_type);
                assert.doesNotMatch(JSON.stringify(errors), /tampered-ciphertext|damaged-secret-value/);
            });
        }
    });
}
