// Refresh, rotation, failure reasons and revocation against a real authorization server (oidc-provider) on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { sdkFailure } from './support/sdk.ts';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';

function providersFor(as: TestAuthServer, extra = ''): string {
    return writeProvidersFile(`
test-oidc:
  display_name: Test OIDC
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  revocation_url: ${as.revocationUrl}
  proxy:
    base_url: ${as.issuer}
test-oidc-basic:
  display_name: Test OIDC (Basic client auth)
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  token_request_auth_method: basic
  proxy:
    base_url: ${as.issuer}
${extra}`);
}

async function importConnection(
    server: TestServer,
    key: string,
    id: string,
    grant: { accessToken: string; refreshToken: string },
    expiresInMs: number
): Promise<void> {
    const res = await fetch(`${server.url}/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
            provider_config_key: key,
            connection_id: id,
            credentials: {
                type: 'OAUTH2',
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: new Date(Date.now() + expiresInMs).toISOString()
            }
        })
    });
    assert.equal(res.status, 201, await res.text());
}

const me = (nango: Nango, id: string, key = 'oidc') => nango.get<{ sub: string }>({ endpoint: '/me', providerConfigKey: key, connectionId: id });

describe('refresh on one instance (embedded PGlite)', () => {
    let as: TestAuthServer;
    let server: TestServer;
    let nango: Nango;

    before(async () => {
        as = await startAuthServer();
        server = await startServer({ SWITCHBOARD_PROVIDERS: providersFor(as) });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({
            provider: 'test-oidc',
            unique_key: 'oidc',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
        await nango.createIntegration({
            provider: 'test-oidc-basic',
            unique_key: 'oidc-basic',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
    });
    after(async () => {
        await server?.stop();
        await as?.close();
        if (server) removeDir(server.dataDir);
    });

    it('50 concurrent proxy calls on an expired connection make exactly one token request and all succeed', async () => {
        const grant = await as.mintGrant({ accessTokenTtl: 1 });
        await importConnection(server, 'oidc', 'burst', grant, -1000);
        const before = as.counts.refresh;
        const results = await Promise.all(Array.from({ length: 50 }, () => me(nango, 'burst')));
        assert.equal(as.counts.refresh - before, 1);
        assert.equal(as.counts.failedRefresh, 0);
        for (const r of results) assert.equal(r.data.sub, 'user-1');
        // Rotation: the old refresh token was consumed, the stored one is the new one and works.
        assert.equal(await as.isRefreshTokenActive(grant.refreshToken), false);
        const conn = await nango.getConnection('oidc', 'burst', false, true);
        const rt = (conn.credentials as { refresh_token: string }).refresh_token;
        assert.notEqual(rt, grant.refreshToken);
        assert.equal(await as.isRefreshTokenActive(rt), true);
    });

    it('refreshes a connection expiring within 15 minutes, with Basic client authentication', async () => {
        const grant = await as.mintGrant();
        await importConnection(server, 'oidc-basic', 'soon', grant, 10 * 60 * 1000);
        const before = as.counts.refresh;
        const token = await nango.getToken('oidc-basic', 'soon');
        assert.notEqual(token, grant.accessToken);
        assert.equal(as.counts.refresh - before, 1);
        assert.equal(as.events.filter((e) => e.kind === 'refresh').at(-1)?.clientAuth, 'client_secret_basic');
        // Fresh now: no further token request.
        await nango.getToken('oidc-basic', 'soon');
        assert.equal(as.counts.refresh - before, 1);
    });

    it('force_refresh always refreshes; concurrent forced calls share one refresh', async () => {
        const grant = await as.mintGrant();
        await importConnection(server, 'oidc', 'forced', grant, 3_600_000);
        const before = as.counts.refresh;
        const tokens = await Promise.all(Array.from({ length: 5 }, () => nango.getToken('oidc', 'forced', true)));
        assert.equal(as.counts.refresh - before, 1);
        assert.equal(new Set(tokens).size, 1);
        assert.notEqual(tokens[0], grant.accessToken);
    });

    it('a wrong client secret gives a clear error, records the reason and backs off for 30 s', async () => {
        const grant = await as.mintGrant();
        await importConnection(server, 'oidc', 'badsecret', grant, 3_600_000);
        const realSecret = as.clientSecret;
        as.setClientSecret('rotated-by-the-provider');
        try {
            const first = await sdkFailure(nango.getConnection('oidc', 'badsecret', true));
            assert.equal(first.status, 400);
            assert.equal(first.data.error.code, 'refresh_token_external_error');
            assert.match(first.data.error.message, /invalid_client/);
            const second = await sdkFailure(nango.getConnection('oidc', 'badsecret', true));
            assert.equal(second.status, 424);
            assert.equal(second.data.error.code, 'connection_refresh_backoff');
            const conn = (await nango.getConnection('oidc', 'badsecret')) as unknown as { refresh_error: { type: string }; errors: unknown[]; status: string };
            assert.equal(conn.refresh_error.type, 'invalid_client');
            assert.equal(conn.errors.length, 1);
            assert.equal(conn.status, 'active', 'a client misconfiguration does not expire the end user connection');
            // The refresh token was not consumed by the failed attempt.
            assert.equal(await as.isRefreshTokenActive(grant.refreshToken), true);
        } finally {
            as.setClientSecret(realSecret);
        }
    });

    it('a revoked grant marks the connection revoked with the provider reason (issue #12 item 6)', async () => {
        const grant = await as.mintGrant();
        await importConnection(server, 'oidc', 'revoked', grant, -1000);
        const revoke = await fetch(as.revocationUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token: grant.refreshToken, client_id: as.clientId, client_secret: as.clientSecret })
        });
        assert.equal(revoke.status, 200);
        const res = await sdkFailure(me(nango, 'revoked'));
        assert.equal(res.data.error.code, 'refresh_token_external_error');
        assert.match(res.data.error.message, /invalid_grant/);
        const list = await nango.listConnections({ connectionId: 'revoked' });
        assert.equal((list.connections[0] as unknown as { status: string }).status, 'revoked');
    });

    it('deleting a connection revokes its refresh token at the provider first and records the outcome', async () => {
        const grant = await as.mintGrant();
        await importConnection(server, 'oidc', 'bye', grant, 3_600_000);
        const before = as.counts.revocation;
        await nango.deleteConnection('oidc', 'bye');
        assert.equal(as.counts.revocation - before, 1);
        assert.equal(await as.isRefreshTokenActive(grant.refreshToken), false);
        const audit = (await (
            await fetch(`${server.url}/admin/audit?connection_id=bye`, { headers: { authorization: `Bearer ${server.secretKey}` } })
        ).json()) as { data: Array<{ kind: string; outcome: string }> };
        assert.deepEqual(
            audit.data.map((e) => [e.kind, e.outcome]),
            [['revocation', 'revoked']]
        );
    });

    it('never logs tokens or secrets', () => {
        const out = server.output();
        assert.ok(!out.includes(as.clientSecret));
        assert.ok(!/"(access|refresh)_token":"[^[]/.test(out));
    });
});

describe('refresh with a provider that does not rotate refresh tokens', () => {
    it('keeps the old refresh token when the response has none; renews token_response_metadata paths; a null expires_at is absent', async () => {
        let calls = 0;
        const upstream = await startUpstream((req, res) => {
            if (req.url === '/token') {
                calls++;
                const form = new URLSearchParams(req.body);
                if (form.get('refresh_token') !== 'long-lived-rt' || form.has('scope')) return json(res, 400, { error: 'invalid_grant' });
                return json(res, 200, { access_token: `at-${calls}`, expires_in: 3600, expires_at: null, token_type: 'bearer', team: { id: `T-${calls}` } });
            }
            json(res, 200, { auth: req.headers.authorization });
        });
        const server = await startServer({
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
static-rt:
  display_name: Static RT
  auth_mode: OAUTH2
  authorization_url: ${upstream.url}/authorize
  token_url: ${upstream.url}/token
  token_response_metadata: [team.id]
  proxy:
    base_url: ${upstream.url}
`)
        });
        try {
            const nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({ provider: 'static-rt', unique_key: 's', credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' } });
            await importConnection(server, 's', 'c1', { accessToken: 'at-0', refreshToken: 'long-lived-rt' }, -1);
            const r1 = await nango.get<{ auth: string }>({ endpoint: '/x', providerConfigKey: 's', connectionId: 'c1' });
            assert.equal(r1.data.auth, 'Bearer at-1');
            await nango.getConnection('s', 'c1', true);
            assert.equal(calls, 2, 'the second refresh reused the original refresh token');
            const conn = await nango.getConnection('s', 'c1', false, true);
            assert.equal((conn.credentials as { refresh_token: string }).refresh_token, 'long-lived-rt');
            assert.equal(conn.connection_config['team.id'], 'T-2', 'the nested metadata of the latest refresh');
            assert.ok(Date.parse((conn.credentials as { expires_at: string }).expires_at) > Date.now() + 50 * 60_000, 'expires_in, not the null expires_at');
        } finally {
            await server.stop();
            await upstream.close();
            removeDir(server.dataDir);
        }
    });
});

