// On-event scripts end to end (docs/functions.md "On-event scripts"): deployed as the CLIs send them, run after a
// connection is created (import and Connect flow, not on an override), before one is deleted, and before a Connect
// flow stores one (validate-connection), against a loopback provider API with the connection's credentials.
// Outcomes are read from the audit trail, not the logs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { api, waitFor, startReceiver, received, type Json, type Receiver } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy, deployBody, onEventGroups, type OnEventFixture } from './support/functions.ts';
import { ConfigError, loadConfig } from '../src/config/config.ts';

const KEY = 'items';
const OTHER = 'other';
const SLOW = 'slow';
const CHECKED = 'checked';
const TIMEOUT_MS = 8000;
const scripts: OnEventFixture[] = [
    { name: 'welcome', file: 'on-create.cjs', providerConfigKey: KEY, event: 'post-connection-creation' },
    { name: 'welcome-fails', file: 'on-create-fail.cjs', providerConfigKey: KEY, event: 'post-connection-creation' },
    { name: 'goodbye', file: 'on-delete.cjs', providerConfigKey: KEY, event: 'pre-connection-deletion' },
    { name: 'goodbye-fails', file: 'on-delete-fail.cjs', providerConfigKey: KEY, event: 'pre-connection-deletion' },
    { name: 'other-welcome', file: 'on-create.cjs', providerConfigKey: OTHER, event: 'post-connection-creation' },
    { name: 'other-goodbye', file: 'on-delete.cjs', providerConfigKey: OTHER, event: 'pre-connection-deletion' },
    { name: 'goodbye-hangs', file: 'on-delete-hang.cjs', providerConfigKey: SLOW, event: 'pre-connection-deletion' },
    { name: 'no-trials', file: 'validate.cjs', providerConfigKey: CHECKED, event: 'validate-connection' }
];

interface AuditRow {
    id: number;
    connection_id: string;
    kind: string;
    outcome: string;
    detail: Json;
}

