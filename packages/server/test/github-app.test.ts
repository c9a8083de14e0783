// GitHub App connections (auth mode APP): the install flow through /app-auth/connect, installation tokens minted
// from an RS256 app JWT, their renewal through the refresher, the proxy, and POST /connections imports, against
// a loopback stand-in for GitHub that verifies every JWT against the app's public key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import pg from 'pg';
import { startServer, removeDir, writeProvidersFile, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startGitHubStandIn, githubAppProviderYaml, rsaKeyPair, type GitHubStandIn } from './support/github-app.ts';
import { CookieJar, hop, freePort, openSdkSocket } from './support/browserless.ts';
import { startReceiver, waitFor, received, api, type Receiver } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { appJwt, parseRsaPrivateKey } from '../src/app-auth/jwt.ts';
import { checkAppJwt } from './support/github-app.ts';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';

type AppCreds = { type: string; access_token: string; expires_at?: string; raw: Record<string, unknown> };
const repos = (nango: Nango, id: string, key = 'gh') =>
    nango.get<{ repositories: Array<{ full_name: string }> }>({ endpoint: '/installation/repositories', providerConfigKey: key, connectionId: id });

async function importApp(server: TestServer, key: string, id: string, config: Record<string, unknown>, credentials: Record<string, unknown> = { type: 'APP' }) {
    return api(server, 'POST', '/connections', { provider_config_key: key, connection_id: id, credentials, connection_config: config });
}

it('the app JWT: RS256 over the app key, iss = app id, iat 60 s back, exp 9 minutes ahead; only RSA keys', async () => {
    const { privateKey } = rsaKeyPair();
    const parsed = parseRsaPrivateKey(privateKey);
    assert.ok(parsed.ok);
    const now = 1_700_000_000_000;
    const jwt = await appJwt('424242', parsed.key, now);
    const [header, claims] = jwt
        .split('.')
        .slice(0, 2)
        .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT' });
    assert.deepEqual(claims, { iat: now / 1000 - 60, exp: now / 1000 + 540, iss: '424242' });
    assert.deepEqual(checkAppJwt(jwt, createPublicKey(privateKey), '424242', now), { ok: true });
    assert.equal(checkAppJwt(jwt, createPublicKey(privateKey), '424242', now + 10 * 60 * 1000).ok, false, 'expired after 9 minutes');
    assert.equal(checkAppJwt(jwt, createPublicKey(rsaKeyPair().privateKey), '424242', now).ok, false, 'another key');
    const ec = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        privateKeyEncoding: { type: 'sec1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' }
    });
    assert.equal(parseRsaPrivateKey(ec.privateKey).ok, false);
    assert.deepEqual(parseRsaPrivateKey('garbage'), { ok: false, reason: 'not a PEM-encoded private key' });
});

