// Auth modes beyond OAuth, API key and basic (issue #15 item 2): TWO_STEP, JWT and AWS_SIGV4 through the Connect
// UI's routes, POST /connections, refresh and the proxy, against loopback stand-ins that check what they receive
// (a session API, a JWT-verifying API, an API that recomputes the SigV4 signature), on the embedded database and
// on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import aws4 from 'aws4';
import { jwtVerify, importSPKI } from 'jose';
import { Nango } from '@nangohq/node';
import { startServer, storageEnv, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { api, type Json } from './support/webhooks.ts';

const GHOST_ID = '6489f2d0c0ffee';
const GHOST_SECRET = randomBytes(32).toString('hex');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_PRIVATE = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EC_PUBLIC = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const AWS = {
    access_key_id: 'AKIAIOSFODNN7EXAMPLE',
    secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    region: 'eu-west-1',
    service: 'execute-api'
};

/** Recomputes the SigV4 signature of a received request from the headers it says it signed. */
function sigv4Valid(req: RecordedRequest): boolean {
    const auth = String(req.headers.authorization ?? '');
    const signed = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
    if (!auth.startsWith('AWS4-HMAC-SHA256 ') || !signed.includes('x-amz-date')) return false;
    const headers = Object.fromEntries(signed.filter((h) => h !== 'host').map((h) => [h, String(req.headers[h] ?? '')]));
    const opts: aws4.Request & { headers: Record<string, string> } = {
        host: String(req.headers.host),
        path: req.url,
        method: req.method,
        headers,
        service: AWS.service,
        region: AWS.region,
        ...(req.body ? { body: req.body } : {})
    };
    aws4.sign(opts, { accessKeyId: AWS.access_key_id, secretAccessKey: AWS.secret_access_key });
    return opts.headers['Authorization'] === auth;
}

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`auth modes TWO_STEP, JWT, AWS_SIGV4 (${backend})`, () => {
        let server: TestServer;
        let up: Awaited<ReturnType<typeof startUpstream>>;
        let nango: Nango;
        let dropDb: (() => Promise<void>) | undefined;
        let issued = 0;
        const sessions = new Set<string>();
        const refreshTokens = new Set<string>();

        before(async () => {
            up = await startUpstream(async (req: RecordedRequest, res) => {
                const path = req.url.split('?')[0]!;
                const body = req.body ? (JSON.parse(req.body) as Json) : {};
                // A session API: log in with user and password, renew with the refresh token.
                if (path === '/auth/login') {
                    if (body.user !== 'alice' || body.pass !== 'open-sesame') return json(res, 401, { error: 'invalid_credentials' });
                    issued++;
                    sessions.add(`s-${issued}`);
                    refreshTokens.add(`r-${issued}`);
                    return json(res, 200, { data: { session: `s-${issued}`, ttl: 3600, refresh: `r-${issued}` } });
                }
                if (path === '/auth/refresh') {
                    if (!refreshTokens.delete(body.refresh)) return json(res, 401, { error: 'invalid_grant' });
                    issued++;
                    sessions.add(`s-${issued}`);
                    refreshTokens.add(`r-${issued}`);
                    return json(res, 200, { data: { session: `s-${issued}`, ttl: 3600, refresh: `r-${issued}` } });
                }
                if (path === '/session/me') {
                    const m = /^Session (.+)$/.exec(String(req.headers.authorization ?? ''));
                    return m && sessions.has(m[1]!) ? json(res, 200, { user: 'alice', session: m[1] }) : json(res, 401, { error: 'expired' });
                }
                // Ghost's Admin API: `Ghost <jwt>`, HS256 with the hex-decoded secret, kid = key id, aud /admin/.
                if (path === '/ghost/admin/site') {
                    const m = /^Ghost (.+)$/.exec(String(req.headers.authorization ?? ''));
                    try {
                        const { protectedHeader } = await jwtVerify(m?.[1] ?? '', Buffer.from(GHOST_SECRET, 'hex'), {
                            audience: '/admin/',
                            algorithms: ['HS256']
                        });
                        return protectedHeader.kid === GHOST_ID ? json(res, 200, { site: 'ghost' }) : json(res, 401, { error: 'kid' });
                    } catch (err) {
                        return json(res, 401, { error: (err as Error).message });
                    }
                }
                // An ES256 bearer API (App Store Connect's shape: iss, aud, kid).
                if (path === '/es/v1/apps') {
                    const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
                    try {
                        const { payload } = await jwtVerify(m?.[1] ?? '', await importSPKI(EC_PUBLIC, 'ES256'), {
                            audience: 'appstoreconnect-v1',
                            issuer: 'issuer-1'
                        });
                        return json(res, 200, { iss: payload.iss });
                    } catch (err) {
                        return json(res, 401, { error: (err as Error).message });
                    }
                }
                if (path.startsWith('/aws/'))
                    return sigv4Valid(req) ? json(res, 200, { ok: true, path, body: req.body }) : json(res, 403, { message: 'SignatureDoesNotMatch' });
                json(res, 404, { path });
            });
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
session-api:
  display_name: Session API
  auth_mode: TWO_STEP
  token_url: ${up.url}/auth/login
  token_params:
    user: \${credentials.username}
    pass: \${credentials.password}
  refresh_url: ${up.url}/auth/refresh
  refresh_token_params:
    refresh: \${credentials.refresh_token}
  token_response:
    token: data.session
    token_expiration: data.ttl
    token_expiration_strategy: expireIn
    refresh_token: data.refresh
  credentials:
    username:
      type: string
      title: User
      description: Your user name
    password:
      type: string
      title: Password
      description: Your password
      secret: true
  proxy:
    base_url: ${up.url}
    headers:
      authorization: Session \${accessToken}
ghost-local:
  display_name: Ghost (loopback)
  auth_mode: JWT
  signature:
    protocol: HMAC
    hmac_secret_encoding: hex
  token:
    signing_key: \${credentials.secret}
    expires_in_ms: 300000
    header:
      alg: HS256
      typ: JWT
      kid: \${credentials.id}
    payload:
      aud: /admin/
  credentials:
    id:
      type: string
      title: Key id
      description: The Admin API key's id
    secret:
      type: string
      title: Secret
      description: The Admin API key's secret
      secret: true
  proxy:
    base_url: ${up.url}/ghost
    headers:
      authorization: Ghost \${accessToken}
es-local:
  display_name: ES256 API (loopback)
  auth_mode: JWT
  signature:
    protocol: EC
  token:
    signing_key: \${credentials.privateKey}
    expires_in_ms: 1200000
    header:
      alg: ES256
      kid: \${credentials.keyId}
    payload:
      iss: \${credentials.issuerId}
      aud: appstoreconnect-v1
  proxy:
    base_url: ${up.url}/es
aws-local:
  display_name: AWS API Gateway (loopback)
  auth_mode: AWS_SIGV4
  proxy:
    base_url: ${up.url}/aws
    verification:
      method: GET
      endpoints: [/ping]
`)
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            dropDb = storage.drop;
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            for (const [provider, key] of [
                ['session-api', 'sess'],
                ['ghost-local', 'ghost'],
                ['es-local', 'es'],
                ['aws-local', 'aws']
            ] as const)
                await nango.createIntegration({ provider, unique_key: key });
        });
        after(async () => {
            await server?.stop();
            await up?.close();
            if (server) removeDir(server.dataDir);
            await dropDb?.();
        });

        const session = async (key: string) => (await nango.createConnectSession({ end_user: { id: 'u-1' }, allowed_integrations: [key] })).data.token;
        /** What the Connect UI posts for a flow (packages/web/src/connect.ts). */
        const connectUi = async (route: string, key: string, body: unknown) => {
            const res = await fetch(`${server.url}${route}/${key}?connect_session_token=${await session(key)}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
            return { status: res.status, body: (await res.json()) as Json };
        };
        const proxy = (key: string, id: string, path: string, init: RequestInit = {}) =>
            fetch(`${server.url}/proxy${path}`, {
                ...init,
                headers: {
                    authorization: `Bearer ${server.secretKey}`,
                    'provider-config-key': key,
                    'connection-id': id,
                    ...(init.headers as Record<string, string>)
                }
            });
        const count = async (key: string) => (await api(server, 'GET', `/connections?integrationId=${key}`)).body.connections.length as number;

        it('TWO_STEP through the Connect UI route: the token endpoint is asked with the inputs; the proxy sends the session', async () => {
            const bad = await connectUi('/auth/two-step', 'sess', { username: 'alice', password: 'wrong' });
            assert.equal(bad.status, 400);
            assert.equal(bad.body.error.code, 'connection_test_failed');
            const missing = await connectUi('/auth/two-step', 'sess', { username: 'alice' });
            assert.equal(missing.status, 400);
            assert.equal(missing.body.error.code, 'invalid_body');
            assert.equal(await count('sess'), 0, 'nothing stored for refused inputs');

            const ok = await connectUi('/auth/two-step', 'sess', { username: 'alice', password: 'open-sesame' });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const conn = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=sess`);
            assert.equal(conn.body.credentials.type, 'TWO_STEP');
            assert.equal(conn.body.credentials.username, 'alice', 'inputs are flat, as in Nango');
            assert.match(conn.body.credentials.token, /^s-\d+$/);
            assert.ok(Date.parse(conn.body.credentials.expires_at) > Date.now() + 50 * 60_000);
            const me = await proxy('sess', ok.body.connectionId, '/session/me');
            assert.equal(me.status, 200);
            assert.equal(((await me.json()) as Json).session, conn.body.credentials.token);
        });

        it('TWO_STEP refresh: force_refresh uses the refresh endpoint; a session the provider dropped is renewed by the proxy', async () => {
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'sess',
                connection_id: 'imp',
                credentials: { type: 'TWO_STEP', username: 'alice', password: 'open-sesame' }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            const first = (await api(server, 'GET', '/connections/imp?provider_config_key=sess')).body.credentials.token as string;
            const refreshed = (await api(server, 'GET', '/connections/imp?provider_config_key=sess&force_refresh=true')).body.credentials.token as string;
            assert.notEqual(refreshed, first);
            assert.ok(up.requests.some((r) => r.url === '/auth/refresh'));
            // The provider drops the session: the proxy's 401 renews once and retries.
            sessions.delete(refreshed);
            const me = await proxy('sess', 'imp', '/session/me');
            assert.equal(me.status, 200);
            const now = ((await me.json()) as Json).session;
            assert.notEqual(now, refreshed);
            const wrong = await api(server, 'POST', '/connections', {
                provider_config_key: 'sess',
                connection_id: 'imp-bad',
                credentials: { type: 'TWO_STEP', username: 'alice', password: 'nope' }
            });
            assert.equal(wrong.status, 400);
            assert.equal((await api(server, 'GET', '/connections/imp-bad?provider_config_key=sess')).status, 404);
        });

        it('JWT (HMAC, hex secret, Ghost): signed from the inputs; the API verifies signature, kid and audience', async () => {
            const bad = await connectUi('/auth/jwt', 'ghost', { id: GHOST_ID, secret: '' });
            assert.equal(bad.status, 400);
            const ok = await connectUi('/auth/jwt', 'ghost', { id: GHOST_ID, secret: GHOST_SECRET });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const site = await proxy('ghost', ok.body.connectionId, '/admin/site');
            assert.equal(site.status, 200, await site.clone().text());
            // A 5-minute token is not "expiring" from birth: the next calls present the same token, none is signed again.
            // Counted by /metrics, recorded before the proxied answer goes out (the log is written a moment later).
            const refreshes = async () => {
                const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.adminKey}` } })).text();
                return text
                    .split('\n')
                    .filter((l) => l.startsWith('switchboard_refresh_duration_seconds_count{') && l.includes('provider="ghost-local"'))
                    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
            };
            const before = await refreshes();
            assert.equal(before, 1, 'signed once, at the first call (a token given to the broker has an unknown age)');
            for (let i = 0; i < 3; i++) assert.equal((await proxy('ghost', ok.body.connectionId, '/admin/site')).status, 200);
            assert.equal(await refreshes(), before, 'no refresh for a token with minutes to live');
            const conn = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=ghost&force_refresh=true`);
            assert.equal(conn.body.credentials.type, 'JWT');
            assert.equal(conn.body.credentials.id, GHOST_ID);
            assert.ok(Date.parse(conn.body.credentials.expires_at) > Date.now());
        });

        it('JWT (EC, ES256) imported through POST /connections; a key that is not a key is refused', async () => {
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'es',
                connection_id: 'es-1',
                credentials: { type: 'JWT', privateKey: EC_PRIVATE, keyId: 'K1', issuerId: 'issuer-1' }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            const apps = await proxy('es', 'es-1', '/v1/apps');
            assert.equal(apps.status, 200, await apps.clone().text());
            const bad = await api(server, 'POST', '/connections', {
                provider_config_key: 'es',
                connection_id: 'es-2',
                credentials: { type: 'JWT', privateKey: 'not a key', keyId: 'K1', issuerId: 'issuer-1' }
            });
            assert.equal(bad.status, 400);
            assert.equal(bad.body.error.code, 'connection_test_failed');
        });

        it('AWS_SIGV4: the key is checked with a signed verification call; proxied requests, bodies included, are signed', async () => {
            const wrong = await connectUi('/auth/aws-sigv4', 'aws', { ...AWS, secret_access_key: 'not-the-secret' });
            assert.equal(wrong.status, 400);
            assert.equal(wrong.body.error.code, 'connection_test_failed');
            // A role needs the integration's own AWS key (custom.aws_access_key_id / aws_secret_access_key; aws-role.test.ts).
            const role = await connectUi('/auth/aws-sigv4', 'aws', {
                role_arn: 'arn:aws:iam::123456789012:role/x',
                region: 'eu-west-1',
                service: 'execute-api'
            });
            assert.equal(role.status, 400);
            assert.equal(role.body.error.code, 'invalid_auth_mode');
            assert.match(role.body.error.message, /integration’s own AWS key/);
            const ok = await connectUi('/auth/aws-sigv4', 'aws', AWS);
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const posted = await proxy('aws', ok.body.connectionId, '/items?b=2&a=1', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ name: 'widget' })
            });
            assert.equal(posted.status, 200, await posted.clone().text());
            assert.equal(((await posted.json()) as Json).body, '{"name":"widget"}');
            // Nothing secret reached the log.
            for (const secret of ['open-sesame', GHOST_SECRET, AWS.secret_access_key, 'BEGIN PRIVATE KEY'])
                assert.ok(!server.output().includes(secret), 'a secret was logged');
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'aws',
                connection_id: 'aws-imp',
                credentials: { type: 'AWS_SIGV4', ...AWS }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            assert.equal((await proxy('aws', 'aws-imp', '/things')).status, 200);
            const stale = await api(server, 'POST', '/connections', {
                provider_config_key: 'aws',
                connection_id: 'aws-bad',
                credentials: { type: 'AWS_SIGV4', ...AWS, region: 'nowhere' }
            });
            assert.equal(stale.status, 400);
        });
    });
}
