// Delete detection end to end on both storage backends, PGlite (the default) first (issue #10 item 7): a sync
// declared with `track_deletes: true`, and one on deleteRecordsFromPreviousExecutions. On PGlite the first one
// used to freeze the server for good: the end-of-run delete opened a second transaction inside the one that
// records the outcome, on PGlite's single connection, so it waited on itself and every later query queued behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { removeDir, startServer, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { api, waitFor, type Json } from './support/webhooks.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deployBody, type FixtureScript } from './support/functions.ts';

const KEY = 'crm';
const CONN = 'tenant-1';
const scripts: FixtureScript[] = [
    { type: 'sync', name: 'leads', file: 'leads-sync.cjs', providerConfigKey: KEY, models: ['Lead'] },
    { type: 'sync', name: 'contacts', file: 'leads-previous-sync.cjs', providerConfigKey: KEY, models: ['Contact'] }
];

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`delete detection (${backend})`, () => {
        let server: TestServer;
        let items: ItemsApi;
        let drop: (() => Promise<void>) | undefined;
        const apiKey = `key-${randomBytes(8).toString('hex')}`;

        /** Waits until `sync` has finished a run after `after` (an ISO date), and returns its status row. */
        const finishedRun = (sync: string, since: string) =>
            waitFor(
                `${sync} run`,
                async () => {
                    const res = await api(server, 'GET', `/sync/status?syncs=${sync}&provider_config_key=${KEY}&connection_id=${CONN}`);
                    const s = res.body.syncs?.[0] as Json | undefined;
                    return s?.latestExecutionStatus && s.latestExecutionStatus !== 'RUNNING' && s.finishedAt > since ? s : undefined;
                },
                60_000
            );
        const ids = async (model: string) => {
            const res = await api(server, 'GET', `/records?model=${model}&limit=100`, undefined, { 'provider-config-key': KEY, 'connection-id': CONN });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return (res.body.records as Json[])
                .filter((r: Json) => r._nango_metadata.deleted_at === null)
                .map((r: Json) => r.id as string)
                .sort();
        };

        before(async () => {
            items = await startItemsApi(apiKey);
            items.setCount(3);
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `crm-api:\n  display_name: CRM\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
                ),
                SWITCHBOARD_SCHEDULER_TICK_MS: '200'
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'crm-api' })).status, 200);
            assert.equal(
                (await api(server, 'POST', '/connections', { provider_config_key: KEY, connection_id: CONN, credentials: { type: 'API_KEY', apiKey } })).status,
                201
            );
        });
        after(async () => {
            await server?.stop();
            await items?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('a track_deletes sync runs twice, deletes what vanished, and the server keeps answering', async () => {
            const body = deployBody(scripts) as { flowConfigs: Array<Record<string, unknown>> };
            body.flowConfigs[0]!['track_deletes'] = true;
            const started = new Date(0).toISOString();
            const deployed = await api(server, 'POST', '/sync/deploy', body);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            const first = await finishedRun('leads', started);
            assert.equal(first.latestExecutionStatus, 'SUCCESS', JSON.stringify(first));
            // The freeze showed here: /health and every other request hung after the run.
            assert.equal((await fetch(`${server.url}/health`)).status, 200);
            assert.deepEqual(await ids('Lead'), ['item-0', 'item-1', 'item-2']);

            items.remove(1);
            assert.equal((await api(server, 'POST', '/sync/trigger', { provider_config_key: KEY, connection_id: CONN, syncs: ['leads'] })).status, 200);
            const second = await finishedRun('leads', first.finishedAt as string);
            assert.equal(second.latestExecutionStatus, 'SUCCESS', JSON.stringify(second));
            assert.deepEqual(await ids('Lead'), ['item-0', 'item-2']);
            assert.equal((await fetch(`${server.url}/health`)).status, 200);
            assert.equal((await api(server, 'GET', '/integrations')).status, 200);
        });

        it('deleteRecordsFromPreviousExecutions deletes what the run did not see', async () => {
            const trigger = async (since: string) => {
                assert.equal((await api(server, 'POST', '/sync/trigger', { provider_config_key: KEY, connection_id: CONN, syncs: ['contacts'] })).status, 200);
                const run = await finishedRun('contacts', since);
                assert.equal(run.latestExecutionStatus, 'SUCCESS', JSON.stringify(run));
                return run.finishedAt as string;
            };
            const first = await finishedRun('contacts', new Date(0).toISOString());
            const second = await trigger(first.finishedAt as string);
            assert.deepEqual(await ids('Contact'), ['item-0', 'item-2']);
            items.remove(2);
            await trigger(second);
            assert.deepEqual(await ids('Contact'), ['item-0']);
            assert.equal((await fetch(`${server.url}/health`)).status, 200);
        });
    });
}
