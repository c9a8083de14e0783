// Issue #16 item 4: rate limits on our own API, per secret key and per connection, counted in the database so
// that instances share them. Two servers on one PostgreSQL let exactly the configured number through, whichever
// instance and whichever proxy door serves each call; the embedded default holds them too; a 429 does nothing;
// another environment's counters and limits are its own.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig, ConfigError } from '../src/config/config.ts';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';

it('config: limits are off by default, "<requests>/<window>" or "off", per environment by name', () => {
    assert.deepEqual(loadConfig({}).rateLimits, { defaults: { perKey: undefined, perConnection: undefined }, byEnvironment: {} });
    const c = loadConfig({
        SWITCHBOARD_RATE_LIMIT_PER_KEY: '600/1m',
        SWITCHBOARD_RATE_LIMIT_PER_CONNECTION: '20 / 10s',
        SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: '{"prod": {"per_key": "6000/1h"}, "dev": {"per_connection": "off"}}'
    });
    assert.deepEqual(c.rateLimits.defaults, { perKey: { limit: 600, windowSeconds: 60 }, perConnection: { limit: 20, windowSeconds: 10 } });
    assert.deepEqual(c.rateLimits.byEnvironment, { prod: { perKey: { limit: 6000, windowSeconds: 3600 } }, dev: { perConnection: undefined } });
    for (const bad of ['600', '0/1m', '10/0s', '10/2d', 'ten/1m'])
        assert.throws(
            () => loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_KEY: bad }),
            (e: Error) => e instanceof ConfigError && /^SWITCHBOARD_RATE_LIMIT_PER_KEY: /.test(e.message)
        );
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: '{"prod": {"per_kee": "1/1m"}}' }), /SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT/);
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: 'nope' }), /SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: must be a JSON object/);
});

const KEY_LIMIT = 6;
const CONNECTION_LIMIT = 4;
const OTHER_KEY_LIMIT = 3;

