// The official @nangohq/node SDK, unmodified, against Switchboard started as the README starts it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { sdkFailure } from './support/sdk.ts';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

describe('@nangohq/node against Switchboard', () => {
    let server: TestServer;
    let upstream: Upstream;
    let nango: Nango;
    let flaky = 0;

    before(async () => {
        upstream = await startUpstream((req, res) => {
            if (req.url.includes('/flaky')) {
                flaky++;
                if (flaky <= 2) return json(res, flaky === 1 ? 503 : 429, { error: 'busy' }, flaky === 2 ? { 'retry-after': '0' } : {});
            }
            if (req.url.includes('/fail')) return json(res, 422, { message: 'unprocessable', detail: 'upstream says no' }, { 'x-upstream': 'yes' });
            if (req.url.includes('/big')) {
                res.writeHead(200, { 'content-type': 'application/octet-stream' });
                const chunk = Buffer.alloc(64 * 1024, 97);
                for (let i = 0; i < 160; i++) res.write(chunk);
                return void res.end();
            }
            json(res, 200, { method: req.method, url: req.url, headers: req.headers, body: req.body });
        });
        const providers = writeProvidersFile(`
acme-key:
  display_name: Acme (API key)
  auth_mode: API_KEY
  proxy:
    base_url: ${upstream.url}/api
    headers:
      x-api-key: \${apiKey}
    query:
      tenant: \${connectionConfig.tenant || 'default'}
    base_url_allowlist: ['http://127.0.0.1:1/allowed']
acme-basic:
  display_name: Acme (basic)
  auth_mode: BASIC
  proxy:
    base_url: ${upstream.url}
acme-oauth2:
  display_name: Acme (OAuth2)
  auth_mode: OAUTH2
  authorization_url: ${upstream.url}/authorize
  token_url: ${upstream.url}/token
  connection_config:
    subdomain: { type: string, pattern: '^[a-z0-9-]+$' }
  proxy:
    base_url: ${upstream.url}/\${connectionConfig.subdomain}
acme-oauth1:
  display_name: Acme (OAuth1)
  auth_mode: OAUTH1
  request_url: ${upstream.url}/oauth/request_token
  authorization_url: ${upstream.url}/oauth/authorize
  token_url: ${upstream.url}/oauth/access_token
  proxy:
    base_url: ${upstream.url}
`);
        server = await startServer({ SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_BODY_LIMIT_BYTES: String(1024 * 1024) });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
    });

    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    it('serves the provider catalogue', async () => {
        const list = await nango.listProviders({});
        assert.ok(list.data.length >= 25);
        const google = await nango.getProvider({ provider: 'google-calendar' });
        assert.equal(google.data.auth_mode, 'OAUTH2');
        assert.match(String((google.data as { logo_url?: string }).logo_url), /\/images\/template-logos\/google-calendar\.svg$/);
        assert.equal((await sdkFailure(nango.getProvider({ provider: 'nope' }))).status, 404);
    });

    it('creates, reads, updates and deletes integrations', async () => {
        const created = await nango.createIntegration({
            provider: 'github',
            unique_key: 'gh',
            credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret', scopes: 'repo,user' }
        });
        assert.equal(created.data.unique_key, 'gh');
        assert.equal(created.data.display_name, 'GitHub');
        const { configs } = await nango.listIntegrations();
        assert.deepEqual(
            configs.map((c) => c.unique_key),
            ['gh']
        );
        const withCreds = await nango.getIntegration({ uniqueKey: 'gh' }, { include: ['credentials'] });
        assert.deepEqual(withCreds.data.credentials, { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret', scopes: 'repo,user', webhook_secret: null });
        const updated = await nango.updateIntegration({ uniqueKey: 'gh' }, { display_name: 'GitHub (prod)', unique_key: 'github-prod' });
        assert.equal(updated.data.unique_key, 'github-prod');
        assert.equal(updated.data.display_name, 'GitHub (prod)');
        const legacy = (await (
            await fetch(`${server.url}/config/github-prod?include_creds=true`, { headers: { authorization: `Bearer ${server.secretKey}` } })
        ).json()) as { config: Record<string, unknown> };
        assert.equal(legacy.config['unique_key'], 'github-prod');
        assert.equal(legacy.config['client_secret'], 'csecret');
        assert.deepEqual(legacy.config['syncs'], []);
        const del = await nango.deleteIntegration('github-prod');
        assert.deepEqual(del.data, { success: true });
        assert.equal((await sdkFailure(nango.getIntegration({ uniqueKey: 'github-prod' }))).status, 404);
    });

    it('refuses bad integration input with Nango error codes and changes nothing', async () => {
        const unknownProvider = await sdkFailure(nango.createIntegration({ provider: 'no-such-provider', unique_key: 'x' }));
        assert.equal(unknownProvider.status, 400);
        assert.equal(unknownProvider.data.error?.code, 'invalid_body');
        const unknownField = await sdkFailure(nango.createIntegration({ provider: 'stripe', unique_key: 'x', bogus: 1 } as never));
        assert.equal(unknownField.data.error?.code, 'invalid_body');
        const wrongType = await sdkFailure(
            nango.createIntegration({ provider: 'github', unique_key: 'x', credentials: { type: 'OAUTH1', client_id: 'a', client_secret: 'b' } })
        );
        assert.equal(wrongType.data.error?.code, 'invalid_body');
        await nango.createIntegration({ provider: 'stripe', unique_key: 'dup' });
        const dup = await sdkFailure(nango.createIntegration({ provider: 'stripe', unique_key: 'dup' }));
        assert.equal(dup.data.error?.code, 'invalid_body');
        await nango.deleteIntegration('dup');
        assert.deepEqual((await nango.listIntegrations()).configs, []);
        const bad = new Nango({ host: server.url, secretKey: 'not-the-key' });
        const unauth = await sdkFailure(bad.listIntegrations());
        assert.equal(unauth.status, 401);
        assert.equal(unauth.data.error?.code, 'unknown_account');
    });

    it('imports, lists, reads, patches and deletes connections', async () => {
        await nango.createIntegration({ provider: 'acme-key', unique_key: 'acme' });
        const created = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: 'acme',
                connection_id: 'tenant-1:acme',
                credentials: { type: 'API_KEY', apiKey: 'key-1' },
                connection_config: { tenant: 't1' },
                end_user: { id: 'u1', email: 'u1@example.com' },
                tags: { plan: 'pro' }
            })
        });
        assert.equal(created.status, 201);
        const body = (await created.json()) as { connection_id: string; created_at: string };
        assert.equal(body.connection_id, 'tenant-1:acme');
        assert.match(body.created_at, /Z$/);

        const conn = await nango.getConnection('acme', 'tenant-1:acme');
        assert.deepEqual(conn.credentials, { type: 'API_KEY', apiKey: 'key-1' });
        assert.deepEqual(conn.end_user?.id, 'u1');
        assert.match(conn.created_at, /\+00:00$/);
        assert.deepEqual(await nango.getToken('acme', 'tenant-1:acme'), { type: 'API_KEY', apiKey: 'key-1' });

        const all = await nango.listConnections();
        assert.equal(all.connections.length, 1);
        assert.equal((await nango.listConnections({ userId: 'u1' })).connections.length, 1);
        assert.equal((await nango.listConnections({ userId: 'u2' })).connections.length, 0);
        assert.equal((await nango.listConnections({ integrationId: 'acme' })).connections.length, 1);
        assert.equal((await nango.listConnections({ tags: { plan: 'pro' } })).connections.length, 1);
        assert.equal((await nango.listConnections({ tags: { plan: 'free' } })).connections.length, 0);

        await nango.patchConnection({ connectionId: 'tenant-1:acme', provider_config_key: 'acme' }, { tags: { plan: 'free' } });
        assert.equal((await nango.listConnections({ tags: { plan: 'free' } })).connections.length, 1);

        const setRes = await nango.setMetadata('acme', 'tenant-1:acme', { a: 1, b: 2 });
        assert.equal(setRes.status, 201);
        await nango.updateMetadata('acme', 'tenant-1:acme', { b: 3 });
        assert.deepEqual(await nango.getMetadata('acme', 'tenant-1:acme'), { a: 1, b: 3 });
        const missing = await sdkFailure(nango.setMetadata('acme', ['tenant-1:acme', 'nope'], { c: 1 }));
        assert.equal(missing.status, 404);
        assert.equal(missing.data.error?.code, 'unknown_connection');
        assert.deepEqual(await nango.getMetadata('acme', 'tenant-1:acme'), { a: 1, b: 3 });

        assert.equal((await sdkFailure(nango.getConnection('acme', 'nope'))).status, 404);
        assert.equal((await sdkFailure(nango.getConnection('no-integration', 'tenant-1:acme'))).data.error?.code, 'unknown_provider_config');
        const wrongType = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: 'acme', credentials: { type: 'BASIC', username: 'a', password: 'b' } })
        });
        assert.equal(wrongType.status, 400);
        assert.equal(((await wrongType.json()) as { error: { code: string } }).error.code, 'invalid_auth_mode');
    });

    it('strips refresh tokens everywhere unless asked', async () => {
        await nango.createIntegration({
            provider: 'acme-oauth2',
            unique_key: 'acme2',
            credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' }
        });
        const res = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: 'acme2',
                connection_id: 'o1',
                connection_config: { subdomain: 'eu' },
                credentials: {
                    type: 'OAUTH2',
                    access_token: 'at-1',
                    refresh_token: 'rt-1',
                    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
                    raw: { access_token: 'at-1', refresh_token: 'rt-1', nested: { refreshToken: 'rt-1' } }
                }
            })
        });
        assert.equal(res.status, 201);
        const text = JSON.stringify(await res.json());
        assert.ok(!text.includes('rt-1'), 'POST response must not carry the refresh token');
        const conn = await nango.getConnection('acme2', 'o1');
        assert.ok(!JSON.stringify(conn).includes('rt-1'));
        const withRt = await nango.getConnection('acme2', 'o1', false, true);
        assert.equal((withRt.credentials as { refresh_token?: string }).refresh_token, 'rt-1');
        assert.equal(await nango.getToken('acme2', 'o1'), 'at-1');
        assert.deepEqual(await nango.getRawTokenResponse('acme2', 'o1'), { access_token: 'at-1', nested: {} });

        const proxied = await nango.get<{ url: string; headers: Record<string, string> }>({
            endpoint: '/v1/me',
            providerConfigKey: 'acme2',
            connectionId: 'o1'
        });
        assert.equal(proxied.data.url, '/eu/v1/me');
        assert.equal(proxied.data.headers['authorization'], 'Bearer at-1');
    });

    it('proxies with API key templates, Nango-Proxy-* headers, bodies and query', async () => {
        const res = await nango.post<{ method: string; url: string; headers: Record<string, string>; body: string }>({
            endpoint: '/items?limit=2',
            providerConfigKey: 'acme',
            connectionId: 'tenant-1:acme',
            headers: { 'X-Custom': 'yes' },
            data: { name: 'widget' }
        });
        assert.equal(res.status, 200);
        assert.equal(res.data.method, 'POST');
        assert.equal(res.data.url, '/api/items?limit=2&tenant=t1');
        assert.equal(res.data.headers['x-api-key'], 'key-1');
        assert.equal(res.data.headers['x-custom'], 'yes');
        assert.equal(res.data.headers['provider-config-key'], undefined, 'control headers are not forwarded');
        assert.equal(res.data.headers['authorization'], undefined, 'the app secret key is never forwarded');
        assert.deepEqual(JSON.parse(res.data.body), { name: 'widget' });
    });

    it('proxies basic auth and OAuth 1.0a signatures', async () => {
        await nango.createIntegration({ provider: 'acme-basic', unique_key: 'basic' });
        await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: 'basic', connection_id: 'b1', credentials: { type: 'BASIC', username: 'ann', password: 'pw' } })
        });
        const basic = await nango.get<{ headers: Record<string, string> }>({ endpoint: '/x', providerConfigKey: 'basic', connectionId: 'b1' });
        assert.equal(basic.data.headers['authorization'], `Basic ${Buffer.from('ann:pw').toString('base64')}`);

        await nango.createIntegration({
            provider: 'acme-oauth1',
            unique_key: 'o1',
            credentials: { type: 'OAUTH1', client_id: 'ckey', client_secret: 'csecret' }
        });
        await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: 'o1',
                connection_id: 'c1',
                credentials: { type: 'OAUTH1', oauth_token: 'tok', oauth_token_secret: 'toksecret' }
            })
        });
        const signed = await nango.get<{ url: string; headers: Record<string, string> }>({
            endpoint: '/1/members/me',
            params: { fields: 'id' },
            providerConfigKey: 'o1',
            connectionId: 'c1'
        });
        const header = signed.data.headers['authorization']!;
        assert.match(header, /^OAuth /);
        // Verify the HMAC-SHA1 signature independently (RFC 5849 §3.4).
        const params = Object.fromEntries([...header.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, decodeURIComponent(m[2]!)]));
        assert.equal(params['oauth_consumer_key'], 'ckey');
        assert.equal(params['oauth_token'], 'tok');
        const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
        const all = { ...params, fields: 'id' } as Record<string, string>;
        delete all['oauth_signature'];
        const normalized = Object.keys(all)
            .sort()
            .map((k) => `${enc(k)}=${enc(all[k]!)}`)
            .join('&');
        const base = ['GET', enc(`${upstream.url}/1/members/me`), enc(normalized)].join('&');
        const expected = createHmac('sha1', `${enc('csecret')}&${enc('toksecret')}`)
            .update(base)
            .digest('base64');
        assert.equal(params['oauth_signature'], expected);
    });

    it('retries 5xx and 429 honouring Retry-After, and passes upstream errors through', async () => {
        flaky = 0;
        const res = await nango.get<{ url: string }>({ endpoint: '/flaky', providerConfigKey: 'acme', connectionId: 'tenant-1:acme', retries: 3 });
        assert.equal(res.status, 200);
        assert.equal(flaky, 3);
        flaky = 0;
        const noRetry = await sdkFailure(nango.get({ endpoint: '/flaky', providerConfigKey: 'acme', connectionId: 'tenant-1:acme' }));
        assert.equal(noRetry.status, 503);
        const failed = await fetch(`${server.url}/proxy/fail`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'acme', 'connection-id': 'tenant-1:acme' }
        });
        assert.equal(failed.status, 422);
        assert.equal(failed.headers.get('x-upstream'), 'yes');
        assert.deepEqual(await failed.json(), { message: 'unprocessable', detail: 'upstream says no' });
    });

    it('streams large responses', async () => {
        const res = await fetch(`${server.url}/proxy/big`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'acme', 'connection-id': 'tenant-1:acme' }
        });
        assert.equal(res.status, 200);
        assert.equal((await res.arrayBuffer()).byteLength, 160 * 64 * 1024);
    });

    it('refuses bad proxy requests with compatible codes', async () => {
        const h = { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'acme', 'connection-id': 'tenant-1:acme' };
        const call = async (headers: Record<string, string>, init: RequestInit = {}) => {
            const r = await fetch(`${server.url}/proxy/items`, { ...init, headers });
            return { status: r.status, code: ((await r.json()) as { error: { code: string } }).error.code };
        };
        assert.deepEqual(await call({ authorization: h.authorization, 'connection-id': 'x' }), { status: 400, code: 'invalid_headers' });
        assert.deepEqual(await call({ ...h, retries: 'many' }), { status: 400, code: 'invalid_headers' });
        assert.deepEqual(await call({ ...h, 'provider-config-key': 'nope' }), { status: 404, code: 'unknown_provider_config' });
        assert.deepEqual(await call({ ...h, 'connection-id': 'nope' }), { status: 400, code: 'unknown_connection' });
        assert.deepEqual(await call({ ...h, 'base-url-override': 'https://evil.example.com' }), { status: 400, code: 'base_url_override_not_allowed' });
        assert.deepEqual(await call({ authorization: 'Bearer wrong', 'provider-config-key': 'acme', 'connection-id': 'x' }), {
            status: 401,
            code: 'unknown_account'
        });
        assert.deepEqual(await call({ ...h, 'content-type': 'application/octet-stream' }, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024) }), {
            status: 413,
            code: 'payload_too_large'
        });
        // An allow-listed override is honoured (and the connection-config template still applies).
        const allowed = await fetch(`${server.url}/proxy/x`, { headers: { ...h, 'base-url-override': `${upstream.url}/api` } });
        assert.equal(allowed.status, 200);
    });

    it('rejects malformed JSON, unknown fields and a wrong Content-Type without changing anything', async () => {
        const before = (await nango.listIntegrations()).configs.length;
        const post = (body: string, type = 'application/json') =>
            fetch(`${server.url}/integrations`, { method: 'POST', headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': type }, body });
        const malformed = await post('{"provider":');
        assert.equal(malformed.status, 400);
        assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'invalid_json');
        const wrongType = await post('provider=stripe', 'application/x-www-form-urlencoded');
        assert.equal(wrongType.status, 415);
        const strictQuery = await fetch(`${server.url}/connections?bogus=1`, { headers: { authorization: `Bearer ${server.secretKey}` } });
        assert.equal(((await strictQuery.json()) as { error: { code: string } }).error.code, 'invalid_query_params');
        const noAuth = await fetch(`${server.url}/integrations`);
        assert.equal(noAuth.status, 401);
        assert.equal(((await noAuth.json()) as { error: { code: string } }).error.code, 'missing_auth_header');
        assert.equal((await nango.listIntegrations()).configs.length, before);
    });

    it('answers CORS preflights for browser callers', async () => {
        const res = await fetch(`${server.url}/connections`, {
            method: 'OPTIONS',
            headers: {
                origin: 'https://app.example.com',
                'access-control-request-method': 'POST',
                'access-control-request-headers': 'authorization,content-type'
            }
        });
        assert.equal(res.status, 204);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.equal(res.headers.get('access-control-max-age'), '600');
    });

    it('deletes connections (no revocation endpoint: recorded as skipped)', async () => {
        const res = await nango.deleteConnection('acme', 'tenant-1:acme');
        assert.deepEqual(res.data, { success: true });
        const again = await sdkFailure(nango.deleteConnection('acme', 'tenant-1:acme'));
        assert.equal(again.status, 400);
        assert.equal(again.data.error?.code, 'unknown_connection');
        const audit = (await (
            await fetch(`${server.url}/admin/audit?connection_id=tenant-1:acme`, { headers: { authorization: `Bearer ${server.secretKey}` } })
        ).json()) as { data: Array<{ kind: string; outcome: string }> };
        assert.deepEqual(
            audit.data.map((e) => [e.kind, e.outcome]),
            [['revocation', 'skipped']]
        );
    });

    it('never logs secrets', () => {
        const out = server.output();
        for (const secret of ['key-1', 'csecret', 'toksecret', 'rt-1', 'at-1', server.secretKey]) assert.ok(!out.includes(secret), `log contains ${secret}`);
    });
});