describe('refresh across three instances sharing one PostgreSQL', () => {
    let as: TestAuthServer;
    let servers: TestServer[] = [];
    let db: Awaited<ReturnType<typeof createTestDatabase>>;

    before(async () => {
        as = await startAuthServer();
        db = await createTestDatabase();
        const env = {
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_SECRET_KEY: crypto.randomUUID(),
            SWITCHBOARD_PROVIDERS: providersFor(as)
        };
        servers = await Promise.all([0, 1, 2].map(() => startServer(env)));
        const nango = new Nango({ host: servers[0]!.url, secretKey: env.SWITCHBOARD_SECRET_KEY });
        await nango.createIntegration({
            provider: 'test-oidc',
            unique_key: 'oidc',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
    });
    after(async () => {
        await Promise.all(servers.map((s) => s.stop()));
        await as?.close();
        await db?.drop();
        for (const s of servers) removeDir(s.dataDir);
    });

    it('50 concurrent proxy calls spread over 3 instances make exactly one token request', async () => {
        for (let round = 0; round < 3; round++) {
            const grant = await as.mintGrant({ accessTokenTtl: 1 });
            const id = `multi-${round}`;
            await importConnection(servers[0]!, 'oidc', id, grant, -1000);
            const before = as.counts.refresh;
            const clients = servers.map((s) => new Nango({ host: s.url, secretKey: s.secretKey }));
            const results = await Promise.all(Array.from({ length: 50 }, (_, i) => me(clients[i % 3]!, id)));
            assert.equal(as.counts.refresh - before, 1, `round ${round}`);
            assert.equal(as.counts.failedRefresh, 0);
            assert.equal(results.length, 50);
            for (const r of results) assert.equal(r.data.sub, 'user-1');
        }
    });

    it('a connection deleted on one instance stops working on the others (cache invalidated over LISTEN/NOTIFY)', async () => {
        const grant = await as.mintGrant();
        await importConnection(servers[0]!, 'oidc', 'gone', grant, 3_600_000);
        const [a, b] = servers.map((s) => new Nango({ host: s.url, secretKey: s.secretKey }));
        assert.equal((await me(b!, 'gone')).data.sub, 'user-1');
        await a!.deleteConnection('oidc', 'gone');
        // Well under the cache's 10 s expiry: only a notification can explain the miss.
        let code: string | undefined;
        for (let i = 0; i < 20 && code === undefined; i++) {
            code = await me(b!, 'gone').then(
                () => undefined,
                (err: { response?: { data: { error: { code: string } } } }) => err.response?.data.error.code
            );
            if (code === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(code, 'unknown_connection');
    });
});

describe('background refresher', () => {
    it('refreshes idle connections that expire within 15 minutes', async () => {
        const as = await startAuthServer();
        const server = await startServer({ SWITCHBOARD_PROVIDERS: providersFor(as), SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: '1' });
        try {
            const nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
            });
            const idle = await as.mintGrant();
            const later = await as.mintGrant();
            await importConnection(server, 'oidc', 'idle', idle, 5 * 60 * 1000);
            await importConnection(server, 'oidc', 'later', later, 60 * 60 * 1000);
            const deadline = Date.now() + 20_000;
            while (as.counts.refresh < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
            assert.equal(as.counts.refresh, 1, 'only the connection expiring soon was refreshed');
            assert.equal(await as.isRefreshTokenActive(idle.refreshToken), false);
            assert.equal(await as.isRefreshTokenActive(later.refreshToken), true);
        } finally {
            await server.stop();
            await as.close();
            removeDir(server.dataDir);
        }
    });
});
