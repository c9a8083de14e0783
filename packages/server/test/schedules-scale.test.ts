// Schedules at scale (issue #13 item 4): thousands of 30-second schedules created in one deploy get their first
// runs spread over the period, are claimed in bulk by two instances at once, and no schedule ever starts twice for
// one slot or overlaps itself. On PostgreSQL (two instances) and on the embedded default (one instance, which
// owns its folder). No timed assertions: the speed goal lives in bench/schedules.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { waitFor, api } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { Queryable } from '../src/storage/db.ts';

const KEY = 'scale';
const PERIOD_S = 30;

async function createConnections(servers: TestServer[], n: number): Promise<void> {
    assert.equal((await api(servers[0]!, 'POST', '/integrations', { unique_key: KEY, provider: 'scale-api' })).status, 200);
    for (let i = 0; i < n; i += 50) {
        await Promise.all(
            Array.from({ length: Math.min(50, n - i) }, (_, j) =>
                api(servers[(i + j) % servers.length]!, 'POST', '/connections', {
                    provider_config_key: KEY,
                    connection_id: `c-${i + j}`,
                    credentials: { type: 'API_KEY', apiKey: 'k' }
                }).then((r) => assert.equal(r.status, 201))
            )
        );
    }
}

/** What must hold of every scheduled run, however many instances claimed them. */
async function assertNoDoubleStart(q: Queryable, schedules: number, settledAt: Date): Promise<void> {
    const twice = await q.query(`SELECT sync_id, due_at, count(*) AS n FROM runs WHERE kind = 'sync' GROUP BY sync_id, due_at HAVING count(*) > 1 LIMIT 5`);
    assert.deepEqual(twice, [], 'no slot of a schedule was run twice');
    const overlapping = await q.query<{ n: string }>(
        `SELECT count(*) AS n FROM runs a JOIN runs b ON b.sync_id = a.sync_id AND b.id > a.id
         WHERE a.kind = 'sync' AND b.kind = 'sync' AND b.started_at < COALESCE(a.finished_at, 'infinity')`
    );
    assert.equal(Number(overlapping[0]!.n), 0, 'no run of a schedule started before the previous one ended');
    const restarted = await q.query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE kind = 'sync' AND attempts > 1`);
    assert.equal(Number(restarted[0]!.n), 0, 'no run was started twice');
    // The runs table is the queue: a run is taken only once its slot has come (same database clock).
    const early = await q.query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE kind = 'sync' AND started_at < due_at`);
    assert.equal(Number(early[0]!.n), 0, 'no run started before its slot');
    const unslotted = await q.query<{ n: string }>(`SELECT count(*) AS n FROM runs WHERE kind = 'sync' AND due_at IS NULL`);
    assert.equal(Number(unslotted[0]!.n), 0, 'every queued sync run has its slot');
    // Runs the test's own shutdown may have interrupted are left out.
    const failed = await q.query<{ n: string }>(
        `SELECT count(*) AS n FROM runs WHERE kind = 'sync' AND status NOT IN ('SUCCESS', 'QUEUED', 'RUNNING') AND started_at < $1`,
        [settledAt.toISOString()]
    );
    assert.equal(Number(failed[0]!.n), 0, 'every finished run succeeded');
    // Missed slots are skipped, never replayed: consecutive slots of one schedule are a whole period apart or more.
    const close = await q.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT due_at - lag(due_at) OVER (PARTITION BY sync_id ORDER BY due_at) AS gap FROM runs WHERE kind = 'sync') g
         WHERE gap < interval '${PERIOD_S} seconds'`
    );
    assert.equal(Number(close[0]!.n), 0, 'no two slots of a schedule closer than its period');
    // One deploy created every schedule: their grids start 10 ms apart, at most 30 s in all.
    const spread = await q.query<{ s: string; n: string }>(`SELECT extract(epoch from max(starts_at) - min(starts_at)) AS s, count(*) AS n FROM syncs`);
    assert.equal(Number(spread[0]!.n), schedules);
    const expected = Math.min(PERIOD_S, (schedules - 1) * 0.01);
    assert.ok(Math.abs(Number(spread[0]!.s) - expected) < 0.5, `first runs spread over ${spread[0]!.s} s, expected ${expected} s`);
}

describe('schedules at scale (issue #13 item 4): PostgreSQL, two instances', () => {
    // 10,000 is the goal's size (SB_SCALE_SCHEDULES=10000); the default keeps the suite's time reasonable on a small machine.
    const SCHEDULES = Number(process.env['SB_SCALE_SCHEDULES'] ?? 3000);
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let sql: pg.Client;
    const servers: TestServer[] = [];

    before(async () => {
        db = await createTestDatabase();
        sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        const env = {
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_SECRET_KEY: randomUUID(),
            SWITCHBOARD_PROVIDERS: writeProvidersFile('scale-api:\n  display_name: Scale\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:9\n'),
            SWITCHBOARD_LOG_LEVEL: 'info'
        };
        servers.push(await startServer(env));
        servers.push(await startServer(env));
    });

    after(async () => {
        for (const s of servers) await s.stop();
        await sql?.end();
        await db?.drop();
        for (const s of servers) removeDir(s.dataDir);
    });

    it('claims thousands of schedules from both instances in bulk, each slot started once, first runs spread', async () => {
        await createConnections(servers, SCHEDULES);
        const deployed = await deploy(servers[0]!, [
            { type: 'sync', name: 'noop', file: 'noop-sync.cjs', providerConfigKey: KEY, runs: `every ${PERIOD_S} seconds`, autoStart: true }
        ]);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        const twiceRun = async () =>
            Number(
                (
                    await sql.query(
                        `SELECT count(*) AS n FROM (SELECT sync_id FROM runs WHERE kind = 'sync' AND status = 'SUCCESS' GROUP BY sync_id HAVING count(*) >= 2) t`
                    )
                ).rows[0].n
            );
        await waitFor('two slots of every schedule', async () => (await twiceRun()) >= SCHEDULES, Math.max(280_000, SCHEDULES * 60));
        await assertNoDoubleStart({ query: async (text, params) => (await sql.query(text, params)).rows }, SCHEDULES, new Date());
        const perInstance = servers.map((s) => (s.output().match(/"msg":"sync run finished"/g) ?? []).length);
        assert.ok(
            perInstance.every((n) => n > 0),
            `both instances ran syncs: ${perInstance.join(' / ')}`
        );
    });
});

describe('schedules at scale (issue #13 item 4): embedded default, one instance', () => {
    const SCHEDULES = Number(process.env['SB_SCALE_EMBEDDED_SCHEDULES'] ?? 500);
    let server: TestServer;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    const pings = new Map<string, number>();

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const c = new URL(req.url, 'http://x').searchParams.get('c') ?? '';
            pings.set(c, (pings.get(c) ?? 0) + 1);
            json(res, 200, { n: pings.get(c) });
        });
        server = await startServer({
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`scale-api:\n  display_name: Scale\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${upstream.url}\n`)
        });
    });

    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    it('runs every schedule once per slot, first runs spread, with nothing started twice', async () => {
        await createConnections([server], SCHEDULES);
        const deployed = await deploy(server, [
            { type: 'sync', name: 'ping', file: 'ping-sync.cjs', providerConfigKey: KEY, models: ['Ping'], runs: `every ${PERIOD_S} seconds`, autoStart: true }
        ]);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        await waitFor('two slots of every schedule', () => pings.size === SCHEDULES && [...pings.values()].every((n) => n >= 2), 280_000);
        const settledAt = new Date();
        await server.stop();
        const db = await openDatabase({ databaseUrl: undefined, dataDir: server.dataDir });
        try {
            await assertNoDoubleStart(db, SCHEDULES, settledAt);
            // The API saw the runs the database recorded: none ran without its row, none twice (a run the
            // shutdown caught may have pinged without ending).
            const ran = await db.query<{ connection_id: string; ok: string; started: string }>(
                `SELECT c.connection_id, count(*) FILTER (WHERE r.status = 'SUCCESS') AS ok, count(r.started_at) AS started
                 FROM runs r JOIN syncs s ON s.id = r.sync_id JOIN connections c ON c.id = s.connection_id WHERE r.kind = 'sync' GROUP BY c.connection_id`
            );
            assert.equal(ran.length, SCHEDULES);
            for (const r of ran) {
                const n = pings.get(r.connection_id) ?? 0;
                assert.ok(n >= Number(r.ok) && n <= Number(r.started), `pings of ${r.connection_id}: ${n}, runs ${r.ok} to ${r.started}`);
            }
        } finally {
            await db.close();
        }
    });
});
