// Outbound webhooks end to end: the real server process, real loopback receivers, the official SDK and an
// independent Standard Webhooks implementation as verifiers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { Webhook } from 'standardwebhooks';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { startReceiver, waitFor, api, deliveries, received, type Receiver, type Json } from './support/webhooks.ts';
import type { RecordedRequest } from './support/upstream.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

function providers(tokenUrl: string): string {
    return writeProvidersFile(`
test-oauth:
  display_name: Test OAuth
  auth_mode: OAUTH2
  authorization_url: ${tokenUrl}/authorize
  token_url: ${tokenUrl}/token
  revocation_url: ${tokenUrl}/revoke
  proxy:
    base_url: ${tokenUrl}
`);
}

function headersOf(r: RecordedRequest): Record<string, string> {
    return Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
}

// Independent of the server's implementation: sort keys recursively, then stringify.
function sortedJson(v: unknown): string {
    const sort = (x: unknown): unknown =>
        Array.isArray(x)
            ? x.map(sort)
            : x && typeof x === 'object'
              ? Object.fromEntries(
                    Object.entries(x)
                        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                        .map(([k, y]) => [k, sort(y)])
                )
              : x;
    return JSON.stringify(sort(v));
}

async function importConnection(server: TestServer, id: string, extra: Record<string, unknown> = {}): Promise<void> {
    const res = await api(server, 'POST', '/connections', {
        provider_config_key: 'oauth',
        connection_id: id,
        credentials: { type: 'OAUTH2', access_token: `at-${id}`, refresh_token: `rt-${id}`, expires_at: new Date(Date.now() + 3600_000).toISOString() },
        ...extra
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function pointAt(server: TestServer, url: string | null, secondary: string | null = null): Promise<void> {
    const res = await api(server, 'PATCH', '/admin/webhooks/settings', { url, secondary_url: secondary });
    assert.equal(res.status, 200, JSON.stringify(res.body));
}

const forConnection = (id: string, operation?: string) => (b: Json) => b.connectionId === id && (!operation || b.operation === operation);

describe('outbound webhooks (embedded PGlite)', () => {
    let server: TestServer;
    let token: Upstream;
    let tokenMode: 'ok' | 'invalid_grant' = 'ok';
    let secret: string;
    const receivers: Receiver[] = [];
    const receiver = async () => {
        const r = await startReceiver();
        receivers.push(r);
        return r;
    };

    before(async () => {
        let n = 0;
        token = await startUpstream((req, res) => {
            if (req.url === '/revoke') return json(res, 200, {});
            if (tokenMode === 'invalid_grant') return json(res, 400, { error: 'invalid_grant', error_description: 'the grant was revoked' });
            n++;
            json(res, 200, { access_token: `fresh-${n}`, refresh_token: `rt2-${n}`, expires_in: 3600, token_type: 'bearer' });
        });
        server = await startServer({
            SWITCHBOARD_PROVIDERS: providers(token.url),
            SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS: '4',
            SWITCHBOARD_WEBHOOK_BACKOFF_MS: '20'
        });
        const nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({
            provider: 'test-oauth',
            unique_key: 'oauth',
            credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret' }
        });
        const settings = await api(server, 'GET', '/admin/webhooks/settings');
        secret = settings.body.data.secret;
    });
    after(async () => {
        await server?.stop();
        for (const r of receivers) await r.close();
        await token?.close();
        if (server) removeDir(server.dataDir);
    });

    it('generates a whsec_ signing secret on first start, never logging it', async () => {
        assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
        assert.equal(Buffer.from(secret.slice('whsec_'.length), 'base64').length, 32);
        assert.match(server.output(), /generated a webhook signing secret/);
        assert.ok(!server.output().includes(secret.slice(6)), 'the secret reached the log');
    });

    it('a forced refresh sends a signed auth webhook that the SDK and a Standard Webhooks verifier accept', async () => {
        const r = await receiver();
        await pointAt(server, r.url);
        await importConnection(server, 'refresh-ok', { end_user: { id: 'u1', email: 'u1@example.com', organization: { id: 'org1' } }, tags: { plan: 'pro' } });
        const nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.getConnection('oauth', 'refresh-ok', true);
        const [hit] = await waitFor('the refresh webhook', () => {
            const h = received(r, forConnection('refresh-ok', 'refresh'));
            return h.length ? h : undefined;
        });
        const headers = headersOf(hit!);
        const body = JSON.parse(hit!.body);
        assert.deepEqual(body, {
            from: 'nango',
            type: 'auth',
            connectionId: 'refresh-ok',
            providerConfigKey: 'oauth',
            authMode: 'OAUTH2',
            provider: 'test-oauth',
            environment: 'dev',
            operation: 'refresh',
            success: true,
            tags: { plan: 'pro' },
            endUser: { endUserId: 'u1', endUserEmail: 'u1@example.com', organizationId: 'org1', tags: {} }
        });
        assert.equal(hit!.body, sortedJson(body), 'the body is compact JSON with sorted keys');
        assert.match(headers['content-type']!, /^application\/json/);
        assert.match(headers['user-agent']!, /Switchboard/);

        const verifier = new Nango({ secretKey: server.secretKey, webhookSigningKey: secret });
        assert.equal(verifier.verifyIncomingWebhookRequest(hit!.body, headers), true);
        assert.equal(verifier.verifyIncomingWebhookRequest(hit!.body.replace('refresh-ok', 'refresh-ko'), headers), false);
        assert.equal(new Nango({ secretKey: server.secretKey, webhookSigningKey: 'whsec_other' }).verifyIncomingWebhookRequest(hit!.body, headers), false);
        // The deprecated helper re-stringifies the parsed body: it only works because the keys are sorted.
        assert.equal(verifier.verifyWebhookSignature(headers['x-nango-signature']!, body), true);

        assert.match(headers['webhook-id']!, /^msg_/);
        assert.doesNotThrow(() => new Webhook(secret).verify(hit!.body, headers));
        assert.throws(() => new Webhook(secret).verify(hit!.body.replace('"success":true', '"success":false'), headers));
        assert.throws(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(hit!.body, headers));
    });

    it('a refused refresh sends an auth webhook with success false and the provider reason', async () => {
        const r = await receiver();
        await pointAt(server, r.url);
        await importConnection(server, 'refresh-ko');
        tokenMode = 'invalid_grant';
        try {
            const res = await api(server, 'GET', '/connections/refresh-ko?provider_config_key=oauth&force_refresh=true');
            assert.equal(res.status, 400, JSON.stringify(res.body));
        } finally {
            tokenMode = 'ok';
        }
        const [hit] = await waitFor('the refresh failure webhook', () => {
            const h = received(r, forConnection('refresh-ko', 'refresh'));
            return h.length ? h : undefined;
        });
        const body = JSON.parse(hit!.body);
        assert.equal(body.success, false);
        assert.deepEqual(body.error, { type: 'invalid_grant', description: 'the grant was revoked' });
        assert.equal(new Nango({ secretKey: server.secretKey, webhookSigningKey: secret }).verifyIncomingWebhookRequest(hit!.body, headersOf(hit!)), true);
    });

    it('imports send creation, then override; DELETE sends deletion with the revocation outcome', async () => {
        const r = await receiver();
        await pointAt(server, r.url);
        await importConnection(server, 'lifecycle');
        await importConnection(server, 'lifecycle');
        const del = await api(server, 'DELETE', '/connections/lifecycle?provider_config_key=oauth');
        assert.equal(del.status, 200, JSON.stringify(del.body));
        const ops = await waitFor('three lifecycle webhooks', () => {
            const h = received(r, forConnection('lifecycle'));
            return h.length >= 3 ? h.map((q) => JSON.parse(q.body)) : undefined;
        });
        assert.deepEqual(ops.map((b: Json) => b.operation).sort(), ['creation', 'deletion', 'override']);
        const deletion = ops.find((b: Json) => b.operation === 'deletion');
        assert.equal(deletion.success, true);
        assert.deepEqual(deletion.revocation, { outcome: 'revoked', status: 200 });
    });

    it('a receiver answering 503 then 200 gets the event on the retry', async () => {
        const r = await receiver();
        r.respond([503]);
        await pointAt(server, r.url);
        await importConnection(server, 'retry-503');
        const d = await waitFor('delivered after a retry', async () => (await deliveries(server, '&status=delivered')).find((x) => x.url === r.url));
        assert.equal(d.attempts, 2);
        assert.equal(d.last_status, 200);
        const hits = received(r, forConnection('retry-503'));
        assert.equal(hits.length, 2);
        assert.equal(hits[0]!.headers['webhook-id'], hits[1]!.headers['webhook-id'], 'a retry keeps the message id');
    });

    it('receiver down, then 500, then 429 with Retry-After: delivered once it recovers, in order per connection', async () => {
        let n = 0;
        const flaky = await startUpstream((_req, res) => {
            n++;
            if (n === 1) return void res.socket?.destroy(); // down: the connection drops without an answer
            if (n === 2) return json(res, 500, {});
            if (n === 3) return json(res, 429, {}, { 'retry-after': '1' });
            json(res, 200, {});
        });
        try {
            await pointAt(server, flaky.url);
            await importConnection(server, 'ordered'); // creation
            await importConnection(server, 'ordered'); // override
            const del = await api(server, 'DELETE', '/connections/ordered?provider_config_key=oauth');
            assert.equal(del.status, 200);
            const ops = await waitFor('three events delivered', () => {
                const bodies = flaky.requests.map((r) => {
                    try {
                        return JSON.parse(r.body) as { connectionId: string; operation: string };
                    } catch {
                        return undefined;
                    }
                });
                return bodies.length >= 6 ? bodies.map((b) => b?.operation) : undefined;
            });
            // The first event is retried until the receiver recovers; the later ones wait behind it.
            assert.deepEqual(ops, ['creation', 'creation', 'creation', 'creation', 'override', 'deletion']);
            // The receiver has the last request before its answer is recorded: wait for the outcome, not the request.
            const mine = await waitFor('three deliveries recorded as delivered', async () => {
                const rows = (await deliveries(server)).filter((d) => d.url === flaky.url);
                return rows.every((d) => d.status !== 'pending') ? rows : undefined;
            });
            assert.deepEqual(
                mine.map((d) => d.status),
                ['delivered', 'delivered', 'delivered']
            );
        } finally {
            await flaky.close();
        }
    });

    it('429 with Retry-After (seconds or a date) schedules the next attempt when the receiver asked', async () => {
        for (const [name, retryAfter, expectedSeconds] of [
            ['seconds', '120', 120],
            ['date', new Date(Date.now() + 300_000).toUTCString(), 300]
        ] as const) {
            const r = await receiver();
            r.respond([{ status: 429, headers: { 'retry-after': retryAfter } }]);
            await pointAt(server, r.url);
            await importConnection(server, `retry-after-${name}`);
            const d = await waitFor('the 429 recorded', async () =>
                (await deliveries(server, '&status=pending')).find((x) => x.url === r.url && x.attempts === 1 && x.last_status === 429)
            );
            const scheduledIn = (Date.parse(d.next_attempt_at!) - Date.parse(d.updated_at)) / 1000;
            assert.ok(Math.abs(scheduledIn - expectedSeconds) <= 2, `${name}: next attempt in ${scheduledIn}s, expected about ${expectedSeconds}s`);
            assert.equal(r.requests.length, 1);
        }
    });

    it('400 is a refusal: failed after one attempt, not retried', async () => {
        const r = await receiver();
        r.respond(() => 400);
        await pointAt(server, r.url);
        await importConnection(server, 'refused');
        const d = await waitFor('failed', async () => (await deliveries(server, '&status=failed')).find((x) => x.url === r.url));
        assert.equal(d.attempts, 1);
        assert.equal(d.last_status, 400);
        assert.match(d.last_error!, /HTTP 400/);
        assert.equal(d.next_attempt_at, null);
        assert.equal(r.requests.length, 1);
    });

    it('always 500: dead after the last attempt, listed, then replayed successfully', async () => {
        const r = await receiver();
        r.respond(() => 500);
        await pointAt(server, r.url);
        await importConnection(server, 'dead');
        const d = await waitFor('dead', async () => (await deliveries(server, '&status=dead')).find((x) => x.url === r.url));
        assert.equal(d.attempts, 4);
        assert.equal(r.requests.length, 4);
        assert.equal(d.last_status, 500);

        // Paging: the newest first, a cursor for the next page.
        const page = await api(server, 'GET', '/admin/webhooks/deliveries?limit=1');
        assert.equal(page.body.data.length, 1);
        assert.ok(page.body.next_cursor);
        const next = await api(server, 'GET', `/admin/webhooks/deliveries?limit=1&cursor=${page.body.next_cursor}`);
        assert.ok(next.body.data[0].id < page.body.data[0].id);

        r.respond(() => 200);
        const replay = await api(server, 'POST', `/admin/webhooks/deliveries/${d.id}/replay`);
        assert.equal(replay.status, 200, JSON.stringify(replay.body));
        assert.equal(replay.body.data.status, 'pending');
        assert.equal(replay.body.data.attempts, 0);
        const done = await waitFor('the replay delivered', async () => (await deliveries(server, '&status=delivered')).find((x) => x.id === d.id));
        assert.equal(done.attempts, 1);
        assert.equal(r.requests.length, 5);
        assert.equal(
            new Nango({ secretKey: server.secretKey, webhookSigningKey: secret }).verifyIncomingWebhookRequest(r.requests[4]!.body, headersOf(r.requests[4]!)),
            true
        );
    });

    it('replay refuses unknown ids (404) and pending deliveries (409)', async () => {
        const missing = await api(server, 'POST', '/admin/webhooks/deliveries/999999/replay');
        assert.equal(missing.status, 404);
        assert.equal(missing.body.error.code, 'unknown_webhook_delivery');
        const [pending] = await deliveries(server, '&status=pending');
        assert.ok(pending, 'the Retry-After test left a pending delivery');
        const busy = await api(server, 'POST', `/admin/webhooks/deliveries/${pending.id}/replay`);
        assert.equal(busy.status, 409);
        assert.equal(busy.body.error.code, 'webhook_delivery_pending');
        const bad = await api(server, 'GET', '/admin/webhooks/deliveries?status=lost');
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'invalid_query_params');
    });

    it('primary and secondary both get an event; a connection webhook_url_override replaces both', async () => {
        const primary = await receiver();
        const secondary = await receiver();
        const override = await receiver();
        await pointAt(server, primary.url, secondary.url);
        await importConnection(server, 'overridden', { webhook_url_override: override.url });
        await importConnection(server, 'plain');
        await waitFor('override delivery', () => received(override, forConnection('overridden')).length === 1);
        await waitFor(
            'primary and secondary deliveries',
            () => received(primary, forConnection('plain')).length === 1 && received(secondary, forConnection('plain')).length === 1
        );
        assert.equal(received(primary, forConnection('overridden')).length, 0);
        assert.equal(received(secondary, forConnection('overridden')).length, 0);
        assert.equal(received(override, forConnection('plain')).length, 0);
        const [p] = received(primary, forConnection('plain'));
        const [s] = received(secondary, forConnection('plain'));
        assert.equal(p!.headers['webhook-id'], s!.headers['webhook-id'], 'one event, one message id');
    });

    it('no URL configured: events are not queued', async () => {
        await pointAt(server, null);
        const before = (await deliveries(server)).length;
        await importConnection(server, 'unsent');
        assert.equal((await deliveries(server)).length, before);
    });

    it('settings: rotate or set the secret; invalid values are refused', async () => {
        const rotated = await api(server, 'PATCH', '/admin/webhooks/settings', { rotate_secret: true });
        assert.equal(rotated.status, 200);
        assert.notEqual(rotated.body.data.secret, secret);
        assert.match(rotated.body.data.secret, /^whsec_/);
        const mine = `whsec_${randomBytes(24).toString('base64')}`;
        const set = await api(server, 'PATCH', '/admin/webhooks/settings', { secret: mine });
        assert.equal(set.body.data.secret, mine);
        assert.equal((await api(server, 'GET', '/admin/webhooks/settings')).body.data.secret, mine);
        // Signed with the new secret from now on.
        const r = await receiver();
        await pointAt(server, r.url);
        await importConnection(server, 'after-rotation');
        const [hit] = await waitFor('delivery', () => {
            const h = received(r, forConnection('after-rotation'));
            return h.length ? h : undefined;
        });
        assert.equal(new Nango({ secretKey: server.secretKey, webhookSigningKey: mine }).verifyIncomingWebhookRequest(hit!.body, headersOf(hit!)), true);
        assert.doesNotThrow(() => new Webhook(mine).verify(hit!.body, headersOf(hit!)));

        for (const body of [
            { secret: 'whsec_c2hvcnQ=' },
            { secret: 'not-a-secret' },
            { secret: mine, rotate_secret: true },
            { url: 'ftp://example.com' },
            { unknown: 1 }
        ]) {
            const res = await api(server, 'PATCH', '/admin/webhooks/settings', body);
            assert.equal(res.status, 400, JSON.stringify(body));
            assert.equal(res.body.error.code, 'invalid_body');
        }
        const anonymous = await fetch(`${server.url}/admin/webhooks/settings`);
        assert.equal(anonymous.status, 401);
        secret = mine;
        assert.ok(!server.output().includes(mine.slice(6)), 'a secret reached the log');
    });
});

describe('webhook settings from the environment, and a restart with a pending delivery (embedded PGlite)', () => {
    let r: Receiver;
    let server: TestServer | undefined;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    let env: Record<string, string>;

    before(async () => {
        r = await startReceiver();
        env = {
            SWITCHBOARD_WEBHOOK_URL: r.url,
            SWITCHBOARD_WEBHOOK_SECRET: secret,
            SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS: '50',
            SWITCHBOARD_WEBHOOK_BACKOFF_MS: '2000'
        };
        server = await startServer(env);
        env = { ...env, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey };
        await api(server, 'POST', '/integrations', {
            provider: 'github',
            unique_key: 'gh',
            credentials: { type: 'OAUTH2', client_id: 'a', client_secret: 'b' }
        });
    });
    after(async () => {
        await server?.stop();
        await r?.close();
        if (server) removeDir(server.dataDir);
    });

    it('SWITCHBOARD_WEBHOOK_URL and SWITCHBOARD_WEBHOOK_SECRET seed the settings and win again at the next boot', async () => {
        const got = await api(server!, 'GET', '/admin/webhooks/settings');
        assert.deepEqual(got.body.data, { url: r.url, secondary_url: null, secret });
        const patched = await api(server!, 'PATCH', '/admin/webhooks/settings', { url: 'https://example.com/hook', rotate_secret: true });
        assert.equal(patched.status, 200);
        await server!.stop();
        server = await startServer(env);
        assert.deepEqual((await api(server, 'GET', '/admin/webhooks/settings')).body.data, { url: r.url, secondary_url: null, secret });
        assert.ok(!server.output().includes(secret.slice(6)));
    });

    it('a server killed with a pending delivery delivers it after the restart', async () => {
        r.respond(() => 503);
        const res = await api(server!, 'POST', '/connections', {
            provider_config_key: 'gh',
            connection_id: 'survivor',
            credentials: { type: 'OAUTH2', access_token: 'x' }
        });
        assert.equal(res.status, 201);
        await waitFor('a failed first attempt', async () => (await deliveries(server!, '&status=pending')).find((d) => d.last_status === 503));
        await server!.stop('SIGKILL');
        const before = r.requests.length;
        r.respond(() => 200);
        server = await startServer(env);
        // If the kill landed mid-attempt the row waits for its lease (a minute) before it is retried.
        const d = await waitFor('delivered after the restart', async () => (await deliveries(server!, '&status=delivered'))[0], 120_000);
        assert.ok(d.attempts >= 2);
        const after = r.requests.slice(before).filter((q) => JSON.parse(q.body).connectionId === 'survivor');
        assert.ok(after.length >= 1);
        assert.doesNotThrow(() => new Webhook(secret).verify(after.at(-1)!.body, headersOf(after.at(-1)!)));
    });
});

describe('webhook configuration errors', () => {
    async function bootFailure(env: Record<string, string>): Promise<string> {
        const outcome = await startServer(env).then(
            (s) => s,
            (err: Error) => err
        );
        if (outcome instanceof Error) return outcome.message;
        await outcome.stop();
        removeDir(outcome.dataDir);
        assert.fail('the server started');
    }

    for (const [name, value] of [
        ['SWITCHBOARD_WEBHOOK_URL', 'not a url'],
        ['SWITCHBOARD_WEBHOOK_URL', 'ftp://example.com/hook'],
        ['SWITCHBOARD_WEBHOOK_SECRET', 'plainsecretvalue'],
        ['SWITCHBOARD_WEBHOOK_SECRET', `whsec_${randomBytes(16).toString('base64')}`],
        ['SWITCHBOARD_WEBHOOK_SECRET', `whsec_${randomBytes(32).toString('base64')}!`],
        ['SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS', '0'],
        ['SWITCHBOARD_WEBHOOK_BACKOFF_MS', 'soon']
    ] as const) {
        it(`${name}=${value.slice(0, 12)}… exits 78 naming the variable`, async () => {
            const message = await bootFailure({ [name]: value });
            assert.match(message, /exited with 78/);
            assert.match(message, new RegExp(`configuration error: ${name}`));
            if (name === 'SWITCHBOARD_WEBHOOK_SECRET') assert.ok(!message.includes(value.slice(6, 30)), 'the secret was printed');
        });
    }
});
