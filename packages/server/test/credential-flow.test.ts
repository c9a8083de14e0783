// Non-popup browser auth (API key, basic, client credentials; docs/compatibility.md, "Browser flows") and the OAuth 1.0a popup
// flow, against loopback stand-ins for the providers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { startOAuth1Server } from './support/oauth1-server.ts';
import { CookieJar, hop, openSdkSocket } from './support/browserless.ts';
import { startReceiver, waitFor, received, type Receiver } from './support/webhooks.ts';

describe('credential routes and OAuth 1.0a', () => {
    let server: TestServer;
    let nango: Nango;
    let api: Awaited<ReturnType<typeof startUpstream>>;
    let oauth1: Awaited<ReturnType<typeof startOAuth1Server>>;
    let receiver: Receiver;

    before(async () => {
        receiver = await startReceiver();
        api = await startUpstream((req, res) => {
            const auth = String(req.headers.authorization ?? '');
            if (req.url === '/v1/me') return auth === 'Bearer good-key' ? json(res, 200, { id: 'me' }) : json(res, 401, { error: 'bad key' });
            if (req.url === '/basic/me') return auth === `Basic ${Buffer.from('ann:pw').toString('base64')}` ? json(res, 200, {}) : json(res, 403, {});
            if (req.url === '/oauth/token') {
                const ok = auth === `Basic ${Buffer.from('cc-id:cc-secret').toString('base64')}` && req.body.includes('grant_type=client_credentials');
                return ok ? json(res, 200, { access_token: 'cc-token', expires_in: 3600, token_type: 'bearer' }) : json(res, 401, { error: 'invalid_client' });
            }
            json(res, 404, {});
        });
        oauth1 = await startOAuth1Server('ckey', 'csecret');
        server = await startServer({
            SWITCHBOARD_WEBHOOK_URL: receiver.url,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
test-apikey:
  display_name: Test API key
  auth_mode: API_KEY
  proxy:
    base_url: ${api.url}
    headers:
      authorization: Bearer \${apiKey}
    verification:
      method: GET
      endpoints: [/v1/me]
test-basic:
  display_name: Test basic
  auth_mode: BASIC
  proxy:
    base_url: ${api.url}
    verification:
      method: GET
      endpoints: [/basic/me]
test-cc:
  display_name: Test client credentials
  auth_mode: OAUTH2_CC
  token_url: ${api.url}/oauth/token
  token_request_auth_method: basic
  proxy:
    base_url: ${api.url}
test-oauth1:
  display_name: Test OAuth1
  auth_mode: OAUTH1
  request_url: ${oauth1.url}/request_token
  authorization_url: ${oauth1.url}/authorize
  token_url: ${oauth1.url}/access_token
  proxy:
    base_url: ${oauth1.url}
`)
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'test-apikey', unique_key: 'apikey' });
        await nango.createIntegration({ provider: 'test-basic', unique_key: 'basic' });
        await nango.createIntegration({ provider: 'test-cc', unique_key: 'cc' });
        await nango.createIntegration({
            provider: 'test-oauth1',
            unique_key: 'o1',
            credentials: { type: 'OAUTH1', client_id: 'ckey', client_secret: 'csecret' }
        });
    });
    after(async () => {
        await server?.stop();
        await api?.close();
        await oauth1?.close();
        await receiver?.close();
        if (server) removeDir(server.dataDir);
    });

    const session = async (allowed?: string[]) =>
        (await nango.createConnectSession({ end_user: { id: 'eu-7' }, ...(allowed ? { allowed_integrations: allowed } : {}) })).data.token;
    // What @nangohq/frontend's auth(key, { credentials }) sends (docs/compatibility.md, "Browser flows").
    const post = async (path: string, token: string | undefined, body: unknown) => {
        const res = await fetch(`${server.url}${path}${token ? `?connect_session_token=${token}` : ''}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body)
        });
        return {
            status: res.status,
            body: (await res.json()) as { connectionId?: string; providerConfigKey?: string; error?: { code: string; message: string } }
        };
    };

    it('API key: checked with the provider, stored under the end user, usable through the proxy', async () => {
        const ok = await post('/api-auth/api-key/apikey', await session(), { apiKey: 'good-key' });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body.providerConfigKey, 'apikey');
        const conn = await nango.getConnection('apikey', ok.body.connectionId!);
        assert.equal(conn.end_user?.id, 'eu-7');
        assert.deepEqual(conn.credentials, { type: 'API_KEY', apiKey: 'good-key' });
        const proxied = await nango.get({ endpoint: '/v1/me', providerConfigKey: 'apikey', connectionId: ok.body.connectionId! });
        assert.deepEqual(proxied.data, { id: 'me' });
    });

    it('API key: a key the provider rejects is not stored', async () => {
        const before = (await nango.listConnections()).connections.length;
        const bad = await post('/api-auth/api-key/apikey', await session(), { apiKey: 'wrong' });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error?.code, 'connection_test_failed');
        assert.match(bad.body.error?.message ?? '', /rejected/);
        assert.equal((await nango.listConnections()).connections.length, before);
        // The app hears of the refusal, and of the earlier success.
        const [fail] = await waitFor('the failure webhook', () => {
            const h = received(
                receiver,
                (b: { success?: boolean; error?: { type: string } }) => b.success === false && b.error?.type === 'connection_test_failed'
            );
            return h.length ? h : undefined;
        });
        assert.equal((JSON.parse(fail!.body) as { providerConfigKey: string }).providerConfigKey, 'apikey');
        await waitFor(
            'the creation webhook',
            () =>
                received(
                    receiver,
                    (b: { operation?: string; success?: boolean; providerConfigKey?: string }) =>
                        b.operation === 'creation' && b.success === true && b.providerConfigKey === 'apikey'
                ).length > 0
        );
    });

    it('basic and client credentials', async () => {
        const basic = await post('/api-auth/basic/basic', await session(), { username: 'ann', password: 'pw' });
        assert.equal(basic.status, 200, JSON.stringify(basic.body));
        const badBasic = await post('/api-auth/basic/basic', await session(), { username: 'ann', password: 'nope' });
        assert.equal(badBasic.body.error?.code, 'connection_test_failed');

        const cc = await post('/oauth2/auth/cc', await session(), { client_id: 'cc-id', client_secret: 'cc-secret' });
        assert.equal(cc.status, 200, JSON.stringify(cc.body));
        const conn = await nango.getConnection('cc', cc.body.connectionId!);
        assert.equal((conn.credentials as { token?: string }).token, 'cc-token');
        const badCc = await post('/oauth2/auth/cc', await session(), { client_id: 'cc-id', client_secret: 'wrong' });
        assert.equal(badCc.status, 400);
        assert.equal(badCc.body.error?.code, 'connection_test_failed');
    });

    it('refuses wrong auth modes, disallowed integrations, chosen connection ids and missing tokens', async () => {
        assert.equal((await post('/api-auth/api-key/basic', await session(), { apiKey: 'x' })).body.error?.code, 'invalid_auth_mode');
        assert.equal((await post('/api-auth/api-key/apikey', await session(['basic']), { apiKey: 'good-key' })).body.error?.code, 'integration_not_allowed');
        const chosen = await fetch(`${server.url}/api-auth/api-key/apikey?connect_session_token=${await session()}&connection_id=victim`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ apiKey: 'good-key' })
        });
        assert.equal(chosen.status, 400);
        assert.deepEqual(((await chosen.json()) as { error: { errors: Array<{ path: string[] }> } }).error.errors[0]?.path, ['connection_id']);
        const none = await post('/api-auth/api-key/apikey', undefined, { apiKey: 'good-key' });
        assert.equal(none.status, 401);
        assert.equal(none.body.error?.code, 'missing_connect_session_token');
        assert.equal((await post('/api-auth/api-key/apikey', await session(), { apiKey: '' })).body.error?.code, 'invalid_body');
        assert.equal((await post('/api-auth/api-key/nope', await session(), { apiKey: 'x' })).body.error?.code, 'unknown_provider_config');
    });

    it('OAuth 1.0a: request token, authorize, access token, then signed proxy calls', async () => {
        const socket = await openSdkSocket(server.url);
        const jar = new CookieJar();
        const start = await hop(jar, `${server.url}/oauth/connect/o1?connect_session_token=${await session()}&ws_client_id=${socket.clientId}`);
        assert.equal(start.status, 302);
        const authorize = await hop(new CookieJar(), start.headers.get('location')!);
        const callback = authorize.headers.get('location')!;
        assert.ok(callback.startsWith(`${server.url.replace('127.0.0.1', 'localhost')}/oauth/callback?state=`), callback);
        const page = await hop(jar, callback.replace('localhost', '127.0.0.1'));
        assert.equal(page.status, 200, await page.text());
        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['message_type'], 'success');
        const conn = await nango.getConnection('o1', String(frame['connection_id']));
        assert.equal((conn.credentials as { oauth_token: string }).oauth_token, oauth1.issued[0]);
        const me = await nango.get({ endpoint: '/1/members/me', providerConfigKey: 'o1', connectionId: String(frame['connection_id']) });
        assert.deepEqual(me.data, { id: 'member-42' });

        // A callback whose oauth_token is not the one this transaction holds is refused.
        const socket2 = await openSdkSocket(server.url);
        const jar2 = new CookieJar();
        const start2 = await hop(jar2, `${server.url}/oauth/connect/o1?connect_session_token=${await session()}&ws_client_id=${socket2.clientId}`);
        const cb2 = new URL((await hop(new CookieJar(), start2.headers.get('location')!)).headers.get('location')!.replace('localhost', '127.0.0.1'));
        cb2.searchParams.set('oauth_token', 'forged');
        const refused = await hop(jar2, cb2.href);
        assert.equal(refused.status, 400);
        assert.equal((await socket2.frame())['error_type'], 'callback_err');
        socket2.close();
    });
});
