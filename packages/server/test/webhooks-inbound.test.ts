// Inbound provider webhooks: signature checks (Slack, GitHub), routing to connections and forwarding as signed
// outbound webhooks, against the real server process and a loopback receiver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, deliveries, received, type Receiver, type Json } from './support/webhooks.ts';
import { loadCatalogue } from '../src/providers/catalogue.ts';
import { inboundHandlers } from '../src/webhooks/inbound/registry.ts';
import { subscribes } from '../src/runs/kinds/webhook.ts';
import { deploy } from './support/functions.ts';
import { loadConfig, ConfigError } from '../src/config/config.ts';

const SLACK_SECRET = 'slack-signing-secret';
const GITHUB_SECRET = 'github-webhook-secret';

function slackHeaders(body: string, opts: { secret?: string; ageSeconds?: number } = {}): Record<string, string> {
    const ts = String(Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0));
    const sig = createHmac('sha256', opts.secret ?? SLACK_SECRET)
        .update(`v0:${ts}:${body}`)
        .digest('hex');
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
}

const codeOf = async (res: Response): Promise<string> => ((await res.json()) as Json).error.code;

function githubHeaders(body: string, secret = GITHUB_SECRET, event = 'push'): Record<string, string> {
    return { 'x-github-event': event, 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

it('every webhook_routing_script in the built-in catalogue has a handler', () => {
    const named = loadCatalogue([])
        .list()
        .map(([, def]) => def.webhook_routing_script)
        .filter((s): s is string => !!s);
    assert.ok(named.length >= 2);
    for (const script of named) assert.ok(inboundHandlers[script], `no inbound handler for ${script}`);
});

describe('inbound provider webhooks (embedded PGlite)', () => {
    let server: TestServer;
    let r: Receiver;
    let envUuid: string;
    let secret: string;
    const post = (key: string, body: string, headers: Record<string, string>, uuid = envUuid, contentType = 'application/json') =>
        fetch(`${server.url}/webhook/${uuid}/${key}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
    const forwards = (pred: (b: Json) => boolean = () => true) => received(r, (b) => b.type === 'forward' && pred(b));
    const count = async () => (await deliveries(server)).length;

    before(async () => {
        r = await startReceiver();
        server = await startServer({ SWITCHBOARD_WEBHOOK_URL: r.url });
        const integration = (provider: string, key: string, extra: Record<string, unknown> = {}, creds: Record<string, unknown> = {}) =>
            api(server, 'POST', '/integrations', {
                provider,
                unique_key: key,
                credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', ...creds },
                ...extra
            });
        await integration('slack', 'slack-app', {}, { webhook_secret: SLACK_SECRET });
        await integration('slack', 'slack-quiet', { forward_webhooks: false }, { webhook_secret: SLACK_SECRET });
        await integration('slack', 'slack-nosecret');
        await integration('github', 'gh', {}, { webhook_secret: GITHUB_SECRET });
        await integration('notion', 'notion');
        const conn = (key: string, id: string, config: Record<string, unknown>) =>
            api(server, 'POST', '/connections', {
                provider_config_key: key,
                connection_id: id,
                credentials: { type: 'OAUTH2', access_token: 'x' },
                connection_config: config
            });
        // Slack's token metadata is stored under the dotted key; a nested object is matched too.
        await conn('slack-app', 'team-one', { 'team.id': 'T1' });
        await conn('slack-app', 'team-one-again', { team: { id: 'T1' } });
        await conn('slack-app', 'team-two', { 'team.id': 'T2' });
        await conn('gh', 'install-42', { installation_id: '42' });
        const info = await api(server, 'GET', '/integrations/slack-app?include=webhook');
        envUuid = /\/webhook\/([0-9a-f-]{36})\/slack-app$/.exec(info.body.data.webhook_url)![1]!;
        secret = (await api(server, 'GET', '/admin/webhooks/settings')).body.data.secret;
    });
    after(async () => {
        await server?.stop();
        await r?.close();
        if (server) removeDir(server.dataDir);
    });

    it('a signed Slack event is forwarded once per connection of its team, signed by us', async () => {
        const event = { type: 'event_callback', team_id: 'T1', event: { type: 'message', text: 'hello' } };
        const body = JSON.stringify(event);
        const res = await post('slack-app', body, { ...slackHeaders(body), 'x-nango-hmac-sha256': 'spoofed', 'webhook-id': 'msg_spoofed' });
        assert.equal(res.status, 200, await res.text());
        const hits = await waitFor('two forwards', () => {
            const h = forwards((b) => b.payload?.event?.text === 'hello');
            return h.length >= 2 ? h : undefined;
        });
        assert.equal(hits.length, 2);
        assert.deepEqual(hits.map((h) => JSON.parse(h.body).connectionId).sort(), ['team-one', 'team-one-again']);
        const first = JSON.parse(hits[0]!.body);
        assert.deepEqual(first, { from: 'slack', type: 'forward', providerConfigKey: 'slack-app', connectionId: first.connectionId, payload: event });
        // Provider headers come along; ours cannot be spoofed by the provider request.
        assert.ok(hits[0]!.headers['x-slack-signature']);
        assert.notEqual(hits[0]!.headers['webhook-id'], 'msg_spoofed');
        const headers = Object.fromEntries(Object.entries(hits[0]!.headers).map(([k, v]) => [k, String(v)]));
        assert.equal(new Nango({ secretKey: server.secretKey, webhookSigningKey: secret }).verifyIncomingWebhookRequest(hits[0]!.body, headers), true);
    });

    it("answers Slack's url_verification challenge without forwarding it", async () => {
        const before = await count();
        const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'legacy' });
        const res = await post('slack-app', body, slackHeaders(body));
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { challenge: 'c-123' });
        assert.equal(await count(), before);
    });

    it('a form-encoded Slack interaction is routed by its team', async () => {
        const body = new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', team: { id: 'T2' }, actions: [{ action_id: 'go' }] }) }).toString();
        const res = await post('slack-app', body, slackHeaders(body), envUuid, 'application/x-www-form-urlencoded');
        assert.equal(res.status, 200, await res.text());
        const [hit] = await waitFor('the interaction forward', () => {
            const h = forwards((b) => b.connectionId === 'team-two');
            return h.length ? h : undefined;
        });
        assert.equal(typeof JSON.parse(hit!.body).payload.payload, 'string');
    });

    it('bad, stale or missing Slack signatures are refused with 401 and nothing is forwarded', async () => {
        const before = await count();
        const body = JSON.stringify({ type: 'event_callback', team_id: 'T1', event: { type: 'message', text: 'forged' } });
        for (const headers of [slackHeaders(body, { secret: 'wrong' }), slackHeaders(body, { ageSeconds: 6 * 60 }), {}, slackHeaders(`${body} `)]) {
            const res = await post('slack-app', body, headers);
            assert.equal(res.status, 401);
            assert.equal(await codeOf(res), 'invalid_webhook_signature');
        }
        assert.equal(await count(), before);
        assert.equal(forwards((b) => b.payload?.event?.text === 'forged').length, 0);
    });

    it('GitHub: a signed event is routed by installation id; an unknown installation is forwarded raw', async () => {
        const routed = JSON.stringify({ action: 'opened', installation: { id: 42 }, number: 7 });
        const res = await post('gh', routed, githubHeaders(routed));
        assert.equal(res.status, 200);
        const unmatched = { zeta: 1, action: 'closed', installation: { id: 99 } };
        const raw = JSON.stringify(unmatched);
        const res2 = await post('gh', raw, githubHeaders(raw));
        assert.equal(res2.status, 200);
        const [hit] = await waitFor('the routed GitHub forward', () => {
            const h = forwards((b) => b.connectionId === 'install-42');
            return h.length ? h : undefined;
        });
        assert.deepEqual(JSON.parse(hit!.body).payload, { action: 'opened', installation: { id: 42 }, number: 7 });
        assert.equal(JSON.parse(hit!.body).from, 'github');
        assert.equal(hit!.headers['x-github-event'], 'push');
        const [rawHit] = await waitFor('the raw forward', () => {
            const h = received(r, (b) => b.installation?.id === 99);
            return h.length ? h : undefined;
        });
        // Unwrapped: exactly the provider's payload (keys sorted), no type.
        assert.equal(rawHit!.body, '{"action":"closed","installation":{"id":99},"zeta":1}');
    });

    it('GitHub: a bad signature is refused with 401 and nothing is forwarded', async () => {
        const before = await count();
        const body = JSON.stringify({ installation: { id: 42 }, forged: true });
        for (const headers of [githubHeaders(body, 'wrong'), {}, { 'x-hub-signature-256': 'sha256=' }]) {
            const res = await post('gh', body, headers);
            assert.equal(res.status, 401);
            assert.equal(await codeOf(res), 'invalid_webhook_signature');
        }
        assert.equal(await count(), before);
    });

    it('an integration without a webhook_secret refuses signed providers (401); forward_webhooks false forwards nothing', async () => {
        const before = await count();
        const body = JSON.stringify({ type: 'event_callback', team_id: 'T1' });
        const res = await post('slack-nosecret', body, slackHeaders(body));
        assert.equal(res.status, 401);
        assert.equal(await codeOf(res), 'invalid_webhook_signature');
        const quiet = await post('slack-quiet', body, slackHeaders(body));
        assert.equal(quiet.status, 200);
        assert.equal(await count(), before);
    });

    it('a provider without webhook handling is refused like a bad signature, and forwards nothing', async () => {
        const before = await count();
        const res = await post('notion', '{"a":1}', {});
        assert.equal(res.status, 401);
        assert.equal(await codeOf(res), 'invalid_webhook_signature');
        assert.equal(await count(), before);
    });

    // issue #10 item 12: the answer told a stranger which integration keys exist (404 unknown_provider_config
    // against 401 or 204 for a known one). Every refusal now reads the same, whatever the key.
    it('an unknown integration key answers exactly as a known one with a bad signature, no secret or no webhook handling', async () => {
        const body = JSON.stringify({ type: 'event_callback', team_id: 'T1' });
        const answers = [];
        for (const [key, headers] of [
            ['nope', slackHeaders(body)],
            ['slack-app', { ...slackHeaders(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` }],
            ['slack-nosecret', slackHeaders(body)],
            ['notion', slackHeaders(body)]
        ] as const) {
            const res = await post(key, body, headers);
            answers.push({ key, status: res.status, body: await res.text() });
        }
        const [unknown, ...known] = answers;
        assert.equal(unknown!.status, 401);
        for (const a of known) assert.deepEqual({ status: a.status, body: a.body }, { status: unknown!.status, body: unknown!.body }, a.key);
    });

    it('bad environment UUID 400, unknown environment 404', async () => {
        const body = '{}';
        const bad = await post('slack-app', body, {}, 'not-a-uuid');
        assert.equal(bad.status, 400);
        assert.equal(await codeOf(bad), 'invalid_uri_params');
        const unknownEnv = await post('slack-app', body, {}, randomUUID());
        assert.equal(unknownEnv.status, 404);
        assert.equal(await codeOf(unknownEnv), 'unknown_environment');
    });

    it('never logs the webhook secrets', () => {
        assert.ok(!server.output().includes(SLACK_SECRET));
        assert.ok(!server.output().includes(GITHUB_SECRET));
        assert.ok(!server.output().includes(secret.slice(6)));
    });
});

