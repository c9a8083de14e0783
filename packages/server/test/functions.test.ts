// Functions end to end, with the official @nangohq/node SDK as the client: deploy (the body the official CLI
// sends), scheduled and triggered syncs into the records cache, every records filter, actions (sync and async),
// signed sync webhooks, and scripts that must be killed while the server keeps serving.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, type Receiver, type Json } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy, deployBody, type FixtureScript } from './support/functions.ts';

const KEY = 'items';
const CONN = 'tenant-1:items';
const scripts: FixtureScript[] = [
    { type: 'sync', name: 'items', file: 'items-sync.cjs', providerConfigKey: KEY, models: ['Item'], runs: 'every hour', autoStart: true },
    {
        type: 'action',
        name: 'create-item',
        file: 'create-item.cjs',
        providerConfigKey: KEY,
        models: ['ActionOutput_items_createitem'],
        input: 'ActionInput_items_createitem'
    },
    { type: 'action', name: 'get-item', file: 'get-item.cjs', providerConfigKey: KEY },
    { type: 'action', name: 'spin', file: 'spin.cjs', providerConfigKey: KEY },
    { type: 'action', name: 'hog', file: 'hog.cjs', providerConfigKey: KEY }
];

describe('functions: deploy, syncs, records, actions', () => {
    let server: TestServer;
    let items: ItemsApi;
    let receiver: Receiver;
    let nango: Nango;
    let verifier: Nango;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;

    const syncWebhooks = () => receiver.requests.map((r) => JSON.parse(r.body) as Json).filter((b: Json) => b.type === 'sync');
    const status = async () => (await nango.syncStatus(KEY, ['items'], CONN)).syncs[0] as Json;
    const firstRun = async () =>
        waitFor(
            'first sync run',
            async () => {
                const rows = await api(server, 'GET', `/sync/status?syncs=items&provider_config_key=${KEY}&connection_id=${encodeURIComponent(CONN)}`);
                const s = rows.body.syncs?.[0];
                return s?.latestExecutionStatus && s.latestExecutionStatus !== 'RUNNING' ? s : undefined;
            },
            60_000
        );

    before(async () => {
        items = await startItemsApi(apiKey);
        receiver = await startReceiver();
        const providers = writeProvidersFile(
            `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
        );
        server = await startServer({
            SWITCHBOARD_PROVIDERS: providers,
            SWITCHBOARD_WEBHOOK_URL: receiver.url,
            SWITCHBOARD_WEBHOOK_SECRET: webhookSecret,
            SWITCHBOARD_ACTION_TIMEOUT_MS: '3000',
            SWITCHBOARD_RUNNER_MEMORY_MB: '256',
            SWITCHBOARD_SCHEDULER_TICK_MS: '200'
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        verifier = new Nango({ host: server.url, secretKey: server.secretKey, webhookSigningKey: webhookSecret });
        assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'items-api' })).status, 200);
        const created = await api(server, 'POST', '/connections', { provider_config_key: KEY, connection_id: CONN, credentials: { type: 'API_KEY', apiKey } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        items.setCount(2500);
    });

    after(async () => {
        await server?.stop();
        await items?.close();
        await receiver?.close();
        if (server) removeDir(server.dataDir);
    });

    it('confirms a deploy with the arrays the official CLI reads, then deploys', async () => {
        const confirm = await api(server, 'POST', '/sync/deploy/confirmation', deployBody(scripts));
        assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
        for (const k of [
            'newSyncs',
            'updatedSyncs',
            'deletedSyncs',
            'newActions',
            'updatedActions',
            'deletedActions',
            'newOnEventScripts',
            'updatedOnEventScripts',
            'deletedOnEventScripts',
            'deletedModels'
        ]) {
            assert.ok(Array.isArray(confirm.body[k]), k);
        }
        assert.deepEqual(
            confirm.body.newSyncs.map((x: Json) => x.name),
            ['items']
        );
        assert.equal(confirm.body.newActions.length, 4);

        const deployed = await deploy(server, scripts);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        assert.equal(deployed.body.length, 5);
        const config = (await nango.getScriptsConfig()) as Json[];
        assert.equal(config[0].providerConfigKey, KEY);
        assert.deepEqual(
            config[0].syncs.map((x: Json) => x.name),
            ['items']
        );
        assert.equal(config[0].actions.length, 4);
    });

    it('refuses bad deploys and changes nothing', async () => {
        const badFreq = await api(server, 'POST', '/sync/deploy', deployBody([{ ...scripts[0]!, runs: 'every 10 seconds' }]));
        assert.equal(badFreq.status, 400);
        assert.equal(badFreq.body.error.code, 'invalid_body');
        assert.match(badFreq.body.error.message, /30 second/);
        const unknownIntegration = await api(server, 'POST', '/sync/deploy', deployBody([{ ...scripts[0]!, providerConfigKey: 'nope' }]));
        assert.equal(unknownIntegration.status, 400);
        assert.equal(unknownIntegration.body.error.code, 'unknown_provider_config');
        const missingModel = deployBody([scripts[0]!]);
        (missingModel['flowConfigs'] as Json[])[0].models_json_schema = { definitions: {} };
        const noSchema = await api(server, 'POST', '/sync/deploy', missingModel);
        assert.equal(noSchema.status, 400);
        assert.match(noSchema.body.error.message, /Item/);
        const noAuth = await fetch(`${server.url}/sync/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(noAuth.status, 401);
        assert.equal(((await nango.getScriptsConfig()) as Json[])[0].actions.length, 4);
    });

    it('auto-starts the sync on the connection, fills the records cache and sends one verified webhook per model', async () => {
        const s = await firstRun();
        assert.equal(s.latestExecutionStatus, 'SUCCESS', JSON.stringify(s));
        assert.deepEqual(s.latestResult, { Item: { added: 2500, updated: 0, deleted: 0 } });
        assert.deepEqual(s.recordCount, { Item: 2500 });
        assert.equal(s.status, 'SUCCESS');
        assert.equal(s.frequency, 'every hour');
        assert.ok(new Date(s.nextScheduledSyncAt).getTime() > Date.now() + 50 * 60_000);

        const hook = await waitFor('sync webhook', () => receiver.requests.find((r) => r.body.includes('"type":"sync"')));
        assert.equal(verifier.verifyIncomingWebhookRequest(hook.body, hook.headers), true);
        const body = JSON.parse(hook.body) as Json;
        assert.equal(body.connectionId, CONN);
        assert.equal(body.syncName, 'items');
        assert.equal(body.model, 'Item');
        assert.equal(body.syncType, 'INITIAL');
        assert.deepEqual(body.responseResults, { added: 2500, updated: 0, deleted: 0 });
        assert.ok(body.modifiedAfter);

        // Paged reads through the SDK: every record once, in order, with its metadata.
        const seen = new Set<string>();
        let cursor: string | null | undefined;
        let pages = 0;
        do {
            const page = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', limit: 1000, ...(cursor ? { cursor } : {}) });
            for (const r of page.records) seen.add(r.id as string);
            cursor = page.next_cursor;
            pages++;
        } while (cursor);
        assert.equal(pages, 3);
        assert.equal(seen.size, 2500);
        const one = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', ids: ['item-42'] });
        assert.equal(one.records.length, 1);
        assert.equal(one.records[0]!._nango_metadata.last_action, 'ADDED');
    });

    it('a triggered run classifies changes exactly; filters and modified_after read just them', async () => {
        items.change(5);
        items.cancel(6);
        items.remove(7);
        const before = syncWebhooks().length;
        await nango.triggerSync(KEY, ['items'], CONN);
        const s = await waitFor(
            'second run',
            async () => {
                const x = await status();
                return x.latestExecutionStatus === 'SUCCESS' && x.latestResult.Item.updated === 1 ? x : undefined;
            },
            60_000
        );
        assert.deepEqual(s.latestResult, { Item: { added: 0, updated: 1, deleted: 2 } });
        assert.equal(s.type, 'INCREMENTAL');
        assert.deepEqual(s.recordCount, { Item: 2498 });
        const hook = await waitFor('second sync webhook', () => syncWebhooks().length > before && syncWebhooks().at(-1));
        assert.deepEqual(hook.responseResults, { added: 0, updated: 1, deleted: 2 });

        const changed = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', modifiedAfter: hook.modifiedAfter });
        assert.deepEqual(changed.records.map((r) => r.id).sort(), ['item-5', 'item-6', 'item-7']);
        const updated = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', filter: 'updated' });
        assert.deepEqual(
            updated.records.map((r) => r.id),
            ['item-5']
        );
        assert.equal(updated.records[0]!['version'], 2);
        const deleted = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', filter: 'deleted' });
        assert.deepEqual(deleted.records.map((r) => r.id).sort(), ['item-6', 'item-7']);
        assert.ok(deleted.records.every((r) => r._nango_metadata.deleted_at));
        const both = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item', filter: 'updated,deleted' as 'updated' });
        assert.equal(both.records.length, 3);
    });

    it('a re-run over unchanged data writes nothing, reports zero and sends no webhook', async () => {
        const before = syncWebhooks().length;
        const last = (await status()).finishedAt;
        await nango.triggerSync(KEY, ['items'], CONN);
        const s = await waitFor(
            'third run',
            async () => {
                const x = await status();
                return x.latestExecutionStatus === 'SUCCESS' && x.finishedAt !== last ? x : undefined;
            },
            60_000
        );
        assert.deepEqual(s.latestResult, { Item: { added: 0, updated: 0, deleted: 0 } });
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(syncWebhooks().length, before);
    });

    it('pauses, starts, changes frequency, and refuses unknown syncs and connections', async () => {
        await nango.pauseSync(KEY, ['items'], CONN);
        assert.equal((await status()).status, 'PAUSED');
        assert.equal((await status()).nextScheduledSyncAt, null);
        await nango.startSync(KEY, ['items'], CONN);
        assert.equal((await status()).status, 'SUCCESS');
        const freq = await nango.updateSyncConnectionFrequency(KEY, 'items', CONN, 'every 2 hours');
        assert.deepEqual(freq, { frequency: 'every 2 hours' });
        assert.equal((await status()).frequency, 'every 2 hours');
        const bad = await sdkFailure(nango.updateSyncConnectionFrequency(KEY, 'items', CONN, 'every 5 seconds'));
        assert.equal(bad.status, 400);
        const unknown = await sdkFailure(nango.triggerSync(KEY, ['nope'], CONN));
        assert.equal(unknown.status, 400);
        assert.equal(unknown.data.error.code, 'unknown_sync');
        const noConn = await sdkFailure(nango.syncStatus(KEY, '*', 'nobody'));
        assert.equal(noConn.status, 400);
        assert.equal(noConn.data.error.code, 'unknown_connection');
        const both = await api(server, 'POST', '/sync/trigger', {
            syncs: ['items'],
            provider_config_key: KEY,
            opts: { reset: true },
            sync_mode: 'full_refresh'
        });
        assert.equal(both.status, 400);
    });

    it('a full resync with empty cache starts over and re-adds every record', async () => {
        await nango.triggerSync(KEY, ['items'], CONN, { reset: true, emptyCache: true });
        const s = await waitFor(
            'reset run',
            async () => {
                const x = await status();
                return x.latestExecutionStatus === 'SUCCESS' && x.latestResult.Item.added > 0 ? x : undefined;
            },
            60_000
        );
        // item-7 is gone upstream and item-6 comes back cancelled: a delete of an id the emptied cache does not know is not counted.
        assert.deepEqual(s.latestResult, { Item: { added: 2498, updated: 0, deleted: 0 } });
        assert.deepEqual(s.recordCount, { Item: 2498 });
    });

    it('runs actions synchronously: output, ActionError, unhandled HTTP errors and unknown actions', async () => {
        const out = await nango.triggerAction(KEY, CONN, 'create-item', { title: 'hello' });
        assert.deepEqual(out, { id: 'new-1', title: 'hello' });
        const refused = await sdkFailure(nango.triggerAction(KEY, CONN, 'create-item', { title: 'forbidden' }));
        assert.equal(refused.status, 500);
        assert.equal(refused.data.error.code, 'action_script_failure');
        assert.deepEqual((refused.data.error.payload as Json).message, 'titles may not be "forbidden"');
        const invalid = await sdkFailure(nango.triggerAction(KEY, CONN, 'create-item', { title: '' }));
        assert.equal(invalid.data.error.code, 'action_script_failure');
        assert.deepEqual(invalid.data.error.payload, { message: 'Invalid input provided' });
        const http = await sdkFailure(nango.triggerAction(KEY, CONN, 'get-item', { id: 'missing' }));
        assert.equal(http.status, 424);
        assert.equal(http.data.error.code, 'script_http_error');
        assert.equal((http.data.error as Json).upstream.status, 404);
        const unknown = await sdkFailure(nango.triggerAction(KEY, CONN, 'nope', {}));
        assert.equal(unknown.status, 404);
        assert.equal(unknown.data.error.code, 'not_found');
        const noConn = await sdkFailure(nango.triggerAction(KEY, 'nobody', 'create-item', { title: 'x' }));
        assert.equal(noConn.status, 400);
        assert.equal(noConn.data.error.code, 'unknown_connection');
        const badBody = await api(server, 'POST', '/action/trigger', { input: {} }, { 'connection-id': CONN, 'provider-config-key': KEY });
        assert.equal(badBody.status, 400);
        assert.equal(badBody.body.error.code, 'invalid_body');
    });

    it('runs actions asynchronously with X-Async, GET /action/:id and an async_action webhook', async () => {
        const { id, statusUrl } = await nango.triggerActionAsync(KEY, CONN, 'create-item', { title: 'later' });
        assert.equal(statusUrl, `/action/${id}`);
        const out = await waitFor('async action result', async () => nango.getAsyncActionResult({ id }).catch(() => undefined));
        assert.deepEqual(out, { id: 'new-2', title: 'later' });
        const hook = await waitFor('async_action webhook', () => receiver.requests.find((r) => r.body.includes('"type":"async_action"')));
        assert.equal(verifier.verifyIncomingWebhookRequest(hook.body, hook.headers), true);
        assert.deepEqual(JSON.parse(hook.body).payload, { id, statusUrl });
        const unknown = await api(server, 'GET', `/action/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`);
        assert.equal(unknown.status, 404);
        const badId = await api(server, 'GET', '/action/not-a-uuid');
        assert.equal(badId.status, 400);
    });

    it('kills a script that loops forever or allocates without bound, while the proxy keeps answering', async () => {
        const spinning = sdkFailure(nango.triggerAction(KEY, CONN, 'spin', {}));
        // While the runaway script burns its CPU, the broker still serves proxy calls.
        let served = 0;
        const deadline = Date.now() + 1500;
        while (Date.now() < deadline) {
            const res = await nango.proxy({ method: 'GET', endpoint: '/items/item-1', providerConfigKey: KEY, connectionId: CONN });
            assert.equal(res.status, 200);
            served++;
        }
        assert.ok(served > 5, `only ${served} proxy calls answered`);
        const spun = await spinning;
        assert.equal(spun.status, 500);
        assert.equal((spun.data.error as Json).type, 'execution_timeout');

        const hog = await sdkFailure(nango.triggerAction(KEY, CONN, 'hog', {}));
        assert.equal(hog.status, 500);
        assert.match(String((hog.data.error as Json).type), /out_of_memory|execution_timeout|internal/);
        assert.deepEqual(await nango.triggerAction(KEY, CONN, 'create-item', { title: 'after' }), { id: 'new-3', title: 'after' });
    });
});
