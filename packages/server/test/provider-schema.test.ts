// Nango's providers.yaml schema in full (issue #15 item 1): the fields that select behaviour, each driven end to
// end through a running server against oidc-provider and loopback stand-ins of provider APIs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { CookieJar, hop, loginAndConsent, freePort, openSdkSocket } from './support/browserless.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';

/** A raw HTTP call (fetch would decode a compressed body itself and hide what the app really gets). */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
        const req = request(url, { method: 'GET', headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    });
}

describe('providers.yaml fields that select behaviour', () => {
    let server: TestServer;
    let as: TestAuthServer;
    let api: Awaited<ReturnType<typeof startUpstream>>;
    let nango: Nango;
    let publicUrl: string;
    let providersFile: string;
    const rateLimited = new Map<string, number>();

    before(async () => {
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
        api = await startUpstream((req: RecordedRequest, res) => {
            const path = req.url.split('?')[0]!;
            const body = Buffer.from(JSON.stringify({ hello: 'decoded', path }));
            if (path === '/gzip') {
                if (!/gzip/.test(String(req.headers['accept-encoding'] ?? ''))) return json(res, 200, { hello: 'plain' });
                res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gzipSync(body).length) });
                res.end(gzipSync(body));
                return;
            }
            if (path === '/br') {
                res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
                res.end(brotliCompressSync(body));
                return;
            }
            if (path === '/broken-gzip') {
                res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
                res.end(Buffer.from('not gzip at all'));
                return;
            }
            // GitHub's way: 403 with the quota header at 0, then fine once it resets.
            if (path === '/quota' || path === '/server-error' || path === '/too-many') {
                const n = (rateLimited.get(path) ?? 0) + 1;
                rateLimited.set(path, n);
                if (n === 1 && path === '/quota')
                    return json(res, 403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0' });
                if (n === 1 && path === '/server-error') return json(res, 503, { message: 'busy' }, { 'retry-after': '0' });
                if (n === 1 && path === '/too-many') return json(res, 429, { message: 'slow down' }, { 'retry-after': '0' });
                return json(res, 200, { attempt: n });
            }
            if (path === '/forbidden') return json(res, 403, { message: 'no' }, { 'x-ratelimit-remaining': '12' });
            json(res, 200, { path, auth: req.headers.authorization ?? null });
        });
        providersFile = writeProvidersFile(`
header-auth:
  display_name: Header auth
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  authorization_method: header
  default_scopes: [openid, offline_access]
  scope_separator: ' '
  authorization_params:
    prompt: consent
    empty_one: ''
  authorization_url_skip_empty: true
  authorization_url_skip_encode: [scope]
  authorization_url_replacements:
    'prompt=consent': 'prompt=consent&audience=api'
  authorization_url_fragment: signin
  proxy:
    base_url: ${as.issuer}
body-auth:
  display_name: Body auth
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  default_scopes: [openid, offline_access]
  proxy:
    base_url: ${as.issuer}
compressed:
  display_name: Compressed
  auth_mode: API_KEY
  docs: https://compressed.example/docs
  docs_connect: https://compressed.example/docs/connect
  webhook_user_defined_secret: true
  a_future_nango_field: yes
  proxy:
    base_url: ${api.url}
    headers:
      authorization: Bearer \${apiKey}
    decompress: true
    retry:
      at: [x-rate-limit-reset, x-ratelimit-reset]
      remaining: x-ratelimit-remaining
      error_code: ['5xx']
  connection_config:
    region:
      type: string
      title: Region
      description: Data region
      enum: [us, eu]
      optional: true
plain:
  display_name: Plain
  auth_mode: NONE
  another_future_field: 1
  proxy:
    base_url: ${api.url}
`);
        server = await startServer({ PORT: String(port), SWITCHBOARD_SERVER_URL: publicUrl, SWITCHBOARD_PROVIDERS: providersFile });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        const credentials = { type: 'OAUTH2' as const, client_id: as.clientId, client_secret: as.clientSecret };
        await nango.createIntegration({ provider: 'header-auth', unique_key: 'hdr', credentials });
        await nango.createIntegration({ provider: 'body-auth', unique_key: 'body', credentials });
        await nango.createIntegration({ provider: 'compressed', unique_key: 'zip' });
        await nango.createIntegration({ provider: 'plain', unique_key: 'plain' });
        const imported = await post('/connections', { provider_config_key: 'zip', connection_id: 'z1', credentials: { type: 'API_KEY', apiKey: 'k1' } });
        assert.equal(imported.status, 201, await imported.text());
        assert.equal((await post('/connections', { provider_config_key: 'plain', connection_id: 'p1', credentials: { type: 'NONE' } })).status, 201);
    });
    after(async () => {
        await server?.stop();
        await Promise.all([as?.close(), api?.close()]);
        if (server) removeDir(server.dataDir);
    });

    function post(path: string, body: unknown): Promise<Response> {
        return fetch(`${server.url}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(body)
        });
    }
    const proxyHeaders = (key: string, id: string, extra: Record<string, string> = {}) => ({
        authorization: `Bearer ${server.secretKey}`,
        'provider-config-key': key,
        'connection-id': id,
        ...extra
    });

    it('logs unknown keys once per file, by name, and still serves the providers', async () => {
        const lines = server
            .output()
            .split('\n')
            .filter((l) => l.includes('unknown key(s) ignored'));
        assert.equal(lines.length, 1, server.output());
        const line = JSON.parse(lines[0]!) as { file: string; keys: string[]; level: number };
        assert.equal(line.file, providersFile);
        assert.deepEqual(line.keys, ['compressed.a_future_nango_field', 'plain.another_future_field']);
        assert.equal(line.level, 40);
        const provider = (await (await fetch(`${server.url}/providers/compressed`, { headers: { authorization: `Bearer ${server.secretKey}` } })).json()) as {
            data: Record<string, unknown>;
        };
        assert.equal(provider.data['docs_connect'], 'https://compressed.example/docs/connect');
        assert.equal(provider.data['a_future_nango_field'], undefined);
    });

    async function connectThroughBrowser(key: string): Promise<{ location: URL; connectionId: string }> {
        const token = (await nango.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: [key] })).data.token;
        const socket = await openSdkSocket(publicUrl);
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/${key}?connect_session_token=${token}&ws_client_id=${socket.clientId}`);
        await start.arrayBuffer();
        const location = start.headers.get('location') ?? '';
        const page = await hop(jar, (await loginAndConsent(location)).href);
        assert.equal(page.status, 200, await page.text());
        const frame = await socket.frame();
        socket.close();
        assert.equal(frame['message_type'], 'success', JSON.stringify(frame));
        return { location: new URL(location), connectionId: String(frame['connection_id']) };
    }

    it('authorization_method: header sends the client credentials in a Basic header, for the code and the refresh', async () => {
        const before = as.events.length;
        const { connectionId } = await connectThroughBrowser('hdr');
        const refreshed = await fetch(`${server.url}/connections/${connectionId}?provider_config_key=hdr&force_refresh=true`, {
            headers: { authorization: `Bearer ${server.secretKey}` }
        });
        assert.equal(refreshed.status, 200, await refreshed.text());
        const mine = as.events.slice(before).filter((e) => e.kind === 'authorization_code' || e.kind === 'refresh');
        assert.deepEqual(
            mine.map((e) => [e.kind, e.detail]),
            [
                ['authorization_code', 'client_secret_basic'],
                ['refresh', 'client_secret_basic']
            ]
        );
        // Without the field, Nango's default: the credentials in the body.
        const mark = as.events.length;
        await connectThroughBrowser('body');
        const code = as.events.slice(mark).find((e) => e.kind === 'authorization_code');
        assert.equal(code?.detail, 'client_secret_post');
    });

    it('authorization_url_replacements, _skip_encode, _skip_empty and _fragment shape the authorization URL', async () => {
        const token = (await nango.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: ['hdr'] })).data.token;
        const socket = await openSdkSocket(publicUrl);
        const res = await hop(new CookieJar(), `${publicUrl}/oauth/connect/hdr?connect_session_token=${token}&ws_client_id=${socket.clientId}`);
        await res.arrayBuffer();
        socket.close();
        const location = res.headers.get('location') ?? '';
        assert.match(location, /[?&]scope=openid%20offline_access(&|$)/, 'scope left unencoded but for its space');
        assert.match(location, /[?&]prompt=consent&audience=api(&|$)/, 'the replacement applied');
        assert.doesNotMatch(location, /empty_one/, 'the empty parameter dropped');
        assert.ok(location.endsWith('#signin'), 'the fragment appended');
        assert.match(new URL(location).searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/, 'state untouched');
    });

    it('proxy.decompress: the app gets the decoded body without content-encoding; Decompress: true asks for it per request', async () => {
        const zipped = await raw(`${server.url}/proxy/gzip`, proxyHeaders('zip', 'z1'));
        assert.equal(zipped.status, 200);
        assert.equal(zipped.headers['content-encoding'], undefined);
        assert.deepEqual(JSON.parse(zipped.body.toString()), { hello: 'decoded', path: '/gzip' });
        const br = await raw(`${server.url}/proxy/br`, proxyHeaders('zip', 'z1'));
        assert.deepEqual(JSON.parse(br.body.toString()), { hello: 'decoded', path: '/br' });
        // A provider without the field asks for nothing compressed...
        const plain = await raw(`${server.url}/proxy/gzip`, proxyHeaders('plain', 'p1'));
        assert.deepEqual(JSON.parse(plain.body.toString()), { hello: 'plain' });
        // ...unless the app sends Decompress: true.
        const asked = await raw(`${server.url}/proxy/gzip`, proxyHeaders('plain', 'p1', { decompress: 'true' }));
        assert.equal(asked.headers['content-encoding'], undefined);
        assert.deepEqual(JSON.parse(asked.body.toString()), { hello: 'decoded', path: '/gzip' });
        // A body that does not decode is a 502, not garbage.
        const broken = await raw(`${server.url}/proxy/broken-gzip`, proxyHeaders('zip', 'z1'));
        assert.equal(broken.status, 502);
        assert.equal(JSON.parse(broken.body.toString()).error.code, 'upstream_unreachable');
    });

    it('proxy.retry.remaining: an error answer with the quota at 0 is retried; other 403s are not', async () => {
        const quota = await raw(`${server.url}/proxy/quota`, proxyHeaders('zip', 'z1', { retries: '2' }));
        assert.equal(quota.status, 200);
        assert.deepEqual(JSON.parse(quota.body.toString()), { attempt: 2 });
        const before = api.requests.filter((r) => r.url === '/forbidden').length;
        const forbidden = await raw(`${server.url}/proxy/forbidden`, proxyHeaders('zip', 'z1', { retries: '2' }));
        assert.equal(forbidden.status, 403);
        assert.equal(api.requests.filter((r) => r.url === '/forbidden').length, before + 1);
    });

    it('proxy.retry.error_code with a status class: "5xx" is retried, 429 (not listed) is not', async () => {
        const busy = await raw(`${server.url}/proxy/server-error`, proxyHeaders('zip', 'z1', { retries: '1' }));
        assert.equal(busy.status, 200);
        const slow = await raw(`${server.url}/proxy/too-many`, proxyHeaders('zip', 'z1', { retries: '1' }));
        assert.equal(slow.status, 429);
        assert.equal(rateLimited.get('/too-many'), 1);
    });

    it('connection_config.*.enum: a value outside the list is refused and nothing is stored', async () => {
        const bad = await post('/connections', {
            provider_config_key: 'zip',
            connection_id: 'z2',
            credentials: { type: 'API_KEY', apiKey: 'k2' },
            connection_config: { region: 'mars' }
        });
        assert.equal(bad.status, 400);
        const err = (await bad.json()) as { error: { code: string; message: string } };
        assert.equal(err.error.code, 'invalid_connection_config');
        assert.match(err.error.message, /must be one of "us", "eu"/);
        const missing = await fetch(`${server.url}/connections/z2?provider_config_key=zip`, { headers: { authorization: `Bearer ${server.secretKey}` } });
        assert.equal(missing.status, 404);
        const good = await post('/connections', {
            provider_config_key: 'zip',
            connection_id: 'z2',
            credentials: { type: 'API_KEY', apiKey: 'k2' },
            connection_config: { region: 'eu' }
        });
        assert.equal(good.status, 201, await good.text());
    });

    it('webhook_user_defined_secret is reported as has_webhook_user_defined_secret', async () => {
        const get = async (key: string) =>
            (
                (await (
                    await fetch(`${server.url}/config/${key}?include_creds=true`, { headers: { authorization: `Bearer ${server.secretKey}` } })
                ).json()) as {
                    config: Record<string, unknown>;
                }
            ).config;
        assert.equal((await get('zip'))['has_webhook_user_defined_secret'], true);
        assert.equal((await get('plain'))['has_webhook_user_defined_secret'], false);
    });

    it('a NONE connection is proxied with no credentials added', async () => {
        const res = await raw(`${server.url}/proxy/anything`, proxyHeaders('plain', 'p1'));
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.body.toString()), { path: '/anything', auth: null });
    });
});