describe('GitHub App connections', () => {
    let server: TestServer;
    let gh: GitHubStandIn;
    let nango: Nango;
    let receiver: Receiver;
    let publicUrl: string;

    before(async () => {
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        gh = await startGitHubStandIn();
        gh.setup.url = `${publicUrl}/app-auth/connect`;
        receiver = await startReceiver();
        server = await startServer({
            PORT: String(port),
            SWITCHBOARD_SERVER_URL: publicUrl,
            SWITCHBOARD_WEBHOOK_URL: receiver.url,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(githubAppProviderYaml(gh))
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        const app = { type: 'APP' as const, app_id: gh.appId, app_link: `${gh.url}/apps/test-app`, private_key: gh.privateKey };
        await nango.createIntegration({ provider: 'test-github-app', unique_key: 'gh', credentials: app } as never);
        // The same app id with a key that is not the app's: GitHub refuses every JWT it signs.
        await nango.createIntegration({
            provider: 'test-github-app',
            unique_key: 'gh-wrong-key',
            credentials: { ...app, private_key: rsaKeyPair().privateKey }
        } as never);
    });
    after(async () => {
        await server?.stop();
        await gh?.close();
        await receiver?.close();
        if (server) removeDir(server.dataDir);
    });

    const session = async () => (await nango.createConnectSession({ end_user: { id: 'gh-user' }, allowed_integrations: ['gh', 'gh-wrong-key'] })).data.token;

    /** The popup's path: /oauth/connect → GitHub's install page → the Setup URL, with one browser's cookies. */
    async function install(key = 'gh') {
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/${key}?connect_session_token=${await session()}&ws_client_id=${socket.clientId}`);
        await start.arrayBuffer();
        assert.equal(start.status, 302, 'redirects to the install page');
        const installPage = new URL(start.headers.get('location')!);
        const back = await hop(jar, installPage.href);
        await back.arrayBuffer();
        const callback = back.headers.get('location')!;
        const page = await hop(jar, callback);
        return { socket, installPage, callback: new URL(callback), page, html: await page.text(), jar };
    }

    it('an install creates the connection with a minted token, fires the auth webhook, and the proxy uses the token', async () => {
        const mints = gh.mints;
        const { socket, installPage, callback, page, html } = await install();
        assert.equal(installPage.origin + installPage.pathname, `${gh.url}/apps/test-app/installations/new`);
        assert.match(installPage.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.equal(callback.pathname, '/app-auth/connect');
        assert.equal(page.status, 200, html);
        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['message_type'], 'success');
        assert.equal(frame['is_pending'], false);
        const id = String(frame['connection_id']);
        assert.equal(gh.mints, mints + 1, 'one token minted at the callback');

        const conn = await nango.getConnection('gh', id);
        const creds = conn.credentials as unknown as AppCreds;
        assert.equal(creds.type, 'APP');
        assert.equal(creds.access_token, gh.tokens.at(-1));
        assert.ok(creds.expires_at && Date.parse(creds.expires_at) > Date.now() + 50 * 60 * 1000, 'GitHub expires_at is stored');
        assert.equal(conn.connection_config['installation_id'], '1001');
        assert.equal(conn.connection_config['app_id'], gh.appId);
        assert.equal(conn.end_user?.id, 'gh-user');
        assert.equal(await nango.getToken('gh', id).then((t) => (t as unknown as AppCreds).access_token), creds.access_token);

        const res = await repos(nango, id);
        assert.equal(res.data.repositories[0]?.full_name, 'installation-1001/repo');
        assert.equal(gh.mints, mints + 1, 'a fresh token is not renewed');
        await waitFor(
            'the auth creation webhook',
            () =>
                received(
                    receiver,
                    (b: { type?: string; operation?: string; success?: boolean; connectionId?: string }) =>
                        b.type === 'auth' && b.operation === 'creation' && b.success === true && b.connectionId === id
                ).length > 0
        );
    });

    it('an expired installation token is renewed exactly once under 30 concurrent proxy calls; force_refresh mints a new one', async () => {
        const expired = await importApp(
            server,
            'gh',
            'burst',
            { installation_id: 1001 },
            { type: 'APP', access_token: 'ghs_stale', expires_at: new Date(Date.now() - 1000).toISOString() }
        );
        assert.equal(expired.status, 201, JSON.stringify(expired.body));
        const mints = gh.mints;
        const results = await Promise.all(Array.from({ length: 30 }, () => repos(nango, 'burst')));
        assert.equal(gh.mints - mints, 1);
        for (const r of results) assert.equal(r.status, 200);
        const token = ((await nango.getConnection('gh', 'burst')).credentials as unknown as AppCreds).access_token;
        assert.equal(token, gh.tokens.at(-1));

        const forced = await Promise.all(Array.from({ length: 5 }, () => nango.getConnection('gh', 'burst', true)));
        assert.equal(gh.mints - mints, 2, 'concurrent forced calls share one mint');
        assert.notEqual((forced[0]!.credentials as unknown as AppCreds).access_token, token);
    });

    it('an import without a token mints one (and proves the installation is the app’s); a bad installation id is refused', async () => {
        const ok = await importApp(server, 'gh', 'imported', { installation_id: '1001' });
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
        assert.equal(ok.body.credentials.type, 'APP');
        assert.equal(ok.body.credentials.access_token, gh.tokens.at(-1));
        assert.equal((await repos(nango, 'imported')).status, 200);

        const missing = await importApp(server, 'gh', 'no-installation', {});
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error.code, 'missing_connection_config');
        const path = await importApp(server, 'gh', 'path-trick', { installation_id: '1001/../../x' });
        assert.equal(path.status, 400);
        const foreign = await importApp(server, 'gh', 'not-installed', { installation_id: '999' });
        assert.equal(foreign.status, 400);
        assert.equal(foreign.body.error.code, 'connection_test_failed');
        assert.match(foreign.body.error.message, /installation_not_found/);
    });

    it('deleting a connection revokes its installation token at GitHub (the app stays installed)', async () => {
        const made = await importApp(server, 'gh', 'to-delete', { installation_id: '1001' });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const token = made.body.credentials.access_token as string;
        const direct = () => fetch(`${gh.url}/installation/repositories`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal((await direct()).status, 200);
        await nango.deleteConnection('gh', 'to-delete');
        assert.equal((await direct()).status, 401, 'the token no longer works at GitHub');
        const revoke = gh.requests.filter((r) => r.method === 'DELETE' && r.url === '/installation/token');
        assert.equal(revoke.length, 1);
        const audit = await api(server, 'GET', '/admin/audit?connection_id=to-delete');
        const kinds = (audit.body.data as Array<{ kind: string; outcome: string; detail: { status?: number } }>).map((e) => [
            e.kind,
            e.outcome,
            e.detail.status
        ]);
        assert.deepEqual(kinds, [['revocation', 'revoked', 204]]);
        assert.ok(gh.installations.has('1001'), 'the installation itself is untouched');
    });

    it('a private key GitHub does not accept: clear error code, GitHub’s reason recorded, backoff, nothing minted', async () => {
        const imported = await importApp(server, 'gh-wrong-key', 'wrong', { installation_id: '1001' });
        assert.equal(imported.status, 400);
        assert.equal(imported.body.error.code, 'connection_test_failed');
        assert.match(imported.body.error.message, /app_authentication_failed/);

        const withToken = await importApp(
            server,
            'gh-wrong-key',
            'wrong-later',
            { installation_id: '1001' },
            { type: 'APP', access_token: 'ghs_given', expires_at: new Date(Date.now() + 3_600_000).toISOString() }
        );
        assert.equal(withToken.status, 201);
        const mints = gh.mints;
        const first = await sdkFailure(nango.getConnection('gh-wrong-key', 'wrong-later', true));
        assert.equal(first.status, 400);
        assert.equal(first.data.error.code, 'refresh_token_external_error');
        assert.match(first.data.error.message, /app_authentication_failed \(A JSON web token could not be decoded\)/);
        const second = await sdkFailure(nango.getConnection('gh-wrong-key', 'wrong-later', true));
        assert.equal(second.status, 424);
        assert.equal(second.data.error.code, 'connection_refresh_backoff');
        const conn = (await nango.getConnection('gh-wrong-key', 'wrong-later')) as unknown as {
            refresh_error: { type: string; description: string };
            status: string;
        };
        assert.equal(conn.refresh_error.type, 'app_authentication_failed');
        assert.equal(conn.status, 'active', 'an app misconfiguration does not expire the installation');
        assert.equal(gh.mints, mints);
    });

    it('an uninstalled app revokes the connection with installation_not_found (issue #12 item 6)', async () => {
        gh.installations.add('2002');
        assert.equal((await importApp(server, 'gh', 'uninstalled', { installation_id: '2002' })).status, 201);
        gh.installations.delete('2002');
        const failed = await sdkFailure(nango.getConnection('gh', 'uninstalled', true));
        assert.equal(failed.status, 400);
        assert.match(failed.data.error.message, /installation_not_found/);
        const conn = (await nango.getConnection('gh', 'uninstalled')) as unknown as { refresh_error: { type: string }; status: string };
        assert.equal(conn.refresh_error.type, 'installation_not_found');
        assert.equal(conn.status, 'revoked');
    });

    it('a callback without installation_id, with an unknown or missing state, or from another browser is refused', async () => {
        gh.setup.query = (state) => ({ setup_action: 'request', state });
        try {
            const mints = gh.mints;
            const { socket, page, html } = await install();
            assert.equal(page.status, 400);
            assert.match(html, /callback_err/);
            assert.match(html, /approve/);
            const frame = await socket.frame();
            socket.close();
            assert.equal(frame['error_type'], 'callback_err');
            assert.equal(gh.mints, mints);
            await waitFor(
                'the auth failure webhook',
                () =>
                    received(receiver, (b: { success?: boolean; error?: { type: string } }) => b.success === false && b.error?.type === 'callback_err').length >
                    0
            );
        } finally {
            gh.setup.query = (state) => ({ installation_id: '1001', setup_action: 'install', state });
        }
        const unknown = await fetch(`${publicUrl}/app-auth/connect?installation_id=1001&setup_action=install&state=not-a-state`);
        assert.equal(unknown.status, 400);
        assert.match(await unknown.text(), /state_err/);
        const missing = await fetch(`${publicUrl}/app-auth/connect?installation_id=1001&setup_action=install`);
        assert.equal(missing.status, 400);
        assert.match(await missing.text(), /state_err/);

        // The state of a real install, replayed from a browser without the binding cookie.
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/gh?connect_session_token=${await session()}&ws_client_id=${socket.clientId}`);
        assert.match(start.headers.getSetCookie()[0] ?? '', /Path=\/app-auth\/connect/i);
        const back = await hop(jar, start.headers.get('location')!);
        const mints = gh.mints;
        const stranger = await hop(new CookieJar(), back.headers.get('location')!);
        assert.equal(stranger.status, 400);
        assert.match(await stranger.text(), /state_cookie_err/);
        assert.equal((await socket.frame())['error_type'], 'state_cookie_err');
        socket.close();
        assert.equal(gh.mints, mints);

        // An install's state delivered to the OAuth callback (with its browser's cookies) does not complete there.
        const other = await openSdkSocket(publicUrl);
        const jar2 = new CookieJar();
        const start2 = await hop(jar2, `${publicUrl}/oauth/connect/gh?connect_session_token=${await session()}&ws_client_id=${other.clientId}`);
        const state = new URL(start2.headers.get('location')!).searchParams.get('state')!;
        const wrong = await hop(jar2, `${publicUrl}/oauth/callback?code=abc&state=${state}`);
        assert.equal(wrong.status, 400);
        assert.match(await wrong.text(), /wrong callback/);
        assert.equal((await other.frame())['error_type'], 'state_err');
        other.close();
        assert.equal(gh.mints, mints);
    });

    it('refuses an integration whose private key does not parse', async () => {
        const res = await api(server, 'POST', '/integrations', {
            provider: 'test-github-app',
            unique_key: 'gh-broken',
            credentials: {
                type: 'APP',
                app_id: '1',
                app_link: `${gh.url}/apps/test-app`,
                private_key: '-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n'
            }
        });
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, 'invalid_body');
        assert.ok(!JSON.stringify(res.body).includes('not a key'), 'the key is not echoed');
    });

    it('never logs the private key, an app JWT or an installation token', () => {
        const out = server.output();
        const keyBody = gh.privateKey.split('\n')[1]!;
        assert.ok(!out.includes(keyBody), 'private key in the logs');
        for (const jwt of gh.jwts) assert.ok(!out.includes(jwt.split('.')[2]!), 'a JWT in the logs');
        for (const token of gh.tokens) assert.ok(!out.includes(token), 'an installation token in the logs');
    });
});