interface Answer {
    status: number;
    headers: Headers;
    body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

async function call(base: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

const backends = [
    { name: 'embedded', instances: 1, env: async () => ({ env: {}, drop: async () => {} }) },
    {
        name: 'PostgreSQL, two instances',
        instances: 2,
        env: async () => {
            const db = await createTestDatabase();
            return { env: { SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() }, drop: db.drop };
        }
    }
];

for (const backend of backends) {
    describe(`rate limits (${backend.name})`, () => {
        const servers: TestServer[] = [];
        let upstream: Awaited<ReturnType<typeof startUpstream>>;
        let drop: () => Promise<void>;
        const adminKey = `admin-${randomUUID()}`;
        let otherKey: string;
        // Calls alternate between the instances (one instance on the embedded database).
        const at = (i: number) => servers[i % servers.length]!.url;

        /** A fresh secret key of `env`: a fresh per-key budget. */
        const newKey = async (env = 'dev'): Promise<string> => {
            const res = await call(servers[0]!.url, adminKey, 'POST', `/admin/environments/${env}/keys`, {});
            assert.equal(res.status, 201, JSON.stringify(res.body));
            return (res.body['data'] as { secret_key: string }).secret_key;
        };

        before(async () => {
            const db = await backend.env();
            drop = db.drop;
            upstream = await startUpstream((_req, res) => json(res, 200, { ok: true }));
            const env = {
                ...db.env,
                SWITCHBOARD_SECRET_KEY: randomUUID(),
                SWITCHBOARD_ADMIN_KEY: adminKey,
                SWITCHBOARD_RATE_LIMIT_PER_KEY: `${KEY_LIMIT}/1h`,
                SWITCHBOARD_RATE_LIMIT_PER_CONNECTION: `${CONNECTION_LIMIT}/1h`,
                SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: JSON.stringify({ other: { per_key: `${OTHER_KEY_LIMIT}/1h`, per_connection: 'off' } }),
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${upstream.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
                )
            };
            for (let i = 0; i < backend.instances; i++) servers.push(await startServer(env));
            const created = await call(servers[0]!.url, adminKey, 'POST', '/admin/environments', { name: 'other' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            otherKey = (created.body['data'] as { secret_key: string }).secret_key;
            // Setup uses keys of its own, never the ones the tests count with.
            for (const key of [servers[0]!.secretKey, await newKey('other')]) {
                const base = servers[0]!.url;
                assert.equal((await call(base, key, 'POST', '/integrations', { unique_key: 'items', provider: 'items-api' })).status, 200);
                const conn = await call(base, key, 'POST', '/connections', {
                    provider_config_key: 'items',
                    connection_id: 'tenant-1',
                    credentials: { type: 'API_KEY', apiKey: randomBytes(8).toString('hex') }
                });
                assert.equal(conn.status, 201, JSON.stringify(conn.body));
            }
        });
        after(async () => {
            for (const s of servers) await s.stop();
            await upstream?.close();
            for (const s of servers) removeDir(s.dataDir);
            await drop?.();
        });

        it('per key: exactly the configured number of calls pass, across instances, with RateLimit fields; then 429 with Retry-After', async () => {
            const key = await newKey();
            const answers: Answer[] = [];
            for (let i = 0; i < KEY_LIMIT + 4; i++) answers.push(await call(at(i), key, 'GET', '/connections'));
            assert.deepEqual(
                answers.map((a) => a.status),
                [...Array(KEY_LIMIT).fill(200), ...Array(4).fill(429)]
            );
            for (const [i, a] of answers.slice(0, KEY_LIMIT).entries()) {
                assert.equal(a.headers.get('ratelimit-policy'), `"key";q=${KEY_LIMIT};w=3600`);
                assert.match(a.headers.get('ratelimit') ?? '', new RegExp(`^"key";r=${KEY_LIMIT - 1 - i};t=\\d+$`));
                assert.equal(a.headers.get('x-ratelimit-remaining'), String(KEY_LIMIT - 1 - i));
            }
            const refused = answers.at(-1)!;
            assert.equal(refused.body.error?.code, 'too_many_request');
            const retryAfter = Number(refused.headers.get('retry-after'));
            assert.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
            assert.match(refused.headers.get('ratelimit') ?? '', /^"key";r=0;t=\d+$/);
            // At once: three times the limit in parallel, spread over the instances; still exactly the limit passes.
            const burstKey = await newKey();
            const burst = await Promise.all(Array.from({ length: 3 * KEY_LIMIT }, (_, i) => call(at(i), burstKey, 'GET', '/connections')));
            assert.equal(burst.filter((a) => a.status === 200).length, KEY_LIMIT);
            assert.equal(burst.filter((a) => a.status === 429).length, 2 * KEY_LIMIT);
            // Another key of the same environment has its own budget; the admin key is not limited.
            assert.equal((await call(at(1), await newKey(), 'GET', '/connections')).status, 200);
            for (let i = 0; i < KEY_LIMIT + 1; i++) assert.equal((await call(at(i), adminKey, 'GET', '/admin/environments')).status, 200);
            // Each refusal is counted once in the metrics, on the instance that refused it: 4 + 12 so far.
            let refusals = 0;
            for (const s of servers) {
                const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } })).text();
                refusals += Number(/^switchboard_rate_limited_total\{limit="key"\} (\d+)$/m.exec(text)?.[1] ?? 0);
            }
            assert.equal(refusals, 4 + 2 * KEY_LIMIT);
        });

        it('a refused call does nothing: no connection created, no upstream request', async () => {
            const key = await newKey();
            for (let i = 0; i < KEY_LIMIT; i++) assert.equal((await call(at(i), key, 'GET', '/integrations')).status, 200);
            const upstreamBefore = upstream.requests.length;
            const create = await call(at(0), key, 'POST', '/connections', {
                provider_config_key: 'items',
                connection_id: 'refused-1',
                credentials: { type: 'API_KEY', apiKey: 'x' }
            });
            assert.equal(create.status, 429);
            const proxied = await call(at(1), key, 'GET', '/proxy/items', undefined, { 'provider-config-key': 'items', 'connection-id': 'tenant-1' });
            assert.equal(proxied.status, 429);
            assert.equal(proxied.body.error?.code, 'too_many_request');
            assert.equal(upstream.requests.length, upstreamBefore, 'the refused proxy call reached the provider');
            const check = await call(at(0), await newKey(), 'GET', '/connections/refused-1?provider_config_key=items');
            assert.equal(check.status, 404, 'the refused call created the connection');
        });

        it('per connection: proxy calls through both doors and both instances; the key counts only what passed', async () => {
            const key = await newKey();
            const upstreamBefore = upstream.requests.length;
            const statuses: number[] = [];
            for (let i = 0; i < CONNECTION_LIMIT + 2; i++) {
                // Every third call carries Retries, which the fast door leaves to Fastify's route.
                const res = await call(at(i), key, 'GET', `/proxy/items/${i}`, undefined, {
                    'provider-config-key': 'items',
                    'connection-id': 'tenant-1',
                    ...(i % 3 === 1 ? { retries: '0' } : {})
                });
                statuses.push(res.status);
                if (res.status === 200) {
                    assert.equal(res.headers.get('ratelimit-policy'), `"key";q=${KEY_LIMIT};w=3600, "connection";q=${CONNECTION_LIMIT};w=3600`);
                    assert.match(
                        res.headers.get('ratelimit') ?? '',
                        new RegExp(`^"key";r=${KEY_LIMIT - 1 - i};t=\\d+, "connection";r=${CONNECTION_LIMIT - 1 - i};t=\\d+$`)
                    );
                } else {
                    assert.equal(res.body.error?.code, 'too_many_request');
                    assert.ok(Number(res.headers.get('retry-after')) > 0);
                }
            }
            assert.deepEqual(statuses, [...Array(CONNECTION_LIMIT).fill(200), 429, 429]);
            assert.equal(upstream.requests.length - upstreamBefore, CONNECTION_LIMIT);
            // The two refused calls were not counted against the key: it has KEY_LIMIT - CONNECTION_LIMIT left.
            const next = await call(at(0), key, 'GET', '/connections');
            assert.equal(next.status, 200);
            assert.match(next.headers.get('ratelimit') ?? '', new RegExp(`^"key";r=${KEY_LIMIT - CONNECTION_LIMIT - 1};t=`));
            // A proxied call to a connection that does not exist counts against the key like any call (here its last).
            assert.equal(KEY_LIMIT - CONNECTION_LIMIT - 1, 1);
            const unknown = await call(at(1), key, 'GET', '/proxy/x', undefined, { 'provider-config-key': 'items', 'connection-id': 'nobody' });
            assert.equal(unknown.status, 400);
            assert.equal(unknown.body.error?.code, 'unknown_connection');
            assert.match(unknown.headers.get('ratelimit') ?? '', /^"key";r=0;t=\d+$/);
            assert.equal(
                (await call(at(0), key, 'GET', '/proxy/x', undefined, { 'provider-config-key': 'items', 'connection-id': 'nobody', retries: '0' })).status,
                429
            );
        });

        it("another environment's counters and limits are its own", async () => {
            // dev's configured key is spent to its last call here; other's key still has its full (smaller) budget.
            const devKey = await newKey();
            for (let i = 0; i < KEY_LIMIT; i++) assert.equal((await call(at(i), devKey, 'GET', '/connections')).status, 200);
            assert.equal((await call(at(0), devKey, 'GET', '/connections')).status, 429);
            const statuses: number[] = [];
            for (let i = 0; i < OTHER_KEY_LIMIT + 1; i++) statuses.push((await call(at(i), otherKey, 'GET', '/connections')).status);
            assert.deepEqual(statuses, [...Array(OTHER_KEY_LIMIT).fill(200), 429]);
            // other has no per-connection limit: its connection tenant-1 (same id as dev's) is not limited, by the
            // connection count or by dev's counters.
            const otherProxyKey = await newKey('other');
            for (let i = 0; i < OTHER_KEY_LIMIT; i++) {
                const res = await call(at(i), otherProxyKey, 'GET', '/proxy/x', undefined, { 'provider-config-key': 'items', 'connection-id': 'tenant-1' });
                assert.equal(res.status, 200);
                assert.equal(res.headers.get('ratelimit-policy'), `"key";q=${OTHER_KEY_LIMIT};w=3600`);
            }
        });
    });
}
