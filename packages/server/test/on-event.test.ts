// On-event scripts end to end (docs/functions.md "On-event scripts"): deployed as the CLIs send them, run after a
// connection is created (import and Connect flow, not on an override) and before one is deleted, against a
// loopback provider API with the connection's credentials. Outcomes are read from the audit trail, not the logs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { api, waitFor, type Json } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy, deployBody, onEventGroups, type OnEventFixture } from './support/functions.ts';
import { ConfigError, loadConfig } from '../src/config/config.ts';

const KEY = 'items';
const OTHER = 'other';
const SLOW = 'slow';
const TIMEOUT_MS = 8000;
const scripts: OnEventFixture[] = [
    { name: 'welcome', file: 'on-create.cjs', providerConfigKey: KEY, event: 'post-connection-creation' },
    { name: 'welcome-fails', file: 'on-create-fail.cjs', providerConfigKey: KEY, event: 'post-connection-creation' },
    { name: 'goodbye', file: 'on-delete.cjs', providerConfigKey: KEY, event: 'pre-connection-deletion' },
    { name: 'goodbye-fails', file: 'on-delete-fail.cjs', providerConfigKey: KEY, event: 'pre-connection-deletion' },
    { name: 'other-welcome', file: 'on-create.cjs', providerConfigKey: OTHER, event: 'post-connection-creation' },
    { name: 'other-goodbye', file: 'on-delete.cjs', providerConfigKey: OTHER, event: 'pre-connection-deletion' },
    { name: 'goodbye-hangs', file: 'on-delete-hang.cjs', providerConfigKey: SLOW, event: 'pre-connection-deletion' }
];

interface AuditRow {
    id: number;
    connection_id: string;
    kind: string;
    outcome: string;
    detail: Json;
}

describe('on-event scripts: post-connection-creation and pre-connection-deletion', () => {
    let server: TestServer;
    let items: ItemsApi;
    let nango: Nango;
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
    const goodbyes = (connectionId: string) => items.created.filter((c) => c.title.startsWith(`goodbye ${connectionId} `));

    before(async () => {
        items = await startItemsApi(apiKey);
        items.setCount(3);
        const providers = writeProvidersFile(`items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`);
        server = await startServer({ SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_ON_EVENT_TIMEOUT_MS: String(TIMEOUT_MS), SWITCHBOARD_SCHEDULER_TICK_MS: '0' });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        for (const key of [KEY, OTHER, SLOW]) await nango.createIntegration({ provider: 'items-api', unique_key: key });
    });

    after(async () => {
        await server?.stop();
        await items?.close();
        if (server) removeDir(server.dataDir);
    });

    it('deploys on-event scripts as onEventScriptsByProvider, with their event in the plan', async () => {
        const body = deployBody([], { onEventScriptsByProvider: onEventGroups(scripts) });
        const confirm = await api(server, 'POST', '/sync/deploy/confirmation', body);
        assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
        assert.deepEqual(
            confirm.body.newOnEventScripts.filter((x: Json) => x.providerConfigKey === KEY).map((x: Json) => `${x.name}:${x.event}`),
            ['welcome:post-connection-creation', 'welcome-fails:post-connection-creation', 'goodbye:pre-connection-deletion', 'goodbye-fails:pre-connection-deletion']
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
        const { token } = (await nango.createConnectSession({ end_user: { id: 'eu-1' }, allowed_integrations: [KEY] })).data;
        const res = await fetch(`${server.url}/api-auth/api-key/${KEY}?connect_session_token=${token}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ apiKey })
        });
        assert.equal(res.status, 200);
        const { connectionId } = (await res.json()) as { connectionId: string };
        const rows = byScript(await runsOf(connectionId, 2));
        assert.equal(rows['welcome']!.outcome, 'success', JSON.stringify(rows['welcome']));
        assert.equal(rows['welcome-fails']!.outcome, 'failure');
        assert.deepEqual(await nango.getMetadata(KEY, connectionId), { welcomed: { connectionId, firstItem: 'item-0' } });
    });

    it('runs only the scripts of the connection’s own integration', async () => {
        assert.equal((await importConnection(OTHER, 'other-conn')).status, 201);
        const rows = await runsOf('other-conn', 1);
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual((await runs('other-conn')).map((r) => r.detail.script), ['other-welcome']);
        assert.equal(rows[0]!.outcome, 'success');
        assert.deepEqual(await nango.getMetadata(OTHER, 'other-conn'), { welcomed: { connectionId: 'other-conn', firstItem: 'item-0' } });
    });

    it('DELETE runs the pre-connection-deletion scripts with the credentials first, then deletes even though one failed', async () => {
        const before = (await audit('imported')).length;
        await nango.setMetadata(KEY, 'imported', { welcomed: true });
        await nango.deleteConnection(KEY, 'imported');
        // Awaited by the DELETE: the provider heard from the script, with the connection's key, before the answer.
        const said = goodbyes('imported');
        assert.deepEqual(said.map((c) => c.title), ['goodbye imported (welcomed)'], 'the other integration’s goodbye did not run');
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

    it('logs every outcome without the credentials', () => {
        const out = server.output();
        assert.match(out, /"onEvent":"welcome-fails"[^\n]*"msg":"on-event script failed"/);
        assert.match(out, /"onEvent":"goodbye"[^\n]*"msg":"on-event script succeeded"/);
        assert.ok(!out.includes(apiKey), 'the API key appears in the logs');
    });

    it('SWITCHBOARD_ON_EVENT_TIMEOUT_MS: 5 minutes by default, validated at boot', () => {
        assert.equal(loadConfig({}).functions.onEventTimeoutMs, 300_000);
        assert.throws(() => loadConfig({ SWITCHBOARD_ON_EVENT_TIMEOUT_MS: '10' }), (e: unknown) => e instanceof ConfigError && e.message.startsWith('SWITCHBOARD_ON_EVENT_TIMEOUT_MS:'));
    });
});
