// Scripts of one environment never see another environment's data (issue #10 item 2), end to end with two
// environments on one database, on PGlite and on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openDatabase } from '../src/storage/open.ts';
import { removeDir, startServer, type TestServer, storageEnv } from './support/server.ts';
import { adminApi, api, type Json } from './support/webhooks.ts';
import { deployBody, type FixtureScript } from './support/functions.ts';

const KEY = 'llm';
const CONN = 'tenant';
const scripts: FixtureScript[] = [
    { type: 'action', name: 'plant', file: 'plant.cjs', providerConfigKey: KEY },
    { type: 'action', name: 'observe', file: 'observe.cjs', providerConfigKey: KEY }
];
const CLEAN = {
    mapProto: null,
    mapSet: null,
    registry: false,
    zodConfig: 'undefined',
    zodClass: null,
    bufferProto: null,
    bufferFrom: null,
    urlProto: null,
    fnProto: null,
    objProto: null,
    errorProto: null,
    actionError: null,
    hashProto: null
};

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`environment isolation of script runs (${backend})`, () => {
        let server: TestServer;
        let drop: (() => Promise<void>) | undefined;
        let keyB: string;
        let envA: number;
        let envB: number;

        const as = (key: string) => ({ authorization: `Bearer ${key}` });
        const trigger = async (key: string, action: string) => {
            const res = await api(
                server,
                'POST',
                '/action/trigger',
                { action_name: action, input: {} },
                { ...as(key), 'connection-id': CONN, 'provider-config-key': KEY }
            );
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return res.body as Json;
        };
        /** Runner pids per environment, from the pool's debug log line of each run. */
        const runnerPids = () => {
            const pids = new Map<number, Set<number>>();
            for (const line of server.output().split('\n')) {
                if (!line.includes('"script run started"')) continue;
                const entry = JSON.parse(line) as { environmentId: number; runnerPid: number };
                if (!pids.has(entry.environmentId)) pids.set(entry.environmentId, new Set());
                pids.get(entry.environmentId)!.add(entry.runnerPid);
            }
            return pids;
        };

        before(async () => {
            const env: Record<string, string> = { SWITCHBOARD_LOG_LEVEL: 'debug' };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            // The second environment is made as an operator makes it: POST /admin/environments with the admin key.
            server = await startServer(env);
            const created = await adminApi(server, 'POST', '/admin/environments', { name: 'prod' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            keyB = created.body.data.secret_key;
            const ids = async (q: (sql: string) => Promise<Array<{ id: number; name: string }>>) => {
                const rows = await q("SELECT id, name FROM environments WHERE name IN ('dev', 'prod')");
                envA = rows.find((r) => r.name === 'dev')!.id;
                envB = rows.find((r) => r.name === 'prod')!.id;
            };
            if (backend === 'postgres') {
                const client = new pg.Client({ connectionString: env['SWITCHBOARD_DATABASE_URL'] });
                await client.connect();
                await ids(async (sql) => (await client.query<{ id: number; name: string }>(sql)).rows);
                await client.end();
            } else {
                // The server holds the data folder while it runs: stop it, read the ids, start it again.
                await server.stop();
                const db = await openDatabase({ databaseUrl: undefined, dataDir: server.dataDir });
                await ids((sql) => db.query<{ id: number; name: string }>(sql));
                await db.close();
                server = await startServer({ ...env, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
            }
            for (const [key, apiKey] of [
                [server.secretKey, 'sk-of-A'],
                [keyB, 'sk-of-B']
            ] as const) {
                assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'openai' }, as(key))).status, 200);
                assert.equal(
                    (
                        await api(
                            server,
                            'POST',
                            '/connections',
                            { provider_config_key: KEY, connection_id: CONN, credentials: { type: 'API_KEY', apiKey } },
                            as(key)
                        )
                    ).status,
                    201
                );
                const deployed = await api(server, 'POST', '/sync/deploy', deployBody(scripts), as(key));
                assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            }
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it("a script of environment A plants on the runner's realm; environment B's run sees nothing, in another process", async () => {
            const planted = await trigger(server.secretKey, 'plant');
            assert.deepEqual(planted, { ...CLEAN, registry: true, zodConfig: 'function', zodClass: 'A' }, 'only the run’s own zod copy took the plants');
            assert.deepEqual(await trigger(keyB, 'observe'), CLEAN);
            // A later run of A itself sees none of it either, but for zod's classes (shared within A's process only).
            assert.deepEqual(await trigger(server.secretKey, 'observe'), { ...CLEAN, zodClass: 'A' });

            const pids = runnerPids();
            const [a, b] = [pids.get(envA), pids.get(envB)];
            assert.ok(a?.size && b?.size, JSON.stringify([...pids]));
            assert.deepEqual(
                [...a].filter((pid) => b.has(pid)),
                [],
                'no runner process served both environments'
            );
        });
    });
}
