// Two server instances sharing one PostgreSQL: every event is attempted by one worker at a time and delivered
// exactly once, including across a retry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, deliveries, type Receiver } from './support/webhooks.ts';

describe('webhook delivery with two instances on PostgreSQL', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let r: Receiver;
    let a: TestServer;
    let b: TestServer;
    const attemptsById = new Map<string, number>();

    before(async () => {
        database = await createTestDatabase();
        r = await startReceiver();
        // The first attempt of every message fails, so each one also goes through a retry that either instance may claim.
        r.respond((req) => {
            const id = String(req.headers['webhook-id']);
            const n = (attemptsById.get(id) ?? 0) + 1;
            attemptsById.set(id, n);
            return n === 1 ? 503 : 200;
        });
        const env = {
            SWITCHBOARD_DATABASE_URL: database.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_SECRET_KEY: randomUUID(),
            SWITCHBOARD_WEBHOOK_URL: r.url,
            SWITCHBOARD_WEBHOOK_BACKOFF_MS: '20'
        };
        // Started together: the settings bootstrap must still create one secret.
        [a, b] = await Promise.all([startServer(env), startServer(env)]);
    });
    after(async () => {
        await a?.stop();
        await b?.stop();
        await r?.close();
        await database?.drop();
        if (a) removeDir(a.dataDir);
        if (b) removeDir(b.dataDir);
    });

    it('both instances share one signing secret', async () => {
        const [sa, sb] = await Promise.all([api(a, 'GET', '/admin/webhooks/settings'), api(b, 'GET', '/admin/webhooks/settings')]);
        assert.match(sa.body.data.secret, /^whsec_/);
        assert.deepEqual(sa.body.data, sb.body.data);
    });

    it('each of 40 events is delivered exactly once', async () => {
        const created = await api(a, 'POST', '/integrations', {
            provider: 'github',
            unique_key: 'gh',
            credentials: { type: 'OAUTH2', client_id: 'x', client_secret: 'y' }
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const N = 40;
        const results = await Promise.all(
            Array.from({ length: N }, (_, i) =>
                api(i % 2 ? a : b, 'POST', '/connections', {
                    provider_config_key: 'gh',
                    connection_id: `c${i}`,
                    credentials: { type: 'OAUTH2', access_token: `t${i}` }
                })
            )
        );
        for (const res of results) assert.equal(res.status, 201, JSON.stringify(res.body));
        const done = await waitFor(
            'every event delivered',
            async () => {
                const rows = await deliveries(a, '&status=delivered');
                return rows.length === N ? rows : undefined;
            },
            60_000
        );
        assert.equal(new Set(done.map((d) => d.event_id)).size, N);
        for (const d of done) assert.equal(d.attempts, 2, `delivery ${d.id} took ${d.attempts} attempts`);
        // The receiver saw each message exactly twice: the refused first attempt and one successful retry.
        assert.equal(attemptsById.size, N);
        for (const [id, n] of attemptsById) assert.equal(n, 2, `${id} was sent ${n} times`);
        const connections = r.requests.filter((q) => q.headers['webhook-id'] && JSON.parse(q.body).type === 'auth').map((q) => JSON.parse(q.body).connectionId);
        assert.equal(new Set(connections).size, N);
        assert.equal((await deliveries(b, '&status=pending')).length, 0);
    });
});
