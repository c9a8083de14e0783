// Browser OAuth flows (issue #3, item 2) without a browser: the SDK's WebSocket, /oauth/connect and
// /oauth/callback driven with fetch against oidc-provider on loopback. The Chromium tests cover the real SDK.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import pg from 'pg';
import { startServer, removeDir, writeProvidersFile, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { CookieJar, hop, loginAndConsent, freePort, openSdkSocket } from './support/browserless.ts';

describe('popup OAuth2 flow', () => {
    let server: TestServer;
    let as: TestAuthServer;
    let asB: TestAuthServer;
    let nango: Nango;
    let publicUrl: string;

    before(async () => {
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
        asB = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback`, clientId: 'client-at-b' });
        server = await startServer({
            PORT: String(port),
            SWITCHBOARD_SERVER_URL: publicUrl,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(providerYaml(as) + providerYaml(asB, 'test-oidc-b', ['openid']))
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        const credentials = { type: 'OAUTH2' as const, client_id: as.clientId, client_secret: as.clientSecret, scopes: 'openid,email,offline_access' };
        await nango.createIntegration({ provider: 'test-oidc', unique_key: 'oidc', credentials });
        await nango.createIntegration({ provider: 'test-oidc', unique_key: 'oidc-other', credentials });
        await nango.createIntegration({
            provider: 'test-oidc-b',
            unique_key: 'oidc-b',
            credentials: { type: 'OAUTH2', client_id: asB.clientId, client_secret: asB.clientSecret }
        });
    });
    after(async () => {
        await server?.stop();
        await as?.close();
        await asB?.close();
        if (server) removeDir(server.dataDir);
    });

    const session = async (body: Record<string, unknown> = {}) =>
        (
            await nango.createConnectSession({
                end_user: { id: 'user-1', email: 'user1@example.com' },
                organization: { id: 'org-1' },
                allowed_integrations: ['oidc'],
                tags: { plan: 'pro' },
                ...body
            })
        ).data.token;

    /** Starts a flow like the popup does; returns the provider URL, the browser's cookies and the socket. */
    async function start(token: string, extra = '', key = 'oidc') {
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const res = await hop(jar, `${publicUrl}/oauth/connect/${key}?connect_session_token=${token}&ws_client_id=${socket.clientId}${extra}`);
        await res.arrayBuffer();
        return { socket, jar, res, location: res.headers.get('location') ?? '' };
    }

    it('completes: PKCE S256, exact redirect URI, HttpOnly Lax cookie, WS success, end user and tags recorded', async () => {
        const token = await session();
        const { socket, jar, res, location } = await start(token);
        assert.equal(res.status, 302);
        const authorize = new URL(location);
        assert.equal(authorize.origin + authorize.pathname, as.authorizationUrl);
        assert.equal(authorize.searchParams.get('response_type'), 'code');
        assert.equal(authorize.searchParams.get('redirect_uri'), `${publicUrl}/oauth/callback`);
        assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
        assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.match(authorize.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.equal(authorize.searchParams.get('scope'), 'openid email offline_access');
        assert.equal(authorize.searchParams.get('code_verifier'), null);
        const cookie = res.headers.getSetCookie()[0] ?? '';
        assert.match(cookie, /HttpOnly/i);
        assert.match(cookie, /SameSite=Lax/i);
        assert.match(cookie, /Path=\/oauth\/callback/i);

        const callback = await loginAndConsent(location);
        assert.equal(callback.searchParams.get('iss'), as.issuer);
        const tokenRequests = as.counts.tokenRequests;
        const page = await hop(jar, callback.href);
        const html = await page.text();
        assert.equal(page.status, 200, html);
        assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
        assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
        assert.match(html, /postMessage\(message, origin\)/);
        assert.ok(html.includes(JSON.stringify(publicUrl)), 'posts to our own origin, never "*"');
        assert.ok(!html.includes(callback.searchParams.get('code')!), 'the code does not reach the page');

        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['message_type'], 'success');
        assert.equal(frame['provider_config_key'], 'oidc');
        assert.match(String(frame['connection_id']), /^[0-9a-f-]{36}$/);
        assert.equal(as.counts.tokenRequests, tokenRequests + 1);

        const list = await nango.listConnections({ endUserId: 'user-1' } as never);
        const mine = list.connections.find((c) => c.connection_id === frame['connection_id']);
        assert.ok(mine, 'listed under its end user');
        assert.equal(mine.end_user?.id, 'user-1');
        assert.equal(mine.tags?.['plan'], 'pro');
        assert.equal(mine.tags?.['end_user_id'], 'user-1');
        const conn = await nango.getConnection('oidc', String(frame['connection_id']));
        assert.equal((conn.credentials as { type: string }).type, 'OAUTH2');
        assert.ok(await as.isAccessTokenActive((conn.credentials as { access_token: string }).access_token));
        // The stored refresh token works: a forced refresh rotates it at the provider.
        const refreshed = await nango.getConnection('oidc', String(frame['connection_id']), true);
        assert.notEqual((refreshed.credentials as { access_token: string }).access_token, (conn.credentials as { access_token: string }).access_token);

        // Replaying the callback: the state was consumed, no second token request.
        const replay = await hop(jar, callback.href);
        assert.equal(replay.status, 400);
        assert.match(await replay.text(), /state_err/);
        assert.equal(as.counts.tokenRequests, tokenRequests + 2, 'only the forced refresh added a request');
    });

    it('rejects a callback from another browser, without a token request, and tells the SDK', async () => {
        const { socket, location } = await start(await session());
        const callback = await loginAndConsent(location);
        const before = as.counts.tokenRequests;
        const page = await hop(new CookieJar(), callback.href);
        assert.equal(page.status, 400);
        assert.match(await page.text(), /state_cookie_err/);
        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['message_type'], 'error');
        assert.equal(frame['error_type'], 'state_cookie_err');
        assert.equal(as.counts.tokenRequests, before);
    });

    it('rejects missing and unknown state and an issuer that is not the provider (mix-up)', async () => {
        const missing = await fetch(`${publicUrl}/oauth/callback?code=abc`);
        assert.equal(missing.status, 400);
        assert.match(await missing.text(), /state_err/);
        const unknown = await fetch(`${publicUrl}/oauth/callback?code=abc&state=not-a-state`);
        assert.equal(unknown.status, 400);

        const { socket, jar, location } = await start(await session());
        const callback = await loginAndConsent(location);
        callback.searchParams.set('iss', 'https://evil.example');
        const before = as.counts.tokenRequests;
        const page = await hop(jar, callback.href);
        assert.equal(page.status, 400);
        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['error_type'], 'issuer_mismatch');
        assert.equal(as.counts.tokenRequests, before);
    });

    it('mix-up: the response of provider A delivered into a provider-B transaction is rejected before any token request', async () => {
        const token = await session({ allowed_integrations: ['oidc', 'oidc-b'] });
        const a = await start(token, '', 'oidc');
        const fromA = await loginAndConsent(a.location);
        const b = await start(token, '', 'oidc-b');
        assert.ok(new URL(b.location).href.startsWith(asB.authorizationUrl));
        const stateB = new URL(b.location).searchParams.get('state')!;
        const before = [as.counts.tokenRequests, asB.counts.tokenRequests];
        const forged = new URL(`${publicUrl}/oauth/callback`);
        forged.searchParams.set('code', fromA.searchParams.get('code')!);
        forged.searchParams.set('iss', fromA.searchParams.get('iss')!);
        forged.searchParams.set('state', stateB);
        const page = await hop(b.jar, forged.href);
        assert.equal(page.status, 400);
        assert.equal((await b.socket.frame())['error_type'], 'issuer_mismatch');
        assert.deepEqual([as.counts.tokenRequests, asB.counts.tokenRequests], before, 'no token request at either provider');
        a.socket.close();
        b.socket.close();
    });

    it('only the exact callback path is a callback: variations are 404 and leave the transaction unused', async () => {
        const { socket, jar, location } = await start(await session());
        const callback = await loginAndConsent(location);
        const before = as.counts.tokenRequests;
        for (const path of ['/oauth/callback/', '/OAUTH/callback', '/oauth/Callback', '/oauth/callback/extra']) {
            const res = await hop(jar, `${publicUrl}${path}${callback.search}`);
            assert.equal(res.status, 404, path);
            await res.arrayBuffer();
        }
        assert.equal(as.counts.tokenRequests, before);
        const ok = await hop(jar, callback.href);
        assert.equal(ok.status, 200, 'the real callback still completes');
        assert.equal((await socket.frame())['message_type'], 'success');
        socket.close();
    });

    it('binds each code to its own transaction: two parallel flows cannot swap codes', async () => {
        const token = await session();
        const a = await start(token);
        const b = await start(token);
        const codeA = (await loginAndConsent(a.location)).searchParams.get('code')!;
        const callbackB = await loginAndConsent(b.location);
        callbackB.searchParams.set('code', codeA);
        const jar = new CookieJar();
        for (const [k, v] of [...a.jar.cookies, ...b.jar.cookies]) jar.cookies.set(k, v);
        const page = await hop(jar, callbackB.href);
        assert.equal(page.status, 400);
        const frame = await b.socket.frame();
        assert.equal(frame['error_type'], 'token_err', 'the PKCE verifier of B does not match the code of A');
        a.socket.close();
        b.socket.close();
    });

    it('reports provider errors, session constraints and bad input on the page and the socket', async () => {
        // The end user refused consent at the provider.
        const denied = await start(await session());
        const state = new URL(denied.location).searchParams.get('state')!;
        const page = await hop(denied.jar, `${publicUrl}/oauth/callback?state=${state}&error=access_denied&error_description=User+said+no`);
        assert.equal(page.status, 400);
        assert.match(await page.text(), /User said no/);
        const frame = await denied.socket.frame();
        assert.equal(frame['error_type'], 'callback_err');
        denied.socket.close();

        const cases: Array<[string, string, string]> = [
            ['integration not allowed', `/oauth/connect/oidc-other?connect_session_token=${await session()}`, 'integration_not_allowed'],
            ['connection id chosen by the browser', `/oauth/connect/oidc?connect_session_token=${await session()}&connection_id=mine`, 'invalid_query_params'],
            ['no session token', '/oauth/connect/oidc', 'missing_connect_session_token'],
            ['unknown session token', `/oauth/connect/oidc?connect_session_token=nango_connect_session_${'0'.repeat(64)}`, 'unknown_connect_session_token'],
            ['unknown integration', `/oauth/connect/nope?connect_session_token=${await session({ allowed_integrations: [] })}`, 'unknown_config_key'],
            [
                'client override from the browser',
                `/oauth/connect/oidc?connect_session_token=${await session()}&credentials[oauth_client_id_override]=x`,
                'invalid_query_params'
            ],
            [
                'reserved authorization param',
                `/oauth/connect/oidc?connect_session_token=${await session()}&authorization_params[redirect_uri]=https://evil.example`,
                'invalid_query_params'
            ]
        ];
        for (const [name, path, type] of cases) {
            const socket = await openSdkSocket(publicUrl);
            const res = await fetch(`${publicUrl}${path}${path.includes('?') ? '&' : '?'}ws_client_id=${socket.clientId}`, { redirect: 'manual' });
            assert.equal(res.status, 400, name);
            assert.equal(res.headers.get('location'), null, `${name}: no redirect`);
            assert.match(await res.text(), new RegExp(type), name);
            const f = await socket.frame();
            assert.equal(f['message_type'], 'error', name);
            assert.equal(f['error_type'], type, name);
            socket.close();
        }
    });

    it('reconnect sessions override the same connection id', async () => {
        const first = await start(await session());
        const cb = await loginAndConsent(first.location);
        await (await hop(first.jar, cb.href)).arrayBuffer();
        const connectionId = String((await first.socket.frame())['connection_id']);
        first.socket.close();
        const before = await nango.getConnection('oidc', connectionId);

        const reconnect = (await nango.createReconnectSession({ connection_id: connectionId, integration_id: 'oidc' })).data.token;
        const again = await start(reconnect);
        await (await hop(again.jar, (await loginAndConsent(again.location, 'carol')).href)).arrayBuffer();
        const frame = await again.socket.frame();
        again.socket.close();
        assert.equal(frame['message_type'], 'success');
        assert.equal(frame['connection_id'], connectionId);
        const after = await nango.getConnection('oidc', connectionId);
        assert.notEqual((after.credentials as { access_token: string }).access_token, (before.credentials as { access_token: string }).access_token);
    });

    it('keeps WebSocket clients alive with pings and answers a plain GET /', async () => {
        const res = await fetch(`${publicUrl}/`);
        assert.equal(res.status, 200);
        const socket = await openSdkSocket(publicUrl);
        assert.match(socket.clientId, /^[0-9a-f-]{36}$/);
        socket.close();
    });
});

