// Issue #10 item 9: an asynchronous action whose server is killed with SIGKILL mid-run answered "still running"
// from GET /action/:id forever, past its timeout, and its app never got the async_action webhook. Every run is
// now in one table with one heartbeat and one reaper: after a restart on the same data the run ends as ERROR
// `worker_lost` and the webhook goes out. On the embedded database (reaped at start) and on PostgreSQL (reaped
// once its heartbeat is older than SWITCHBOARD_SYNC_LOST_AFTER_MS).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { api, waitFor, startReceiver, received, type Json, type Receiver } from './support/webhooks.ts';
import { deploy, onEventGroups } from './support/functions.ts';

const KEY = 'probe';

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`runs on ${backend}: an async action, a sync and an on-event script killed with their server end in a terminal state`, () => {
        let server: TestServer | undefined;
        let receiver: Receiver;
        let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
        let env: Record<string, string>;

        before(async () => {
            receiver = await startReceiver();
            database = backend === 'postgres' ? await createTestDatabase() : undefined;
            env = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `probe-api:\n  display_name: Probe\n  auth_mode: API_KEY\n  proxy:\n    base_url: https://probe.invalid\n`
                ),
                SWITCHBOARD_ACTION_TIMEOUT_MS: '900000',
                SWITCHBOARD_ON_EVENT_TIMEOUT_MS: '900000',
                // The scripts run side by side until the kill: the action, the on-event script, and the sync on each of
                // the two connections (c2's schedule may start before its deletion does).
                SWITCHBOARD_RUNNER_PROCESSES: '4',
                SWITCHBOARD_WEBHOOK_URL: receiver.url,
                SWITCHBOARD_SCHEDULER_TICK_MS: '200',
                SWITCHBOARD_SYNC_LOST_AFTER_MS: '2000',
                SWITCHBOARD_SECRET_KEY: randomUUID(),
                ...(database ? { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() } : {})
            };
            server = await startServer(env);
        });
        after(async () => {
            await server?.stop();
            await receiver?.close();
            await database?.drop();
            if (server) removeDir(server.dataDir);
        });

        it('each ends ERROR worker_lost after a restart, and the app gets the webhook or audit row of a failed run', async () => {
            let s = server!;
            assert.equal((await api(s, 'POST', '/integrations', { unique_key: KEY, provider: 'probe-api' })).status, 200);
            assert.equal(
                (await api(s, 'POST', '/connections', { provider_config_key: KEY, connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k' } })).status,
                201
            );
            const scripts = [
                { type: 'action' as const, name: 'slow', file: 'slow-action.cjs', providerConfigKey: KEY },
                { type: 'sync' as const, name: 'slow-sync', file: 'slow-sync.cjs', providerConfigKey: KEY, models: ['Item'], autoStart: true }
            ];
            const onEvent = onEventGroups([{ name: 'slow-goodbye', file: 'slow-on-delete.cjs', providerConfigKey: KEY, event: 'pre-connection-deletion' }]);
            assert.equal((await deploy(s, scripts, { onEventScriptsByProvider: onEvent })).status, 200);
            assert.equal(
                (await api(s, 'POST', '/connections', { provider_config_key: KEY, connection_id: 'c2', credentials: { type: 'API_KEY', apiKey: 'k' } })).status,
                201
            );
            // The DELETE waits for its pre-connection-deletion script, which never ends: the server dies under it.
            const deletion = api(s, 'DELETE', `/connections/c2?provider_config_key=${KEY}`).catch(() => undefined);
            const trigger = await api(
                s,
                'POST',
                '/action/trigger',
                { action_name: 'slow', input: {} },
                { 'connection-id': 'c1', 'provider-config-key': KEY, 'x-async': 'true' }
            );
            assert.equal(trigger.status, 202, JSON.stringify(trigger.body));
            const id = trigger.body.id as string;
            await waitFor('the action, the sync and the on-event script to start', () =>
                ['slow-action-started', 'slow-sync-started', 'slow-on-delete-started'].every((m) => s.output().includes(m))
            );
            const running = await api(s, 'GET', `/action/${id}`);
            assert.equal(running.status, 404);
            assert.equal(running.body.error.message, 'The action is still running');

            await s.stop('SIGKILL');
            await deletion;
            server = s = await startServer({ ...env, SWITCHBOARD_DATA_DIR: s.dataDir });

            const ended = await waitFor('the lost action to end', async () => {
                const r = await api(s, 'GET', `/action/${id}`);
                return r.status !== 404 ? r : undefined;
            });
            assert.equal(ended.status, 500, JSON.stringify(ended.body));
            const error: Json = ended.body.error;
            assert.equal(error.code, 'action_script_failure');
            assert.equal(error.payload.type, 'worker_lost');
            assert.match(error.payload.message, /stopped or crashed/);

            const [hook] = await waitFor('the async_action webhook', () => {
                const got = received(receiver, (b) => b.type === 'async_action');
                return got.length ? got : undefined;
            });
            assert.deepEqual(JSON.parse(hook!.body), {
                from: 'nango',
                type: 'async_action',
                connectionId: 'c1',
                providerConfigKey: KEY,
                payload: { id, statusUrl: `/action/${id}` }
            });
            assert.equal(received(receiver, (b) => b.type === 'async_action').length, 1, 'one webhook, with the final outcome');

            // The sync run lost with it: its app gets the failure webhook a failed run sends, and its status says ERROR.
            const [syncHook] = await waitFor('the sync failure webhook', () => {
                const got = received(receiver, (b) => b.type === 'sync');
                return got.length ? got : undefined;
            });
            const body = JSON.parse(syncHook!.body);
            assert.deepEqual([body.syncName, body.success, body.error.type], ['slow-sync', false, 'worker_lost']);
            const status = await api(s, 'GET', `/sync/status?syncs=slow-sync&connection_id=c1&provider_config_key=${KEY}`);
            assert.equal(status.body.syncs[0].latestExecutionStatus, 'ERROR', JSON.stringify(status.body));

            // The on-event run lost with them is in the connection's audit trail as a failure; the deletion never happened.
            const audit = await waitFor('the lost on-event run in the audit trail', async () => {
                const rows = (await api(s, 'GET', '/admin/audit?connection_id=c2&limit=100')).body.data as Json[];
                return rows.find((r) => r.kind === 'on-event');
            });
            assert.deepEqual([audit.outcome, audit.detail.script, audit.detail.error.type], ['failure', 'slow-goodbye', 'worker_lost']);
            assert.equal((await api(s, 'GET', `/connections/c2?provider_config_key=${KEY}`)).status, 200);
        });
    });
}