it('a subscription matches its event type exactly, or every event with *', () => {
    assert.equal(subscribes(['issues'], 'issues'), true);
    assert.equal(subscribes(['issues'], 'push'), false);
    assert.equal(subscribes(['issues'], 'Issues'), false);
    assert.equal(subscribes(['*'], 'push'), true);
    assert.equal(subscribes([], 'push'), false);
});

it('SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS: 1 hour by default (Nango, docs/scripts-compatibility.md, "Limits and timeouts"), validated at boot', () => {
    assert.equal(loadConfig({}).functions.webhookRunTimeoutMs, 3_600_000);
    assert.equal(loadConfig({ SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS: '5000' }).functions.webhookRunTimeoutMs, 5000);
    assert.throws(
        () => loadConfig({ SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS: '10' }),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith('SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS:')
    );
});

describe('onWebhook runs from inbound provider webhooks (embedded PGlite)', () => {
    const KEY = 'gh-runs';
    const SYNC = 'issue-hooks';
    let server: TestServer;
    let r: Receiver;
    let envUuid: string;
    let nango: Nango;
    const send = (payload: unknown, opts: { event?: string; secret?: string } = {}) => {
        const body = JSON.stringify(payload);
        return fetch(`${server.url}/webhook/${envUuid}/${KEY}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...githubHeaders(body, opts.secret, opts.event ?? 'issues') },
            body
        });
    };
    const issue = (installation: number, number: number, title: string, action = 'opened') => ({
        action,
        installation: { id: installation },
        issue: { number, title }
    });
    const syncHooks = (pred: (b: Json) => boolean = () => true) => received(r, (b) => b.type === 'sync' && pred(b)).map((h) => JSON.parse(h.body) as Json);
    const records = async (connectionId: string) => (await nango.listRecords<Json>({ providerConfigKey: KEY, connectionId, model: 'Issue' })).records;
    const runs = async (connectionId: string): Promise<Json[]> => {
        const res = await api(server, 'GET', `/admin/audit?connection_id=${connectionId}&limit=1000`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return (res.body.data as Json[]).filter((row) => row.kind === 'webhook-run').reverse();
    };
    const runsOf = (connectionId: string, n: number) =>
        waitFor(`${n} webhook run(s) of ${connectionId}`, async () => {
            const rows = await runs(connectionId);
            return rows.length >= n ? rows : undefined;
        });

    before(async () => {
        r = await startReceiver();
        server = await startServer({ SWITCHBOARD_WEBHOOK_URL: r.url });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await api(server, 'POST', '/integrations', {
            provider: 'github',
            unique_key: KEY,
            credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', webhook_secret: GITHUB_SECRET }
        });
        for (const [id, installation] of [
            ['acme', '42'],
            ['globex', '43']
        ] as const) {
            await api(server, 'POST', '/connections', {
                provider_config_key: KEY,
                connection_id: id,
                credentials: { type: 'OAUTH2', access_token: 'x' },
                connection_config: { installation_id: installation }
            });
        }
        const deployed = await deploy(server, [
            { type: 'sync', name: SYNC, file: 'issue-hooks.cjs', providerConfigKey: KEY, models: ['Issue'], autoStart: false, webhookSubscriptions: ['issues'] }
        ]);
        assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        const info = await api(server, 'GET', `/integrations/${KEY}?include=webhook`);
        envUuid = /\/webhook\/([0-9a-f-]{36})\//.exec(info.body.data.webhook_url)![1]!;
    });
    after(async () => {
        await server?.stop();
        await r?.close();
        if (server) removeDir(server.dataDir);
    });

    it("a subscribed event runs the sync's onWebhook for the routed connection: records, a WEBHOOK sync webhook, its own checkpoint", async () => {
        const res = await send(issue(42, 7, 'Printer on fire'));
        assert.equal(res.status, 200, await res.text());
        const [hook] = await waitFor('the WEBHOOK sync webhook', () => {
            const h = syncHooks((b) => b.connectionId === 'acme');
            return h.length ? h : undefined;
        });
        assert.equal(hook.syncType, 'WEBHOOK');
        assert.equal(hook.success, true);
        assert.equal(hook.syncName, SYNC);
        assert.equal(hook.syncVariant, 'base');
        assert.equal(hook.model, 'Issue');
        assert.equal(hook.providerConfigKey, KEY);
        assert.deepEqual(hook.responseResults, { added: 1, updated: 0, deleted: 0 });
        const saved = await records('acme');
        assert.deepEqual(
            saved.map(({ _nango_metadata, ...rest }: Json) => rest),
            [{ id: '7', title: 'Printer on fire', action: 'opened', run: 1 }]
        );
        // The records are what the webhook announces: modifiedAfter reads exactly them.
        const since = await nango.listRecords({ providerConfigKey: KEY, connectionId: 'acme', model: 'Issue', modifiedAfter: hook.modifiedAfter });
        assert.equal(since.records.length, 1);
        // The forward still goes out, and the other installation's connection is untouched.
        await waitFor('the forward', () => received(r, (b) => b.type === 'forward' && b.connectionId === 'acme').length > 0);
        assert.deepEqual(await records('globex'), []);

        // A second event updates the record; the handler saw its own checkpoint from the first run.
        assert.equal((await send(issue(42, 7, 'Printer still on fire', 'edited'))).status, 200);
        const second = await waitFor('the second WEBHOOK sync webhook', () => {
            const h = syncHooks((b) => b.connectionId === 'acme');
            return h.length >= 2 ? h[1] : undefined;
        });
        assert.deepEqual(second.responseResults, { added: 0, updated: 1, deleted: 0 });
        const [updated] = await records('acme');
        assert.equal(updated.title, 'Printer still on fire');
        assert.equal(updated.run, 2);

        // The schedule is not disturbed: still paused, no run of its own, no checkpoint under sync:<name>.
        const status = await api(server, 'GET', `/sync/status?syncs=${SYNC}&provider_config_key=${KEY}&connection_id=acme`);
        assert.equal(status.status, 200, JSON.stringify(status.body));
        const [st] = status.body.syncs;
        assert.equal(st.status, 'PAUSED');
        assert.equal(st.checkpoint ?? null, null);
        assert.equal(st.latestExecutionStatus, null);
        assert.deepEqual(st.latestResult, {});
        const rows = await runsOf('acme', 2);
        assert.deepEqual(
            rows.map((row) => [row.outcome, row.detail.sync, row.detail.event]),
            [
                ['success', SYNC, 'issues'],
                ['success', SYNC, 'issues']
            ]
        );
    });

    it('an event the sync does not subscribe to is forwarded and runs nothing', async () => {
        const before = (await runs('globex')).length;
        const res = await send({ ref: 'refs/heads/main', installation: { id: 43 }, issue: { number: 1, title: 'not an issue event' } }, { event: 'push' });
        assert.equal(res.status, 200);
        await waitFor('the push forward', () => received(r, (b) => b.type === 'forward' && b.connectionId === 'globex').length > 0);
        await new Promise((done) => setTimeout(done, 1500));
        assert.equal((await runs('globex')).length, before);
        assert.deepEqual(await records('globex'), []);
        assert.equal(syncHooks((b) => b.connectionId === 'globex').length, 0);
    });

    it('a bad signature is refused and runs nothing', async () => {
        const res = await send(issue(43, 9, 'forged'), { secret: 'wrong' });
        assert.equal(res.status, 401);
        await new Promise((done) => setTimeout(done, 1500));
        assert.deepEqual(await runs('globex'), []);
        assert.deepEqual(await records('globex'), []);
    });

    it('a throwing onWebhook is recorded, sends a failed WEBHOOK sync webhook, and the forward still goes out', async () => {
        const res = await send(issue(43, 11, 'boom'));
        assert.equal(res.status, 200);
        await waitFor('the forward of the failing event', () => received(r, (b) => b.type === 'forward' && b.payload?.issue?.title === 'boom').length > 0);
        const [row] = await runsOf('globex', 1);
        assert.equal(row.outcome, 'failure');
        assert.equal(row.detail.sync, SYNC);
        assert.match(row.detail.error.message, /handler exploded/);
        const [failed] = await waitFor('the failed sync webhook', () => {
            const h = syncHooks((b) => b.connectionId === 'globex');
            return h.length ? h : undefined;
        });
        assert.equal(failed.success, false);
        assert.equal(failed.syncType, 'WEBHOOK');
        assert.deepEqual(await records('globex'), []);
        // The other connection's records are as the first test left them.
        assert.equal((await records('acme')).length, 1);
    });
});
