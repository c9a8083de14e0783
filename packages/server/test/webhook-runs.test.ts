// onWebhook runs beyond the GitHub basics of webhooks-inbound.test.ts: Slack-signed events, `*` subscriptions,
// the legacy bundle's onWebhookPayloadReceived, a run stopped by a redeploy, and a run on real PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, received, type Receiver, type Json } from './support/webhooks.ts';
import { deploy, type FixtureScript } from './support/functions.ts';

const SLACK_SECRET = 'slack-signing-secret';
const GITHUB_SECRET = 'github-webhook-secret';

function signed(provider: 'slack' | 'github', body: string, event: string): Record<string, string> {
    if (provider === 'github')
        return { 'x-github-event': event, 'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}` };
    // https://api.slack.com/authentication/verifying-requests-from-slack
    const ts = String(Math.floor(Date.now() / 1000));
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}` };
}

/** One server with a receiver, and the calls every onWebhook test makes. */
function harness(env: () => Record<string, string> = () => ({})) {
    const h = {
        server: undefined as unknown as TestServer,
        r: undefined as unknown as Receiver,
        nango: undefined as unknown as Nango,
        envUuid: '',
        async start() {
            h.r = await startReceiver();
            h.server = await startServer({ SWITCHBOARD_WEBHOOK_URL: h.r.url, ...env() });
            h.nango = new Nango({ host: h.server.url, secretKey: h.server.secretKey });
        },
        async stop() {
            await h.server?.stop();
            await h.r?.close();
            if (h.server) removeDir(h.server.dataDir);
        },
        async integration(provider: 'slack' | 'github', key: string, connections: Record<string, Record<string, unknown>>) {
            const res = await api(h.server, 'POST', '/integrations', {
                provider,
                unique_key: key,
                credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', webhook_secret: provider === 'slack' ? SLACK_SECRET : GITHUB_SECRET }
            });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            for (const [id, config] of Object.entries(connections)) {
                await api(h.server, 'POST', '/connections', {
                    provider_config_key: key,
                    connection_id: id,
                    credentials: { type: 'OAUTH2', access_token: 'x' },
                    connection_config: config
                });
            }
            const info = await api(h.server, 'GET', `/integrations/${key}?include=webhook`);
            h.envUuid = /\/webhook\/([0-9a-f-]{36})\//.exec(info.body.data.webhook_url)![1]!;
        },
        async deploy(scripts: FixtureScript[], extra: Record<string, unknown> = {}) {
            const res = await deploy(h.server, scripts, extra);
            assert.equal(res.status, 200, JSON.stringify(res.body));
        },
        async send(provider: 'slack' | 'github', key: string, payload: unknown, event = 'issues') {
            const body = JSON.stringify(payload);
            const res = await fetch(`${h.server.url}/webhook/${h.envUuid}/${key}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', ...signed(provider, body, event) },
                body
            });
            assert.equal(res.status, 200, await res.text());
        },
        async records(key: string, connectionId: string, model: string): Promise<Json[]> {
            const res = await h.nango.listRecords<Json>({ providerConfigKey: key, connectionId, model });
            return res.records.map(({ _nango_metadata, ...rest }: Json) => rest).sort((a: Json, b: Json) => String(a.id).localeCompare(String(b.id)));
        },
        syncHooks(connectionId: string): Json[] {
            return received(h.r, (b) => b.type === 'sync' && b.connectionId === connectionId).map((x) => JSON.parse(x.body) as Json);
        },
        async runs(connectionId: string): Promise<Json[]> {
            const res = await api(h.server, 'GET', `/admin/audit?connection_id=${connectionId}&limit=1000`);
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return (res.body.data as Json[]).filter((row) => row.kind === 'webhook-run').reverse();
        },
        runsOf(connectionId: string, n: number) {
            return waitFor(`${n} webhook run(s) of ${connectionId}`, async () => {
                const rows = await h.runs(connectionId);
                return rows.length >= n ? rows : undefined;
            });
        }
    };
    return h;
}