describe('popup OAuth2 flow on PostgreSQL', () => {
    it('an expired state is refused without a token request, and the SDK hears of it', async (t) => {
        const db = await createTestDatabase();
        const port = await freePort();
        const publicUrl = `http://127.0.0.1:${port}`;
        const as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
        const server = await startServer({
            PORT: String(port),
            SWITCHBOARD_SERVER_URL: publicUrl,
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_PROVIDERS: writeProvidersFile(providerYaml(as, 'test-oidc', ['openid']))
        });
        const sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        t.after(async () => {
            await sql.end();
            await server.stop();
            await as.close();
            await db.drop();
            removeDir(server.dataDir);
        });
        const nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({
            provider: 'test-oidc',
            unique_key: 'oidc',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
        const token = (await nango.createConnectSession({ end_user: { id: 'late-user' } })).data.token;
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/oidc?connect_session_token=${token}&ws_client_id=${socket.clientId}`);
        const callback = await loginAndConsent(start.headers.get('location')!);
        // The end user took longer than the transaction lives (10 minutes): age it rather than wait.
        await sql.query("UPDATE oauth_transactions SET expires_at = now() - interval '1 second'");
        const before = as.counts.tokenRequests;
        const page = await hop(jar, callback.href);
        assert.equal(page.status, 400);
        assert.match(await page.text(), /expired/);
        assert.equal((await socket.frame())['error_type'], 'state_err');
        socket.close();
        assert.equal(as.counts.tokenRequests, before);
        assert.equal((await sql.query('SELECT count(*)::int AS n FROM oauth_transactions')).rows[0].n, 0, 'consumed even though expired');
    });
});