describe('GitHub App connections on PostgreSQL, two instances', () => {
    it('an expired state is refused; an expired token is renewed once across both instances', async (t) => {
        const db = await createTestDatabase();
        const port = await freePort();
        const publicUrl = `http://127.0.0.1:${port}`;
        const gh = await startGitHubStandIn();
        gh.setup.url = `${publicUrl}/app-auth/connect`;
        const shared = {
            SWITCHBOARD_DATABASE_URL: db.url,
            SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
            SWITCHBOARD_PROVIDERS: writeProvidersFile(githubAppProviderYaml(gh))
        };
        const a = await startServer({ ...shared, PORT: String(port), SWITCHBOARD_SERVER_URL: publicUrl });
        const b = await startServer({ ...shared, SWITCHBOARD_SERVER_URL: publicUrl, SWITCHBOARD_SECRET_KEY: a.secretKey });
        const sql = new pg.Client({ connectionString: db.url });
        await sql.connect();
        t.after(async () => {
            await sql.end();
            await a.stop();
            await b.stop();
            await gh.close();
            await db.drop();
            removeDir(a.dataDir);
            removeDir(b.dataDir);
        });
        const nangoA = new Nango({ host: a.url, secretKey: a.secretKey });
        const nangoB = new Nango({ host: b.url, secretKey: a.secretKey });
        await nangoA.createIntegration({
            provider: 'test-github-app',
            unique_key: 'gh',
            credentials: { type: 'APP', app_id: gh.appId, app_link: `${gh.url}/apps/test-app`, private_key: gh.privateKey }
        } as never);

        const token = (await nangoA.createConnectSession({ end_user: { id: 'late-user' } })).data.token;
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/gh?connect_session_token=${token}&ws_client_id=${socket.clientId}`);
        const back = await hop(jar, start.headers.get('location')!);
        // The end user took longer than the transaction lives (10 minutes): age it rather than wait.
        await sql.query("UPDATE oauth_transactions SET expires_at = now() - interval '1 second'");
        const page = await hop(jar, back.headers.get('location')!);
        assert.equal(page.status, 400);
        assert.match(await page.text(), /expired/);
        assert.equal((await socket.frame())['error_type'], 'state_err');
        socket.close();
        assert.equal(gh.mints, 0);

        const imported = await importApp(
            a,
            'gh',
            'shared',
            { installation_id: '1001' },
            { type: 'APP', access_token: 'ghs_stale', expires_at: new Date(Date.now() - 1000).toISOString() }
        );
        assert.equal(imported.status, 201);
        const calls = Array.from({ length: 20 }, (_, i) => repos(i % 2 ? nangoA : nangoB, 'shared'));
        for (const r of await Promise.all(calls)) assert.equal(r.status, 200);
        assert.equal(gh.mints, 1, 'one mint across both instances');
    });
});
