// A server stopped gracefully (SIGTERM) while scheduled sync runs it had claimed still waited for a runner process:
// they used to end as ERROR `runtime_closed` (and wait a whole interval for their next slot). A run whose script
// never started goes back to its queue and runs at the next start (or on another instance); the run that was
// running ends as it must. Endings still being gathered are written before the database closes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer, storageEnv, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { api, waitFor, type Json } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';

const KEY = 'probe';

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`a graceful stop with sync runs waiting for a runner (${backend})`, () => {
        let server: TestServer | undefined;
        let env: Record<string, string>;
        let drop: () => Promise<void>;

        before(async () => {
            const storage = await storageEnv(backend);
            drop = storage.drop;
            env = {
                ...storage.env,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `probe-api:\n  display_name: Probe\n  auth_mode: API_KEY\n  proxy:\n    base_url: https://probe.invalid\n`
                ),
                SWITCHBOARD_RUNNER_PROCESSES: '1',
                SWITCHBOARD_SCHEDULER_TICK_MS: '200'
            };
            server = await startServer(env);
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        const status = async (s: TestServer, connectionId: string): Promise<Json> =>
            (await api(s, 'GET', `/sync/status?syncs=hang&connection_id=${connectionId}&provider_config_key=${KEY}`)).body.syncs[0];

        it('puts the runs that never started back in the queue; they run after the restart', async () => {
            let s = server!;
            assert.equal((await api(s, 'POST', '/integrations', { unique_key: KEY, provider: 'probe-api' })).status, 200);
            const connect = async (id: string) =>
                assert.equal(
                    (await api(s, 'POST', '/connections', { provider_config_key: KEY, connection_id: id, credentials: { type: 'API_KEY', apiKey: 'k' } }))
                        .status,
                    201
                );
            await connect('c1');
            const scripts = [{ type: 'sync' as const, name: 'hang', file: 'hang-on-c1-sync.cjs', providerConfigKey: KEY, models: ['Item'], autoStart: true }];
            assert.equal((await deploy(s, scripts)).status, 200);
            await waitFor('c1 to hold the only runner', () => s.output().includes('hang-started'));
            await connect('c2');
            await connect('c3');
            for (const id of ['c2', 'c3'])
                assert.equal((await api(s, 'POST', '/sync/trigger', { provider_config_key: KEY, connection_id: id, syncs: ['hang'] })).status, 200);
            if (env['SWITCHBOARD_DATABASE_URL']) {
                // Claimed by the worker (RUNNING in the table) and waiting for the runner: the case under test.
                const db = new pg.Client({ connectionString: env['SWITCHBOARD_DATABASE_URL'] });
                await db.connect();
                await waitFor('both runs claimed', async () => {
                    const { rows } = await db.query("SELECT count(*)::int AS n FROM runs WHERE kind = 'sync' AND status = 'RUNNING'");
                    return rows[0].n === 3;
                });
                await db.end();
            } else {
                await new Promise((r) => setTimeout(r, 1500));
            }
            assert.ok(!s.output().includes('quick-c2') && !s.output().includes('quick-c3'), 'still waiting');

            await s.stop('SIGTERM');
            assert.match(s.output(), /sync run put back in the queue/);
            if (env['SWITCHBOARD_DATABASE_URL']) {
                const db = new pg.Client({ connectionString: env['SWITCHBOARD_DATABASE_URL'] });
                await db.connect();
                const { rows } = await db.query("SELECT status, error->>'type' AS error FROM runs WHERE kind = 'sync' ORDER BY id");
                await db.end();
                assert.deepEqual(
                    rows.map((r) => [r.status, r.error]),
                    [
                        ['ERROR', 'runtime_closed'],
                        ['QUEUED', null],
                        ['QUEUED', null]
                    ],
                    'the running one ended, the two waiting ones are queued again, nothing is left RUNNING'
                );
            }

            server = s = await startServer({ ...env, SWITCHBOARD_DATA_DIR: s.dataDir });
            for (const id of ['c2', 'c3']) {
                const st = await waitFor(`${id}'s run after the restart`, async () => {
                    const x = await status(s, id);
                    return x?.latestExecutionStatus === 'SUCCESS' ? x : undefined;
                });
                assert.equal(st.latestExecutionStatus, 'SUCCESS');
            }
            // The script's own log line (written a moment after the run ends).
            await waitFor('the run of c2 to have logged', () => s.output().includes('quick-c2'));
        });
    });
}
