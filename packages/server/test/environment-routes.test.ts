// Nothing of one environment is visible from another (issue #12 item 3). The test walks the server's whole route
// table: every route an app key may call is called with another environment's key (and with the admin key naming
// that other environment) on the resources of the first, in every shape of query and body that targets them; every
// operator-only route is called with app keys. Each must be refused or answer nothing of the first environment,
// and afterwards the first environment reads exactly as before. On PGlite and on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiRoutes } from '../src/server.ts';
import { removeDir, startServer, type TestServer, storageEnv } from './support/server.ts';
import { adminApi, api, deliveries, startReceiver, waitFor, type Json, type Receiver } from './support/webhooks.ts';
import { deployBody } from './support/functions.ts';

const CFG = 'dev-cfg';
const CONN = 'dev-conn';
const devSecret = `dev-api-key-${randomUUID()}`;
const varValue = `dev-var-${randomUUID()}`;
const metaMarker = `dev-meta-${randomUUID()}`;

const query = { provider_config_key: CFG, connection_id: CONN };
const bodies: unknown[] = [
    undefined,
    {},
    { provider_config_key: CFG, connection_id: CONN },
    { provider_config_key: CFG, connection_id: CONN, metadata: { evil: true } },
    { provider_config_key: CFG, connection_id: CONN, credentials: { type: 'API_KEY', apiKey: 'evil' } },
    { display_name: 'evil' },
    { provider_config_key: CFG, connection_ids: [CONN], syncs: ['observe'] },
    { provider_config_key: CFG, connection_id: CONN, syncs: ['observe'], full_resync: true },
    { provider_config_key: CFG, connection_id: CONN, sync_name: 'observe', frequency: 'every hour' },
    { action_name: 'observe', input: {} },
    { end_user: { id: 'evil' }, allowed_integrations: [CFG] },
    { connection_id: CONN, integration_id: CFG, end_user: { id: 'evil' } },
    { model: 'Item', until_cursor: 'x' },
    { variables: [] },
    { url: null, rotate_secret: true }
];
const adminBodies: unknown[] = [undefined, {}, { name: 'evil' }, { generate: true }, { overlap_seconds: 0 }];

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`no environment sees another, route by route (${backend})`, () => {
        let server: TestServer;
        let receiver: Receiver;
        let drop: (() => Promise<void>) | undefined;
        let prodKey: string;
        let devUuid: string;
        let devKeyId: string;
        let deliveryId: number;
        let webhookSecret: string;

        /** The first environment as its own key and the operator read it. */
        const snapshot = async () => {
            const reads: Record<string, Json> = {};
            for (const path of [
                '/integrations',
                `/integrations/${CFG}?include=credentials`,
                '/connections',
                `/connections/${CONN}?provider_config_key=${CFG}`,
                '/environment-variables',
                '/admin/webhooks/settings',
                '/admin/webhooks/deliveries',
                '/admin/audit',
                '/scripts/config'
            ]) {
                const res = await api(server, 'GET', path);
                assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
                // Reading a connection stamps last_fetched_at: the snapshot's own read, not a change.
                if (res.body?.last_fetched_at) res.body.last_fetched_at = 'read';
                reads[path] = res.body;
            }
            for (const path of ['/admin/environments', '/admin/environments/dev/keys']) reads[path] = (await adminApi(server, 'GET', path)).body;
            return reads;
        };

        before(async () => {
            receiver = await startReceiver();
            const env: Record<string, string> = {};
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            const ok = (res: { status: number; body: Json }, status = 200) => {
                assert.equal(res.status, status, JSON.stringify(res.body));
                return res.body;
            };
            prodKey = ok(await adminApi(server, 'POST', '/admin/environments', { name: 'prod' }), 201).data.secret_key;
            webhookSecret = ok(await api(server, 'PATCH', '/admin/webhooks/settings', { url: receiver.url })).data.secret;
            ok(await api(server, 'POST', '/integrations', { unique_key: CFG, provider: 'openai' }));
            ok(
                await api(server, 'POST', '/connections', {
                    provider_config_key: CFG,
                    connection_id: CONN,
                    credentials: { type: 'API_KEY', apiKey: devSecret }
                }),
                201
            );
            ok(await api(server, 'POST', '/connections/metadata', { provider_config_key: CFG, connection_id: CONN, metadata: { marker: metaMarker } }), 201);
            ok(await api(server, 'PUT', '/admin/environment-variables', { variables: [{ name: 'DEV_VAR', value: varValue }] }));
            ok(
                await api(
                    server,
                    'POST',
                    '/sync/deploy',
                    deployBody([
                        { type: 'action', name: 'observe', file: 'observe.cjs', providerConfigKey: CFG },
                        { type: 'action', name: 'plant', file: 'plant.cjs', providerConfigKey: CFG }
                    ])
                )
            );
            const delivered = await waitFor('the creation webhook of the first environment', async () => {
                const d = await deliveries(server);
                return d.length > 0 && d.every((x) => x.status === 'delivered') ? d : undefined;
            });
            deliveryId = delivered[0]!.id;
            devUuid = ok(await adminApi(server, 'GET', '/admin/environments')).data.find((e: Json) => e.name === 'dev').uuid;
            devKeyId = ok(await adminApi(server, 'GET', '/admin/environments/dev/keys')).data[0].id;
        });
        after(async () => {
            await server?.stop();
            await receiver?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        const fill = (url: string) =>
            url.replace('/*', '/v1/items').replace(/:(\w+)/g, (_, p: string) => {
                if (p === 'id') return url.includes('deliveries') ? String(deliveryId) : url.includes('keys') ? devKeyId : randomUUID();
                if (p === 'name') return url.startsWith('/admin/environments') ? 'dev' : 'observe';
                if (p === 'connectionId') return CONN;
                if (p === 'environmentUuid') return devUuid;
                if (p === 'provider') return 'openai';
                if (p === 'variant') return 'v1';
                return CFG;
            });

        it("every app-key route, called with another environment's key on the first's resources, is refused or empty; nothing changes", async (t) => {
            const before = await snapshot();
            const secrets = [devSecret, varValue, metaMarker, webhookSecret, receiver.url, server.secretKey];
            const ids = [CFG, CONN, devUuid, devKeyId];
            const walked = new Set<string>();
            const answers = new Map<string, number>();
            for (const route of apiRoutes) {
                if (route.auth === 'public' || route.auth === 'session' || route.auth === 'admin') continue;
                const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) =>
                    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(m)
                );
                for (const method of methods) {
                    for (const url of Array.isArray(route.url) ? route.url : [route.url]) {
                        const path = fill(url);
                        walked.add(`${method} ${url}`);
                        const callers = [
                            { authorization: `Bearer ${prodKey}` },
                            { authorization: `Bearer ${server.adminKey}`, 'switchboard-environment': 'prod' }
                        ];
                        for (const caller of callers) {
                            for (const q of route.query ? [query, {}] : [{}]) {
                                for (const body of route.body && method !== 'GET' ? bodies : [undefined]) {
                                    const search = new URLSearchParams(q).toString();
                                    const target = `${path}${search ? `?${search}` : ''}`;
                                    const res = await fetch(`${server.url}${target}`, {
                                        method,
                                        headers: {
                                            ...caller,
                                            'provider-config-key': CFG,
                                            'connection-id': CONN,
                                            ...(body === undefined ? {} : { 'content-type': 'application/json' })
                                        },
                                        ...(body === undefined ? {} : { body: JSON.stringify(body) })
                                    });
                                    const text = await res.text();
                                    const code = /"code":"(\w+)"/.exec(text)?.[1] ?? String(res.status);
                                    answers.set(code, (answers.get(code) ?? 0) + 1);
                                    const what = `${method} ${target} ${JSON.stringify(body)} as ${caller.authorization === `Bearer ${prodKey}` ? 'prod key' : 'admin key for prod'} → ${res.status} ${text.slice(0, 300)}`;
                                    for (const s of secrets) assert.ok(!text.includes(s), `a secret of the first environment leaked: ${what}`);
                                    if (res.status < 400)
                                        for (const id of ids) assert.ok(!text.includes(id), `the first environment's ${id} is visible: ${what}`);
                                }
                            }
                        }
                    }
                }
            }
            assert.ok(walked.size > 40, `walked only ${walked.size} routes`);
            // The calls reached the lookups (not only the schema checks), and found nothing there.
            t.diagnostic(JSON.stringify(Object.fromEntries(answers)));
            for (const code of ['unknown_provider_config', 'unknown_connection', 'unknown_webhook_delivery'])
                assert.ok((answers.get(code) ?? 0) > 0, `no call answered ${code}: ${JSON.stringify(Object.fromEntries(answers))}`);
            assert.deepEqual(await snapshot(), before, 'the first environment changed');
        });

        it('every operator-only route refuses app keys, and nothing changes', async () => {
            const before = await snapshot();
            let walked = 0;
            for (const route of apiRoutes) {
                if (route.auth !== 'admin') continue;
                for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
                    for (const url of Array.isArray(route.url) ? route.url : [route.url]) {
                        walked++;
                        for (const key of [server.secretKey, prodKey]) {
                            for (const body of route.body ? adminBodies : [undefined]) {
                                const res = await api(server, method, fill(url), body, { authorization: `Bearer ${key}` });
                                assert.equal(res.status, 403, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
                                assert.equal(res.body.error.code, 'admin_key_required');
                            }
                        }
                    }
                }
            }
            assert.ok(walked >= 9, `walked only ${walked} operator routes`);
            assert.deepEqual(await snapshot(), before, 'an app key changed something through an operator route');
        });
    });
}