const hookSync = (name: string, key: string, webhookSubscriptions: string[], file = 'hook-log.cjs'): FixtureScript => ({
    type: 'sync',
    name,
    file,
    providerConfigKey: key,
    models: ['Hook'],
    autoStart: false,
    webhookSubscriptions
});

describe('onWebhook runs (embedded PGlite)', () => {
    const h = harness();
    const scripts = [
        hookSync('slack-log', 'slack-runs', ['event_callback']),
        {
            type: 'sync',
            name: 'issue-hooks',
            file: 'issue-hooks.cjs',
            providerConfigKey: 'gh-star',
            models: ['Issue'],
            autoStart: false,
            webhookSubscriptions: ['issues']
        } satisfies FixtureScript,
        hookSync('any-log', 'gh-star', ['*']),
        hookSync('legacy-log', 'gh-legacy', ['issues'], 'legacy-hooks.cjs'),
        hookSync('slow-log', 'gh-slow', ['issues'])
    ];

    before(async () => {
        await h.start();
        await h.integration('slack', 'slack-runs', { 'team-nine': { 'team.id': 'T9' }, 'team-eight': { 'team.id': 'T8' } });
        await h.integration('github', 'gh-star', { 'star-acme': { installation_id: '42' } });
        await h.integration('github', 'gh-legacy', { 'legacy-acme': { installation_id: '42' } });
        await h.integration('github', 'gh-slow', { 'slow-acme': { installation_id: '42' } });
        await h.deploy(scripts);
    });
    after(() => h.stop());

    it("a Slack-signed event_callback runs the subscribed sync's onWebhook for its team's connection only", async () => {
        await h.send('slack', 'slack-runs', { type: 'event_callback', team_id: 'T9', hook_id: 'slack-1', event: { type: 'message', text: 'hi' } });
        const [row] = await h.runsOf('team-nine', 1);
        assert.deepEqual([row.outcome, row.detail.sync, row.detail.event], ['success', 'slack-log', 'event_callback']);
        assert.deepEqual(await h.records('slack-runs', 'team-nine', 'Hook'), [{ id: 'slack-1', source: 'zero', step: 1 }]);
        const [hook] = await waitFor('the WEBHOOK sync webhook', () => {
            const x = h.syncHooks('team-nine');
            return x.length ? x : undefined;
        });
        assert.deepEqual(
            [hook.syncType, hook.success, hook.syncName, hook.model, hook.providerConfigKey],
            ['WEBHOOK', true, 'slack-log', 'Hook', 'slack-runs']
        );
        assert.deepEqual(await h.runs('team-eight'), []);
        assert.deepEqual(await h.records('slack-runs', 'team-eight', 'Hook'), []);
    });

    it('a * subscription runs for an event no other subscription names; the sync subscribed to issues does not', async () => {
        await h.send('github', 'gh-star', { ref: 'refs/heads/main', installation: { id: 42 }, hook_id: 'push-1' }, 'push');
        const [row] = await h.runsOf('star-acme', 1);
        assert.deepEqual([row.outcome, row.detail.sync, row.detail.event], ['success', 'any-log', 'push']);
        assert.deepEqual(await h.records('gh-star', 'star-acme', 'Hook'), [{ id: 'push-1', source: 'zero', step: 1 }]);
        // issue-hooks would have thrown on a payload without `issue`: a second run (or its failure) would show here.
        await new Promise((done) => setTimeout(done, 500));
        assert.equal((await h.runs('star-acme')).length, 1);
        assert.deepEqual(await h.records('gh-star', 'star-acme', 'Issue'), []);
    });

    it("a legacy bundle's onWebhookPayloadReceived runs end to end", async () => {
        await h.send('github', 'gh-legacy', { action: 'opened', installation: { id: 42 }, hook_id: 'legacy-1' });
        const [row] = await h.runsOf('legacy-acme', 1);
        assert.equal(row.outcome, 'success', JSON.stringify(row.detail));
        assert.deepEqual([row.detail.sync, row.detail.event], ['legacy-log', 'issues']);
        assert.deepEqual(await h.records('gh-legacy', 'legacy-acme', 'Hook'), [{ id: 'legacy-1', source: 'legacy', step: 1 }]);
        const [hook] = await waitFor('the WEBHOOK sync webhook', () => {
            const x = h.syncHooks('legacy-acme');
            return x.length ? x : undefined;
        });
        assert.deepEqual([hook.syncType, hook.success, hook.responseResults], ['WEBHOOK', true, { added: 1, updated: 0, deleted: 0 }]);
    });

    it("a redeploy that removes the sync stops its webhook run: nothing written after, no sync webhook, audited as stopped (was 'failure')", async () => {
        // The run waits 4 s between its two saves: the redeploy below (one HTTP call) lands in that window with a
        // wide margin even on a loaded CI machine.
        await h.send('github', 'gh-slow', { action: 'opened', installation: { id: 42 }, hook_id: 'slow-1', wait_ms: 4000 });
        await waitFor('the first save of the slow run', async () => (await h.records('gh-slow', 'slow-acme', 'Hook')).length > 0);
        await h.deploy(
            scripts.filter((s) => s.name !== 'slow-log'),
            { reconcile: true }
        );
        const [row] = await h.runsOf('slow-acme', 1);
        assert.equal(row.outcome, 'stopped', JSON.stringify(row.detail));
        assert.equal(row.detail.sync, 'slow-log');
        const left = await h.records('gh-slow', 'slow-acme', 'Hook');
        assert.ok(!left.some((x) => x.step === 2), JSON.stringify(left));
        await new Promise((done) => setTimeout(done, 300));
        assert.deepEqual(h.syncHooks('slow-acme'), []);
    });
});