describe('on-event scripts: post-connection-creation, pre-connection-deletion, validate-connection', () => {
    let server: TestServer;
    let items: ItemsApi;
    let nango: Nango;
    let receiver: Receiver;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;

    const audit = async (connectionId: string): Promise<AuditRow[]> => {
        const res = await api(server, 'GET', `/admin/audit?connection_id=${encodeURIComponent(connectionId)}&limit=1000`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return (res.body.data as AuditRow[]).reverse();
    };
    const runs = async (connectionId: string) => (await audit(connectionId)).filter((r) => r.kind === 'on-event');
    const runsOf = (connectionId: string, n: number) =>
        waitFor(`${n} on-event run(s) of ${connectionId}`, async () => {
            const r = await runs(connectionId);
            return r.length >= n ? r : undefined;
        });
    const byScript = (rows: AuditRow[]) => Object.fromEntries(rows.map((r) => [r.detail.script, r]));
    const importConnection = (providerConfigKey: string, connectionId: string) =>
        api(server, 'POST', '/connections', { provider_config_key: providerConfigKey, connection_id: connectionId, credentials: { type: 'API_KEY', apiKey } });
    // What @nangohq/frontend's auth(key, { credentials }) sends for an API key (docs/compatibility.md, "Browser flows").
    const connectApiKey = async (providerConfigKey: string, token: string, key: string) => {
        const res = await fetch(`${server.url}/api-auth/api-key/${providerConfigKey}?connect_session_token=${token}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ apiKey: key })
        });
        return { status: res.status, body: (await res.json()) as Json };
    };
    const session = async (providerConfigKey: string) =>
        (await nango.createConnectSession({ end_user: { id: 'eu-1' }, allowed_integrations: [providerConfigKey] })).data.token;
    const goodbyes = (connectionId: string) => items.created.filter((c) => c.title.startsWith(`goodbye ${connectionId} `));

    before(async () => {
        items = await startItemsApi(apiKey);
        items.setCount(3);
        const providers = writeProvidersFile(
            `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
        );
        receiver = await startReceiver();
        server = await startServer({
            SWITCHBOARD_PROVIDERS: providers,
            SWITCHBOARD_ON_EVENT_TIMEOUT_MS: String(TIMEOUT_MS),
            SWITCHBOARD_SCHEDULER_TICK_MS: '0',
            SWITCHBOARD_WEBHOOK_URL: receiver.url
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        for (const key of [KEY, OTHER, SLOW, CHECKED]) await nango.createIntegration({ provider: 'items-api', unique_key: key });
    });

    after(async () => {
        await server?.stop();
        await items?.close();
        await receiver?.close();
        if (server) removeDir(server.dataDir);
    });

    it('deploys on-event scripts as onEventScriptsByProvider, with their event in the plan', async () => {
        const body = deployBody([], { onEventScriptsByProvider: onEventGroups(scripts) });
        const confirm = await api(server, 'POST', '/sync/deploy/confirmation', body);
        assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
        assert.deepEqual(
            confirm.body.newOnEventScripts.filter((x: Json) => x.providerConfigKey === KEY).map((x: Json) => `${x.name}:${x.event}`),
            [
                'welcome:post-connection-creation',
                'welcome-fails:post-connection-creation',
                'goodbye:pre-connection-deletion',
                'goodbye-fails:pre-connection-deletion'
            ]
        );
        const deployed = await deploy(server, [], { onEventScriptsByProvider: onEventGroups(scripts) });
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        assert.equal(deployed.body.length, scripts.length);
    });

    it('POST /connections import: runs the post-connection-creation scripts, and a failing one does not break the creation', async () => {
        const created = await importConnection(KEY, 'imported');
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const rows = byScript(await runsOf('imported', 2));
        assert.deepEqual(Object.keys(rows).sort(), ['welcome', 'welcome-fails'], 'only this integration’s scripts ran');
        assert.equal(rows['welcome']!.outcome, 'success', JSON.stringify(rows['welcome']));
        assert.equal(rows['welcome']!.detail.event, 'post-connection-creation');
        assert.equal(rows['welcome-fails']!.outcome, 'failure');
        assert.equal(rows['welcome-fails']!.detail.error.type, 'script_internal_error');
        assert.match(rows['welcome-fails']!.detail.error.message, /welcome failed/);

        // The script called the provider through the proxy with the connection's key, then set the metadata.
        assert.deepEqual(await nango.getMetadata(KEY, 'imported'), { welcomed: { connectionId: 'imported', firstItem: 'item-0' } });
        const call = items.requests.find((r) => r.method === 'GET' && r.url === '/items?limit=1');
        assert.equal(call?.headers.authorization, `Bearer ${apiKey}`);
        const conn = await nango.getConnection(KEY, 'imported');
        assert.deepEqual(conn.credentials, { type: 'API_KEY', apiKey });
    });

    it('does not run them again when an import overrides an existing connection', async () => {
        await nango.setMetadata(KEY, 'imported', {});
        const overridden = await importConnection(KEY, 'imported');
        assert.equal(overridden.status, 201, JSON.stringify(overridden.body));
        // A connection created after the override has its scripts run; by then an override job would have run too.
        assert.equal((await importConnection(KEY, 'sentinel')).status, 201);
        await runsOf('sentinel', 2);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal((await runs('imported')).length, 2);
        assert.deepEqual(await nango.getMetadata(KEY, 'imported'), {});
    });

    it('Connect flow (API key through a connect session): runs them for the new connection', async () => {
        const res = await connectApiKey(KEY, await session(KEY), apiKey);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const connectionId: string = res.body.connectionId;
        const rows = byScript(await runsOf(connectionId, 2));
        assert.equal(rows['welcome']!.outcome, 'success', JSON.stringify(rows['welcome']));
        assert.equal(rows['welcome-fails']!.outcome, 'failure');
        assert.deepEqual(await nango.getMetadata(KEY, connectionId), { welcomed: { connectionId, firstItem: 'item-0' } });
    });

    it('runs only the scripts of the connection’s own integration', async () => {
        assert.equal((await importConnection(OTHER, 'other-conn')).status, 201);
        const rows = await runsOf('other-conn', 1);
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(
            (await runs('other-conn')).map((r) => r.detail.script),
            ['other-welcome']
        );
        assert.equal(rows[0]!.outcome, 'success');
        assert.deepEqual(await nango.getMetadata(OTHER, 'other-conn'), { welcomed: { connectionId: 'other-conn', firstItem: 'item-0' } });
    });

    it('DELETE runs the pre-connection-deletion scripts with the credentials first, then deletes even though one failed', async () => {
        const before = (await audit('imported')).length;
        await nango.setMetadata(KEY, 'imported', { welcomed: true });
        await nango.deleteConnection(KEY, 'imported');
        // Awaited by the DELETE: the provider heard from the script, with the connection's key, before the answer.
        const said = goodbyes('imported');
        assert.deepEqual(
            said.map((c) => c.title),
            ['goodbye imported (welcomed)'],
            'the other integration’s goodbye did not run'
        );
        const post = items.requests.find((r) => r.method === 'POST' && r.body.includes('goodbye imported'));
        assert.equal(post?.headers.authorization, `Bearer ${apiKey}`);
        assert.equal((await sdkFailure(nango.getConnection(KEY, 'imported'))).status, 404);

        const rows = (await audit('imported')).slice(before);
        assert.deepEqual(
            rows.map((r) => `${r.kind}:${r.detail?.script ?? ''}:${r.outcome}`),
            ['on-event:goodbye:success', 'on-event:goodbye-fails:failure', 'revocation::skipped'],
            'the scripts ran before the deletion, by name'
        );
        assert.equal(rows[1]!.detail.error.type, 'script_http_error');
        assert.equal(rows[1]!.detail.error.status, 404);
        assert.equal(rows[0]!.detail.event, 'pre-connection-deletion');
    });

    it('a pre-connection-deletion script that never ends holds the deletion up to SWITCHBOARD_ON_EVENT_TIMEOUT_MS only', async () => {
        assert.equal((await importConnection(SLOW, 'slow-conn')).status, 201);
        const started = Date.now();
        await nango.deleteConnection(SLOW, 'slow-conn');
        const took = Date.now() - started;
        assert.ok(took >= TIMEOUT_MS - 100 && took < TIMEOUT_MS + 10_000, `DELETE took ${took} ms`);
        assert.equal((await sdkFailure(nango.getConnection(SLOW, 'slow-conn'))).status, 404);
        const [run] = await runs('slow-conn');
        assert.equal(run?.outcome, 'failure');
        assert.equal(run?.detail.error.type, 'execution_timeout');
    });

    it('validate-connection: a Connect flow stores the connection once the script accepted it, with the metadata it set', async () => {
        const res = await connectApiKey(CHECKED, await session(CHECKED), apiKey);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const connectionId: string = res.body.connectionId;
        // Synchronous: stored with the script's metadata by the time the flow answers.
        assert.deepEqual(await nango.getMetadata(CHECKED, connectionId), { validated: { firstItem: 'item-0' } });
        const [run] = await runs(connectionId);
        assert.equal(run?.outcome, 'success', JSON.stringify(run));
        assert.equal(run?.detail.event, 'validate-connection');
    });

    it('validate-connection: a rejected connection is not stored, the flow fails with the script’s message and the app hears of it', async () => {
        const count = async () => (await nango.listConnections()).connections.filter((c) => c.provider_config_key === CHECKED).length;
        const before = await count();
        const res = await connectApiKey(CHECKED, await session(CHECKED), 'trial-123');
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'connection_validation_failed');
        assert.equal(res.body.error.message, 'Trial accounts cannot connect');
        assert.equal(await count(), before);
        const rejected = (await api(server, 'GET', '/admin/audit?limit=1000')).body.data.find(
            (r: AuditRow & { connection_uuid: string | null }) => r.detail?.script === 'no-trials' && r.outcome === 'failure'
        );
        assert.equal(rejected?.connection_uuid, null);
        assert.equal(rejected?.detail.error.type, 'action_script_runtime_error');
        const hook = await waitFor('the auth failure webhook', () => {
            const h = received(receiver, (b: Json) => b.type === 'auth' && b.success === false && b.providerConfigKey === CHECKED);
            return h.length ? h : undefined;
        });
        assert.equal(JSON.parse(hook[0]!.body).error.type, 'connection_validation_failed');
        assert.equal(received(receiver, (b: Json) => b.type === 'auth' && b.success === true && b.connectionId === rejected.connection_id).length, 0);
    });

    it('validate-connection: a rejected reconnect keeps the previous credentials; an import is not validated', async () => {
        const ok = await connectApiKey(CHECKED, await session(CHECKED), apiKey);
        const connectionId: string = ok.body.connectionId;
        const { token } = (await nango.createReconnectSession({ connection_id: connectionId, integration_id: CHECKED })).data;
        const refused = await connectApiKey(CHECKED, token, 'trial-456');
        assert.equal(refused.body.error?.code, 'connection_validation_failed');
        assert.deepEqual((await nango.getConnection(CHECKED, connectionId)).credentials, { type: 'API_KEY', apiKey });

        const imported = await api(server, 'POST', '/connections', {
            provider_config_key: CHECKED,
            connection_id: 'imported-trial',
            credentials: { type: 'API_KEY', apiKey: 'trial-789' }
        });
        assert.equal(imported.status, 201, JSON.stringify(imported.body));
        assert.deepEqual(await runs('imported-trial'), []);
    });

    it('logs every outcome without the credentials', () => {
        const out = server.output();
        assert.match(out, /"onEvent":"welcome-fails"[^\n]*"msg":"on-event script failed"/);
        assert.match(out, /"onEvent":"goodbye"[^\n]*"msg":"on-event script succeeded"/);
        assert.ok(!out.includes(apiKey), 'the API key appears in the logs');
    });

    it('SWITCHBOARD_ON_EVENT_TIMEOUT_MS: 5 minutes by default, validated at boot', () => {
        assert.equal(loadConfig({}).functions.onEventTimeoutMs, 300_000);
        assert.throws(
            () => loadConfig({ SWITCHBOARD_ON_EVENT_TIMEOUT_MS: '10' }),
            (e: unknown) => e instanceof ConfigError && e.message.startsWith('SWITCHBOARD_ON_EVENT_TIMEOUT_MS:')
        );
    });
});
