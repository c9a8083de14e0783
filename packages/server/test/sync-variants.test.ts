// Sync variants end to end on both storage backends, with the official @nangohq/node SDK as the client:
// createSyncVariant / deleteSyncVariant, a variant's run (nango.variant picks its upstream data; records under
// `Model::variant`, checkpoint `sync:<name>:<variant>`, webhooks with syncVariant), status, triggers and records
// per variant, a delete while the variant's run is in flight, and every refusal with Nango's codes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, type Receiver, type Json } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy } from './support/functions.ts';

const KEY = 'regional';
const CONN = 'tenant-7';
const SYNC = 'regions';
const BASE_ITEMS = 25;
const EU_ITEMS = 30;

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`sync variants (${backend})`, () => {
        let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
        let server: TestServer;
        let items: ItemsApi;
        let receiver: Receiver;
        let nango: Nango;
        let verifier: Nango;
        const apiKey = `key-${randomBytes(8).toString('hex')}`;
        const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
        const ref = (variant: string) => ({ provider_config_key: KEY, connection_id: CONN, name: SYNC, variant });

        const statusOf = async (variant: string): Promise<Json> => (await nango.syncStatus(KEY, [{ name: SYNC, variant }], CONN)).syncs[0];
        /** The variant's status once a run that finished after `previous` (a finishedAt) is done. */
        const nextRun = (variant: string, previous: string | null = null) =>
            waitFor(
                `a run of ${variant}`,
                async () => {
                    const s = await statusOf(variant);
                    return s && s.finishedAt !== previous && s.latestExecutionStatus !== 'RUNNING' ? s : undefined;
                },
                60_000
            );
        const records = async (variant?: string) =>
            (await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', limit: 1000, ...(variant ? { variant } : {}) }))
                .records as Json[];
        const syncWebhooks = () => receiver.requests.filter((r) => r.body.includes('"type":"sync"'));

        before(async () => {
            items = await startItemsApi(apiKey);
            items.setCount(BASE_ITEMS);
            items.setCount(EU_ITEMS, 'eu');
            receiver = await startReceiver();
            database = backend === 'postgres' ? await createTestDatabase() : undefined;
            server = await startServer({
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `regional-api:\n  display_name: Regional\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
                ),
                SWITCHBOARD_WEBHOOK_URL: receiver.url,
                SWITCHBOARD_WEBHOOK_SECRET: webhookSecret,
                SWITCHBOARD_SCHEDULER_TICK_MS: '200',
                ...(database
                    ? { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(), SWITCHBOARD_SECRET_KEY: randomUUID() }
                    : {})
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            verifier = new Nango({ host: server.url, secretKey: server.secretKey, webhookSigningKey: webhookSecret });
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'regional-api' })).status, 200);
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: KEY,
                connection_id: CONN,
                credentials: { type: 'API_KEY', apiKey }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const deployed = await deploy(server, [
                { type: 'sync', name: SYNC, file: 'regions-sync.cjs', providerConfigKey: KEY, models: ['Item'], runs: 'every hour', autoStart: true }
            ]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            const base = await nextRun('base');
            assert.equal(base.latestExecutionStatus, 'SUCCESS', JSON.stringify(base));
        });

        after(async () => {
            await server?.stop();
            await items?.close();
            await receiver?.close();
            await database?.drop();
            if (server) removeDir(server.dataDir);
        });

        it('creates a variant whose run reads its own upstream data into records, checkpoint and webhooks of its own', async () => {
            const created = await nango.createSyncVariant(ref('eu'));
            assert.equal(created.name, SYNC);
            assert.equal(created.variant, 'eu');
            assert.match(created.id, /^[0-9a-f-]{36}$/);

            // The sync auto-starts, so its new variant runs at once, as a new connection's base schedule does.
            const eu = await nextRun('eu');
            assert.equal(eu.latestExecutionStatus, 'SUCCESS', JSON.stringify(eu));
            assert.equal(eu.id, created.id);
            assert.equal(eu.variant, 'eu');
            assert.deepEqual(eu.latestResult, { Item: { added: EU_ITEMS, updated: 0, deleted: 0 } });
            assert.deepEqual(eu.recordCount, { Item: EU_ITEMS });
            assert.deepEqual(eu.checkpoint, { variant: 'eu', runs: 1 });
            assert.ok(
                items.requests.some((r) => r.url.includes('region=eu')),
                'the variant asked the API for its region'
            );

            const euRecords = await records('eu');
            assert.equal(euRecords.length, EU_ITEMS);
            assert.ok(
                euRecords.every((r) => String(r.id).startsWith('eu-item-') && r.variant === 'eu'),
                JSON.stringify(euRecords[0])
            );
            for (const baseRecords of [await records(), await records('base')]) {
                assert.equal(baseRecords.length, BASE_ITEMS);
                assert.ok(baseRecords.every((r) => String(r.id).startsWith('item-') && r.variant === 'base'));
            }
            const base = await statusOf('base');
            assert.deepEqual(base.recordCount, { Item: BASE_ITEMS });
            assert.deepEqual(base.checkpoint, { variant: 'base', runs: 1 });

            const hook = await waitFor('the variant sync webhook', () => syncWebhooks().find((r) => r.body.includes('"syncVariant":"eu"')));
            assert.equal(verifier.verifyIncomingWebhookRequest(hook.body, hook.headers), true);
            const body = JSON.parse(hook.body) as Json;
            assert.equal(body.syncName, SYNC);
            assert.equal(body.model, 'Item');
            assert.deepEqual(body.responseResults, { added: EU_ITEMS, updated: 0, deleted: 0 });
            const baseHook = syncWebhooks()
                .map((r) => JSON.parse(r.body) as Json)
                .find((b) => b.syncVariant === 'base');
            assert.deepEqual(baseHook?.responseResults, { added: BASE_ITEMS, updated: 0, deleted: 0 });
        });

        it('lists both in status; triggers, pauses and re-times the variant alone', async () => {
            const all = (await nango.syncStatus(KEY, '*', CONN)).syncs as Json[];
            assert.deepEqual(
                all.map((s) => `${s.name}::${s.variant}`),
                [`${SYNC}::base`, `${SYNC}::eu`]
            );
            const byName = await api(server, 'GET', `/sync/status?syncs=${SYNC}::eu&provider_config_key=${KEY}&connection_id=${CONN}`);
            assert.deepEqual(
                byName.body.syncs.map((s: Json) => s.variant),
                ['eu']
            );

            items.change(1);
            const baseBefore = await statusOf('base');
            const euBefore = await statusOf('eu');
            await nango.triggerSync(KEY, [{ name: SYNC, variant: 'eu' }], CONN);
            const eu = await nextRun('eu', euBefore.finishedAt);
            assert.deepEqual(eu.latestResult, { Item: { added: 0, updated: 1, deleted: 0 } });
            assert.deepEqual(eu.checkpoint, { variant: 'eu', runs: 2 }, 'the second run resumed from the variant checkpoint');
            assert.equal((await statusOf('base')).finishedAt, baseBefore.finishedAt, 'the base did not run');
            assert.equal((await records('eu')).find((r) => r.id === 'eu-item-1')?.version, 2);
            assert.equal((await records()).find((r) => r.id === 'item-1')?.version, 1);

            await nango.pauseSync(KEY, [{ name: SYNC, variant: 'eu' }], CONN);
            assert.equal((await statusOf('eu')).status, 'PAUSED');
            assert.equal((await statusOf('base')).status, 'SUCCESS');
            await nango.startSync(KEY, [{ name: SYNC, variant: 'eu' }], CONN);
            assert.equal((await statusOf('eu')).status, 'SUCCESS');
            assert.deepEqual(await nango.updateSyncConnectionFrequency(KEY, { name: SYNC, variant: 'eu' }, CONN, 'every 2 hours'), {
                frequency: 'every 2 hours'
            });
            assert.equal((await statusOf('eu')).frequency, 'every 2 hours');
            assert.equal((await statusOf('base')).frequency, 'every hour');
        });

        // Regression: a full resync of the base deleted every checkpoint under `sync:regions:`, the variants' too.
        it('a full resync of the base forgets only the base checkpoint', async () => {
            // The frequency change above restarts the variant's grid, so it runs now: let that run end first.
            const eu = await waitFor('the variant to be idle', async () => {
                const s = await statusOf('eu');
                return s.status !== 'RUNNING' && s.latestExecutionStatus === 'SUCCESS' ? s : undefined;
            });
            const before = await statusOf('base');
            await nango.triggerSync(KEY, [SYNC], CONN, { reset: true });
            const base = await nextRun('base', before.finishedAt);
            assert.equal(base.latestExecutionStatus, 'SUCCESS');
            assert.deepEqual(base.checkpoint, { variant: 'base', runs: 1 }, 'the base started over');
            assert.deepEqual((await statusOf('eu')).checkpoint, eu.checkpoint);
            assert.equal(eu.checkpoint.variant, 'eu');
        });

        it("refuses bad variant requests with Nango's codes", async () => {
            for (const variant of ['base', 'BASE']) {
                const created = await sdkFailure(nango.createSyncVariant(ref(variant)));
                assert.equal(created.status, 400);
                assert.equal(created.data.error.code, 'invalid_variant');
                const deleted = await sdkFailure(nango.deleteSyncVariant(ref(variant)));
                assert.equal(deleted.status, 400);
                assert.equal(deleted.data.error.code, 'invalid_variant');
            }
            // Nango's name rule (letters, digits, "_" and "-", at most 255): anything else is a bad path parameter.
            for (const variant of ['eu:west', 'eu.west', 'é', 'e'.repeat(256)]) {
                const bad = await sdkFailure(nango.createSyncVariant(ref(variant)));
                assert.equal(bad.status, 400, variant);
                assert.equal(bad.data.error.code, 'invalid_uri_params', variant);
            }
            const spaced = await api(server, 'POST', `/sync/${SYNC}/variant/eu%20west`, { provider_config_key: KEY, connection_id: CONN });
            assert.equal(spaced.body.error.code, 'invalid_uri_params');
            const unknownSync = await sdkFailure(nango.createSyncVariant({ ...ref('eu'), name: 'nope' }));
            assert.equal(unknownSync.status, 400);
            assert.equal(unknownSync.data.error.code, 'unknown_sync');
            for (const wrong of [{ connection_id: 'nobody' }, { provider_config_key: 'nope' }]) {
                const created = await sdkFailure(nango.createSyncVariant({ ...ref('us'), ...wrong }));
                assert.equal(created.status, 400);
                assert.equal(created.data.error.code, 'unknown_connection');
                const deleted = await sdkFailure(nango.deleteSyncVariant({ ...ref('eu'), ...wrong }));
                assert.equal(deleted.status, 400);
                assert.equal(deleted.data.error.code, 'unknown_connection');
            }
            const again = await sdkFailure(nango.createSyncVariant(ref('eu')));
            assert.equal(again.status, 400);
            assert.equal(again.data.error.code, 'sync_variant_already_exists');
            const missing = await sdkFailure(nango.deleteSyncVariant(ref('us')));
            assert.equal(missing.status, 404);
            assert.equal(missing.data.error.code, 'not_found');
            assert.match(missing.data.error.message, /"us"/);

            const noConnection = await api(server, 'POST', `/sync/${SYNC}/variant/us`, { provider_config_key: KEY });
            assert.equal(noConnection.status, 400);
            assert.equal(noConnection.body.error.code, 'invalid_body');
            const extraField = await api(server, 'DELETE', `/sync/${SYNC}/variant/eu`, { provider_config_key: KEY, connection_id: CONN, force: true });
            assert.equal(extraField.body.error.code, 'invalid_body');
            const query = await api(server, 'POST', `/sync/${SYNC}/variant/us?x=1`, { provider_config_key: KEY, connection_id: CONN });
            assert.equal(query.body.error.code, 'invalid_query_params');
            const noAuth = await fetch(`${server.url}/sync/${SYNC}/variant/us`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{}'
            });
            assert.equal(noAuth.status, 401);
            // Nothing above created or removed anything.
            assert.deepEqual(
                ((await nango.syncStatus(KEY, '*', CONN)).syncs as Json[]).map((s) => s.variant),
                ['base', 'eu']
            );
            // The longest name Nango allows is a name like any other.
            const longest = `${'e'.repeat(250)}_-9Zz`;
            assert.equal((await nango.createSyncVariant(ref(longest))).variant, longest);
            assert.deepEqual(await nango.deleteSyncVariant(ref(longest)), { success: true });
        });

        it('deletes a variant with its run in flight: schedule, records and checkpoint go, nothing comes back, the base stays', async () => {
            const baseBefore = await statusOf('base');
            const pagesBefore = items.pages();
            items.slow(800);
            try {
                await nango.triggerSync(KEY, [{ name: SYNC, variant: 'eu' }], CONN);
                // The first page is saved and the second is on its way when the variant is deleted.
                await waitFor('the variant run to read its first page', () => items.pages() >= pagesBefore + 2, 30_000);
                assert.equal((await statusOf('eu')).status, 'RUNNING');
                assert.deepEqual(await nango.deleteSyncVariant(ref('eu')), { success: true });

                // The run in flight ends without writing again: wait until the API sees no new page for a while.
                let pages = items.pages();
                await waitFor(
                    'the stopped run to go quiet',
                    async () => {
                        await new Promise((r) => setTimeout(r, 1200));
                        const now = items.pages();
                        const quiet = now === pages;
                        pages = now;
                        return quiet;
                    },
                    30_000
                );
            } finally {
                items.slow(0);
            }
            assert.deepEqual(await records('eu'), []);
            assert.deepEqual((await nango.syncStatus(KEY, [{ name: SYNC, variant: 'eu' }], CONN)).syncs, []);
            assert.deepEqual(
                ((await nango.syncStatus(KEY, '*', CONN)).syncs as Json[]).map((s) => s.variant),
                ['base']
            );
            const base = await statusOf('base');
            assert.equal(base.id, baseBefore.id);
            assert.deepEqual(base.recordCount, { Item: BASE_ITEMS });
            assert.deepEqual(base.checkpoint, baseBefore.checkpoint);
            assert.equal((await records()).length, BASE_ITEMS);
            const gone = await sdkFailure(nango.deleteSyncVariant(ref('eu')));
            assert.equal(gone.status, 404);
        });

        it('a re-created variant starts from nothing', async () => {
            const created = await nango.createSyncVariant(ref('eu'));
            const eu = await nextRun('eu');
            assert.equal(eu.id, created.id);
            assert.equal(eu.latestExecutionStatus, 'SUCCESS', JSON.stringify(eu));
            assert.deepEqual(eu.latestResult, { Item: { added: EU_ITEMS, updated: 0, deleted: 0 } }, 'no record of the deleted variant was left');
            assert.deepEqual(eu.checkpoint, { variant: 'eu', runs: 1 }, 'no checkpoint of the deleted variant was left');
            assert.equal(eu.frequency, 'every hour', 'the frequency override went with the deleted schedule');
        });
    });
}
