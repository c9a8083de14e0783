// Two instances on one PostgreSQL share 1,000 scheduled syncs: over two slots every schedule runs exactly once
// per slot, never twice and never skipped, and both instances take part.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { waitFor, api } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';

const KEY = 'pinger';
const CONNECTIONS = Number(process.env['SB_CLUSTER_CONNECTIONS'] ?? 1000);

describe('functions: two instances, 1,000 scheduled syncs', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let sql: pg.Client;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    const servers: TestServer[] = [];
    const pings = new Map<string, number>();
    const apiKey = `key-${randomBytes(8).toString('hex')}`;

    before(async () => {
        db = await createTestDatabase();
        sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        upstream = await startUpstream((req, res) => {
            const c = new URL(req.url, 'http://x').searchParams.get('c') ?? '';
            const n = (pings.get(c) ?? 0) + 1;
            pings.set(c, n);
            json(res, 200, { n });
        });
        const env = {
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_SECRET_KEY: randomUUID(),
            SWITCHBOARD_PROVIDERS: writeProvidersFile(
                `ping-api:\n  display_name: Ping\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${upstream.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
            ),
            SWITCHBOARD_SCHEDULER_TICK_MS: '250',
            SWITCHBOARD_LOG_LEVEL: 'info'
        };
        servers.push(await startServer(env));
        servers.push(await startServer(env));
    });

    after(async () => {
        for (const s of servers) await s.stop();
        await upstream?.close();
        await sql?.end();
        await db?.drop();
        for (const s of servers) removeDir(s.dataDir);
    });

    it('runs every schedule exactly once per slot across both instances', async () => {
        const [a, b] = servers as [TestServer, TestServer];
        assert.equal((await api(a, 'POST', '/integrations', { unique_key: KEY, provider: 'ping-api' })).status, 200);
        for (let i = 0; i < CONNECTIONS; i += 50) {
            await Promise.all(
                Array.from({ length: Math.min(50, CONNECTIONS - i) }, (_, j) =>
                    api(i % 100 === 0 ? a : b, 'POST', '/connections', {
                        provider_config_key: KEY,
                        connection_id: `c-${i + j}`,
                        credentials: { type: 'API_KEY', apiKey }
                    }).then((r) => assert.equal(r.status, 201))
                )
            );
        }
        const deployed = await deploy(a, [
            { type: 'sync', name: 'ping', file: 'ping-sync.cjs', providerConfigKey: KEY, models: ['Ping'], runs: 'every 30 seconds', autoStart: true }
        ]);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));

        const succeeded = async () => Number((await sql.query("SELECT count(*) AS n FROM runs WHERE status = 'SUCCESS'")).rows[0].n);
        // Exactly once per slot, whatever the machine's speed: no schedule ran more often than its grid has slots
        // since it started, and no two runs of one schedule overlapped (a first slot that takes
        // longer than 30 s on a loaded machine may let some second slots start before every first run is done).
        const assertOnePerSlot = async () => {
            const tooMany = await sql.query(
                `SELECT s.id FROM syncs s JOIN runs r ON r.sync_id = s.id
                GROUP BY s.id, s.starts_at HAVING count(*) > floor(extract(epoch FROM now() - s.starts_at) / 30) + 1`
            );
            assert.equal(tooMany.rowCount, 0, `schedules that ran more often than their grid allows: ${tooMany.rowCount}`);
            const overlapping = await sql.query(
                `SELECT count(*) AS n FROM runs a JOIN runs b ON a.sync_id = b.sync_id AND a.id < b.id
                  WHERE b.started_at < coalesce(a.finished_at, now())`
            );
            assert.equal(Number(overlapping.rows[0].n), 0, 'no two runs of one schedule overlapped');
        };
        await waitFor('the first slot of every schedule', async () => (await succeeded()) >= CONNECTIONS, 120_000).catch(async (err: unknown) => {
            const jobs = (await sql.query('SELECT status, count(*) AS n FROM runs GROUP BY status')).rows;
            throw new Error(
                `${String(err)}; jobs ${JSON.stringify(jobs)}; pings ${pings.size}\n${servers[0]!
                    .output()
                    .split('\n')
                    .filter((l) => /"level":(40|50)/.test(l))
                    .slice(0, 10)
                    .join('\n')}`
            );
        });
        assert.equal(pings.size, CONNECTIONS);
        await assertOnePerSlot();

        await waitFor('the second slot of every schedule', async () => (await succeeded()) >= 2 * CONNECTIONS, 120_000);
        await assertOnePerSlot();
        assert.ok(
            [...pings.values()].every((n) => n >= 2),
            'every schedule ran in its second slot'
        );
        const failed = Number((await sql.query("SELECT count(*) AS n FROM runs WHERE status NOT IN ('SUCCESS', 'QUEUED', 'RUNNING')")).rows[0].n);
        assert.equal(failed, 0);
        const perInstance = servers.map((s) => (s.output().match(/"msg":"sync run finished"/g) ?? []).length);
        assert.ok(perInstance[0]! + perInstance[1]! >= 2 * CONNECTIONS);
        assert.ok(
            perInstance.every((n) => n > 0),
            `both instances ran syncs: ${perInstance.join(' / ')}`
        );
    });
});
