// Issue #12 item 6, "Revoked vs expired": a 401 to a token we believed valid gets one refresh and one retry; a
// refused grant takes the connection out of `active` at once (`revoked`, or `expired` for a refresh token past its
// announced lifetime, or no refresh token), with one `auth` webhook. Against oidc-provider, on both backends.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { sdkFailure } from './support/sdk.ts';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { startReceiver, received, waitFor, deliveries, type Receiver, type Json } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';

function providers(as: TestAuthServer, apiUrl: string, short: TestAuthServer): string {
    return writeProvidersFile(`
short-lived:
  display_name: Refresh tokens that live 2 s
  auth_mode: OAUTH2
  authorization_url: ${short.authorizationUrl}
  token_url: ${short.tokenUrl}
  proxy:
    base_url: ${short.issuer}
test-oidc:
  display_name: Test OIDC
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  proxy:
    base_url: ${as.issuer}
always-401:
  display_name: An API that refuses every token
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  proxy:
    base_url: ${apiUrl}
`);
}

async function importConnection(
    server: TestServer,
    key: string,
    id: string,
    creds: { access_token: string; refresh_token?: string; expires_at: string; raw?: Record<string, unknown> }
): Promise<void> {
    const res = await fetch(`${server.url}/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider_config_key: key, connection_id: id, credentials: { type: 'OAUTH2', ...creds } })
    });
    assert.equal(res.status, 201, await res.text());
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const me = (nango: Nango, id: string, key = 'oidc') => nango.get<{ sub: string }>({ endpoint: '/me', providerConfigKey: key, connectionId: id });
const refreshWebhooks = (r: Receiver, id: string) =>
    received(r, (b: Json) => b.type === 'auth' && b.operation === 'refresh' && b.success === false && b.connectionId === id);

async function integrate(nango: Nango, as: TestAuthServer, provider = 'test-oidc', key = 'oidc'): Promise<void> {
    await nango.createIntegration({ provider, unique_key: key, credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret } });
}

async function backendEnv(name: 'pglite' | 'postgres'): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
    if (name === 'pglite') return { env: {}, drop: async () => {} };
    const db = await createTestDatabase();
    return {
        env: { SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(), SWITCHBOARD_SECRET_KEY: crypto.randomUUID() },
        drop: () => db.drop()
    };
}

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`revoked vs expired (${backend})`, () => {
        let as: TestAuthServer;
        // Access tokens of 1 s and refresh tokens of 2 s, announced in its token responses.
        let short: TestAuthServer;
        let api: Awaited<ReturnType<typeof startUpstream>>;
        let receiver: Receiver;
        // Two instances sharing the database on PostgreSQL: the storms below are spread over both.
        let servers: TestServer[] = [];
        let clients: Nango[];
        let nango: Nango;
        let drop: () => Promise<void>;

        before(async () => {
            as = await startAuthServer();
            short = await startAuthServer({ accessTokenTtlSeconds: 1, refreshTokenTtlSeconds: 2 });
            api = await startUpstream((_req, res) => json(res, 401, { error: 'invalid_token' }));
            receiver = await startReceiver();
            const b = await backendEnv(backend);
            drop = b.drop;
            const env = { ...b.env, SWITCHBOARD_PROVIDERS: providers(as, api.url, short), SWITCHBOARD_WEBHOOK_URL: receiver.url };
            servers = backend === 'postgres' ? await Promise.all([startServer(env), startServer(env)]) : [await startServer(env)];
            clients = servers.map((s) => new Nango({ host: s.url, secretKey: s.secretKey }));
            nango = clients[0]!;
            await integrate(nango, as);
            await integrate(nango, as, 'always-401', 'refuses');
            await integrate(nango, short, 'short-lived', 'short');
        });
        after(async () => {
            await Promise.all(servers.map((s) => s.stop()));
            await as?.close();
            await short?.close();
            await api?.close();
            await receiver?.close();
            await drop?.();
            for (const s of servers) removeDir(s.dataDir);
        });

        it('a grant revoked at the provider: the next calls get 401, one refresh is refused, the connection is revoked with one webhook and a clear error', async () => {
            const grant = await as.mintGrant();
            await importConnection(servers[0]!, 'oidc', 'withdrawn', {
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: inAnHour()
            });
            assert.equal((await me(nango, 'withdrawn')).data.sub, 'user-1', 'the grant was working');
            await as.revokeGrant(grant.grantId);
            const before = { ...as.counts };

            const failures = await Promise.all(Array.from({ length: 20 }, (_, i) => sdkFailure(me(clients[i % clients.length]!, 'withdrawn'))));
            assert.equal(as.counts.tokenRequests - before.tokenRequests, 1, 'a storm of 401s makes one token request');
            assert.equal(as.counts.failedRefresh - before.failedRefresh, 1);
            for (const f of failures) {
                assert.equal(f.status, 400);
                assert.equal(f.data.error.code, 'refresh_token_external_error');
                assert.match(f.data.error.message, /invalid_grant.*revoked.*reconnect/);
                assert.equal((f.data.error.payload as Json).connection_status, 'revoked');
            }

            const conn = (await nango.getConnection('oidc', 'withdrawn')) as Json;
            assert.equal(conn.status, 'revoked');
            assert.equal(conn.refresh_error.type, 'invalid_grant');
            assert.deepEqual(conn.errors, [{ type: 'auth', log_id: conn.errors[0].log_id }]);
            const list = await nango.listConnections({ connectionId: 'withdrawn' });
            assert.equal((list.connections[0] as Json).status, 'revoked');

            const [hook] = await waitFor('the auth failure webhook', () => refreshWebhooks(receiver, 'withdrawn')[0] && refreshWebhooks(receiver, 'withdrawn'));
            const body = JSON.parse(hook!.body);
            assert.equal(body.success, false);
            assert.equal(body.connectionStatus, 'revoked');
            assert.equal(body.error.type, 'invalid_grant');

            // Later calls answer at once: no token request, no second webhook.
            const again = await sdkFailure(me(nango, 'withdrawn'));
            assert.equal((again.data.error.payload as Json).connection_status, 'revoked');
            assert.equal(as.counts.tokenRequests - before.tokenRequests, 1);
            const queued = (await deliveries(servers[0]!)).filter((d) => {
                const b = JSON.parse(d.body);
                return b.type === 'auth' && b.operation === 'refresh' && b.connectionId === 'withdrawn';
            });
            assert.equal(queued.length, 1, 'the webhook is sent once');
        });

        it('a storm of 401s on a token the provider no longer accepts: one token request, every call retried once and answered', async () => {
            const grant = await as.mintGrant();
            // The stored access token is one the provider never issued (rotated early); the refresh token is good.
            await importConnection(servers[0]!, 'oidc', 'stale', {
                access_token: 'no-longer-accepted',
                refresh_token: grant.refreshToken,
                expires_at: inAnHour()
            });
            const before = { ...as.counts };
            const results = await Promise.all(Array.from({ length: 20 }, (_, i) => me(clients[i % clients.length]!, 'stale')));
            for (const r of results) assert.equal(r.data.sub, 'user-1');
            assert.equal(as.counts.tokenRequests - before.tokenRequests, 1);
            assert.equal(as.counts.refresh - before.refresh, 1);
            assert.equal(((await nango.getConnection('oidc', 'stale')) as Json).status, 'active');
        });

        it('a script call (nango.get in an action) gets the same one refresh and retry on a 401', async () => {
            const deployed = await deploy(servers[0]!, [{ type: 'action', name: 'whoami', file: 'whoami.cjs', providerConfigKey: 'oidc' }]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            const grant = await as.mintGrant();
            await importConnection(servers[0]!, 'oidc', 'scripted', {
                access_token: 'no-longer-accepted',
                refresh_token: grant.refreshToken,
                expires_at: inAnHour()
            });
            const before = { ...as.counts };
            const out = (await nango.triggerAction('oidc', 'scripted', 'whoami', {})) as Json;
            assert.equal(out.sub, 'user-1');
            assert.equal(as.counts.refresh - before.refresh, 1);

            // Then the grant is withdrawn: the script's call fails clearly and the connection is revoked.
            // Rotated tokens stay in the same grant.
            await as.revokeGrant(grant.grantId);
            const failed = await sdkFailure(nango.triggerAction('oidc', 'scripted', 'whoami', {}));
            assert.ok(failed.status >= 400);
            assert.equal(((await nango.getConnection('oidc', 'scripted')) as Json).status, 'revoked');
            await waitFor('the script path webhook', () => refreshWebhooks(receiver, 'scripted').length === 1);
        });

        it('a 401 that survives the refresh goes back to the app as the provider sent it; the connection stays active', async () => {
            const grant = await as.mintGrant();
            await importConnection(servers[0]!, 'refuses', 'picky', {
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: inAnHour()
            });
            const before = { ...as.counts };
            const small = await sdkFailure(nango.post({ endpoint: '/thing', providerConfigKey: 'refuses', connectionId: 'picky', data: { a: 1 } }));
            assert.equal(small.status, 401);
            assert.deepEqual(small.data, { error: 'invalid_token' } as Json);
            assert.equal(as.counts.refresh - before.refresh, 1, 'one refresh, one retry, no more');
            assert.equal(((await nango.getConnection('refuses', 'picky')) as Json).status, 'active');
        });

        it('a 401 to a streamed (larger than 64 KiB) body is not retried: no refresh, the 401 goes back', async () => {
            const grant = await as.mintGrant();
            await importConnection(servers[0]!, 'refuses', 'upload', {
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: inAnHour()
            });
            const before = { ...as.counts };
            const big = await sdkFailure(
                nango.post({ endpoint: '/upload', providerConfigKey: 'refuses', connectionId: 'upload', data: { blob: 'x'.repeat(200 * 1024) } })
            );
            assert.equal(big.status, 401);
            assert.equal(as.counts.tokenRequests - before.tokenRequests, 0);
        });

        it('no refresh token and an access token past its expiry: a 401 makes the connection expired', async () => {
            const grant = await as.mintGrant({ accessTokenTtl: 1 });
            await waitFor('the access token to expire at the provider', async () => !(await as.isAccessTokenActive(grant.accessToken)));
            await importConnection(servers[0]!, 'oidc', 'no-rt', { access_token: grant.accessToken, expires_at: new Date(Date.now() - 1000).toISOString() });
            const before = { ...as.counts };
            const f = await sdkFailure(me(nango, 'no-rt'));
            assert.equal((f.data.error.payload as Json).connection_status, 'expired');
            assert.equal(as.counts.tokenRequests - before.tokenRequests, 0);
            const conn = (await nango.getConnection('oidc', 'no-rt')) as Json;
            assert.equal(conn.status, 'expired');
            assert.equal(conn.refresh_error.type, 'refresh_token_missing');
            const [hook] = await waitFor('the expired webhook', () => refreshWebhooks(receiver, 'no-rt')[0] && refreshWebhooks(receiver, 'no-rt'));
            assert.equal(JSON.parse(hook!.body).connectionStatus, 'expired');
        });

        it('a refresh token past the lifetime the provider announced: the refused refresh makes the connection expired, not revoked', async () => {
            const grant = await short.mintGrant();
            await importConnection(servers[0]!, 'short', 'aged', {
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: new Date(Date.now() - 1000).toISOString()
            });
            // The first call refreshes; the answer announces the new refresh token's 2 s lifetime.
            assert.equal((await me(nango, 'aged', 'short')).data.sub, 'user-1');
            const rt = ((await nango.getConnection('short', 'aged', false, true)) as Json).credentials.refresh_token as string;
            await waitFor('the refresh token to expire at the provider', async () => !(await short.isRefreshTokenActive(rt)));
            const f = await sdkFailure(me(nango, 'aged', 'short'));
            assert.equal(f.data.error.code, 'refresh_token_external_error');
            assert.equal((f.data.error.payload as Json).connection_status, 'expired');
            assert.match(f.data.error.message, /expired/);
            assert.equal(((await nango.listConnections({ connectionId: 'aged' })).connections[0] as Json).status, 'expired');
            const [hook] = await waitFor('the expired webhook', () => refreshWebhooks(receiver, 'aged')[0] && refreshWebhooks(receiver, 'aged'));
            assert.equal(JSON.parse(hook!.body).connectionStatus, 'expired');
        });

        it('never logs tokens', () => {
            for (const s of servers) assert.ok(!/"(access|refresh)_token":"[^[]/.test(s.output()));
        });
    });
}