describe('onWebhook runs on PostgreSQL', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const h = harness(() => ({ SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() }));
    const KEY = 'gh-pg';

    before(async () => {
        database = await createTestDatabase();
        await h.start();
        await h.integration('github', KEY, { 'pg-acme': { installation_id: '42' }, 'pg-globex': { installation_id: '43' } });
        await h.deploy([
            {
                type: 'sync',
                name: 'issue-hooks',
                file: 'issue-hooks.cjs',
                providerConfigKey: KEY,
                models: ['Issue'],
                autoStart: false,
                webhookSubscriptions: ['issues']
            }
        ]);
    });
    after(async () => {
        await h.stop();
        await database?.drop();
    });

    it("a GitHub issues event runs the sync's onWebhook for the routed connection: records, WEBHOOK job, webhook checkpoint", async () => {
        await h.send('github', KEY, { action: 'opened', installation: { id: 42 }, issue: { number: 7, title: 'Printer on fire' } });
        const [row] = await h.runsOf('pg-acme', 1);
        assert.deepEqual([row.outcome, row.detail.sync, row.detail.event], ['success', 'issue-hooks', 'issues']);
        assert.deepEqual(await h.records(KEY, 'pg-acme', 'Issue'), [{ id: '7', title: 'Printer on fire', action: 'opened', run: 1 }]);
        assert.deepEqual(await h.records(KEY, 'pg-globex', 'Issue'), []);
        const [hook] = await waitFor('the WEBHOOK sync webhook', () => {
            const x = h.syncHooks('pg-acme');
            return x.length ? x : undefined;
        });
        assert.deepEqual([hook.syncType, hook.success, hook.responseResults], ['WEBHOOK', true, { added: 1, updated: 0, deleted: 0 }]);
        const sql = new pg.Client({ connectionString: database.url });
        await sql.connect();
        try {
            const jobs = await sql.query("SELECT type, status FROM runs WHERE kind = 'webhook'");
            assert.deepEqual(jobs.rows, [{ type: 'WEBHOOK', status: 'SUCCESS' }]);
            const keys = await sql.query('SELECT key, data FROM checkpoints');
            assert.deepEqual(keys.rows, [{ key: 'webhook:issue-hooks', data: { runs: 1 } }]);
            const sched = await sql.query('SELECT running_job_id, last_sync_date FROM syncs');
            assert.deepEqual(sched.rows, [
                { running_job_id: null, last_sync_date: null },
                { running_job_id: null, last_sync_date: null }
            ]);
        } finally {
            await sql.end();
        }
    });
});
