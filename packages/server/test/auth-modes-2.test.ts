// Auth modes TBA (NetSuite token-based authentication), SIGNATURE (WSSE) and BILL (Bill.com sessions), issue #15
// item 2: through the Connect UI's routes, POST /connections, renewal and the proxy, against loopback stand-ins
// that check what the real APIs check (the OAuth 1.0a signature recomputed from the secrets, the WSSE digest with
// its nonce used once, Bill's session ids issued by its login and expired by it), on the embedded database and on
// PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { startServer, storageEnv, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { adminApi, api, type Json } from './support/webhooks.ts';
import { loadCatalogue } from '../src/providers/catalogue.ts';
import { applyAuth } from '../src/proxy/auth.ts';
import { tbaHeader } from '../src/auth-modes/tba.ts';

const NS = { accountId: '1234567-sb1', consumerKey: 'ck-9f2e', consumerSecret: randomBytes(16).toString('hex') };
const NS_TOKEN = { token_id: 'tk-41c0', token_secret: randomBytes(16).toString('hex') };
const EMARSYS = { username: 'acme001', password: randomBytes(12).toString('hex') };
const BILL = {
    username: 'ap@acme.test',
    password: randomBytes(12).toString('hex'),
    organization_id: '00802ABCDEFGH',
    dev_key: randomBytes(10).toString('hex')
};

/** RFC 3986 percent-encoding, as RFC 5849 §3.6 requires. */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * NetSuite's check of a TBA request, written from RFC 5849 §3.4 here rather than with the library the server uses:
 * realm, consumer key, token, method and a fresh nonce, and the HMAC-SHA256 signature recomputed over the method,
 * the base URL and every oauth_* and query parameter.
 */
function tbaRefusal(req: RecordedRequest, nonces: Set<string>): string | undefined {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('OAuth ')) return 'no OAuth header';
    const fields = new Map<string, string>();
    for (const m of auth.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)) fields.set(m[1]!, decodeURIComponent(m[2]!));
    if (fields.get('realm') !== '1234567_SB1') return 'realm';
    if (fields.get('oauth_signature_method') !== 'HMAC-SHA256') return 'method';
    if (fields.get('oauth_consumer_key') !== NS.consumerKey || fields.get('oauth_token') !== NS_TOKEN.token_id) return 'key';
    const nonce = fields.get('oauth_nonce') ?? '';
    if (!nonce || nonces.has(nonce)) return 'nonce';
    if (Math.abs(Number(fields.get('oauth_timestamp')) - Date.now() / 1000) > 300) return 'timestamp';
    const url = new URL(req.url, `http://${req.headers.host}`);
    const params: Array<[string, string]> = [...fields].filter(([k]) => k.startsWith('oauth_') && k !== 'oauth_signature');
    for (const [k, v] of url.searchParams) params.push([k, v]);
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        for (const [k, v] of new URLSearchParams(req.body)) params.push([k, v]);
    const normalized = params
        .map(([k, v]) => [enc(k), enc(v)])
        .sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : x! > y! ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
    const base = [req.method.toUpperCase(), enc(`${url.protocol}//${url.host}${url.pathname}`), enc(normalized)].join('&');
    const expected = createHmac('sha256', `${enc(NS.consumerSecret)}&${enc(NS_TOKEN.token_secret)}`)
        .update(base)
        .digest('base64');
    if (expected !== fields.get('oauth_signature')) return 'signature';
    nonces.add(nonce);
    return undefined;
}

/** Emarsys's X-WSSE check: known user, digest of nonce + created + secret, created within 5 minutes, nonce used once. */
function wsseRefusal(header: string, nonces: Set<string>): string | undefined {
    const f = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!header.startsWith('UsernameToken ') || f['Username'] !== EMARSYS.username) return 'user';
    const digest = Buffer.from(createHash('sha1').update(`${f['Nonce']}${f['Created']}${EMARSYS.password}`).digest('hex')).toString('base64');
    if (digest !== f['PasswordDigest']) return 'digest';
    if (Math.abs(Date.parse(f['Created'] ?? '') - Date.now()) > 5 * 60_000) return 'created';
    if (nonces.has(f['Nonce'] ?? '')) return 'nonce reused';
    nonces.add(f['Nonce']!);
    return undefined;
}

/** Bill's v3 error body: a list of {timestamp, code, severity, category, message}. */
const billError = (code: string, message: string) => [{ timestamp: new Date().toISOString(), code, severity: 'ERROR', category: 'REQUEST', message }];

describe('the built-in TBA, SIGNATURE and BILL entries', () => {
    const catalogue = loadCatalogue();
    it('netsuite-tba signs with HMAC-SHA256 and the realm in NetSuite’s spelling; its host uses the account id as typed', () => {
        const def = catalogue.get('netsuite-tba')!;
        assert.equal(def.auth_mode, 'TBA');
        const header = tbaHeader(
            def,
            { type: 'TBA', client_id: NS.consumerKey, client_secret: NS.consumerSecret },
            { type: 'TBA', ...NS_TOKEN },
            { accountId: '1234567-sb1' },
            { method: 'GET', url: new URL('https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/customer') }
        );
        assert.match(header, /^OAuth realm="1234567_SB1", /);
        assert.match(header, /oauth_signature_method="HMAC-SHA256"/);
        assert.match(header, new RegExp(`oauth_token="${NS_TOKEN.token_id}"`));
        assert.equal(def.proxy?.base_url, 'https://${connectionConfig.accountId}.suitetalk.api.netsuite.com');
    });
    it('emarsys sends a WSSE token the API accepts in X-WSSE; bill sends the session and developer key', () => {
        const emarsys = catalogue.get('emarsys')!;
        const a = applyAuth(emarsys, { type: 'SIGNATURE', ...EMARSYS }, {});
        assert.equal(wsseRefusal(a.headers['x-wsse']!, new Set()), undefined);
        for (const name of ['bill', 'bill-sandbox']) {
            const bill = catalogue.get(name)!;
            const h = applyAuth(bill, { type: 'BILL', ...BILL, session_id: 'sess-9', raw: {} }, {}).headers;
            assert.equal(h['sessionid'], 'sess-9');
            assert.equal(h['devkey'], BILL.dev_key);
            assert.match(String(bill.token_url), /^https:\/\/gateway\.(prod|stage)\.bill\.com\/connect\/v3\/login$/);
        }
    });
});

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`auth modes TBA, SIGNATURE, BILL (${backend})`, () => {
        let server: TestServer;
        let up: Awaited<ReturnType<typeof startUpstream>>;
        let dropDb: (() => Promise<void>) | undefined;
        let keyB: string;
        const tbaNonces = new Set<string>();
        const wsseNonces = new Set<string>();
        const billSessions = new Set<string>();
        let logins = 0;

        before(async () => {
            up = await startUpstream((req: RecordedRequest, res) => {
                const path = req.url.split('?')[0]!;
                if (path.startsWith('/netsuite/')) {
                    const why = tbaRefusal(req, tbaNonces);
                    if (why)
                        return json(res, 401, {
                            type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2',
                            title: 'Unauthorized',
                            status: 401,
                            'o:errorDetails': [{ detail: 'Invalid login attempt.', 'o:errorCode': 'INVALID_LOGIN' }]
                        });
                    return json(res, 200, { path, query: req.url.split('?')[1] ?? '', body: req.body });
                }
                if (path.startsWith('/emarsys/')) {
                    const why = wsseRefusal(String(req.headers['x-wsse'] ?? ''), wsseNonces);
                    if (why) return json(res, 401, { replyCode: 1, replyText: `Unauthorized (${why})`, data: '' });
                    return json(res, 200, { replyCode: 0, replyText: 'OK', data: { path } });
                }
                if (path === '/bill/v3/login') {
                    const b = JSON.parse(req.body || '{}') as Record<string, string>;
                    if (b['devKey'] !== BILL.dev_key) return json(res, 400, billError('BDC_1102', 'Developer key is invalid.'));
                    if (b['username'] !== BILL.username || b['password'] !== BILL.password || b['organizationId'] !== BILL.organization_id)
                        return json(res, 400, billError('BDC_1101', 'User name and/or password do not match our records.'));
                    logins++;
                    const sessionId = `!${logins}!${randomBytes(8).toString('hex')}`;
                    billSessions.add(sessionId);
                    return json(res, 200, { sessionId, organizationId: BILL.organization_id, userId: '006XYZ', orgName: 'Acme' });
                }
                if (path.startsWith('/bill/v3/')) {
                    if (req.headers['devkey'] !== BILL.dev_key || !billSessions.has(String(req.headers['sessionid'] ?? '')))
                        return json(res, 401, billError('BDC_1109', 'Session is invalid.  Please log in.'));
                    return json(res, 200, { results: [{ id: 'v-1', name: 'Paper Co' }], session: req.headers['sessionid'] });
                }
                json(res, 404, { path });
            });
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
netsuite-local:
  display_name: NetSuite (TBA, loopback)
  auth_mode: TBA
  proxy:
    base_url: ${up.url}/netsuite
    verification:
      method: GET
      endpoints: [/services/rest/record/v1/metadata-catalog]
  connection_config:
    accountId:
      type: string
      title: Account ID
      description: Your NetSuite account id
      pattern: '^[a-zA-Z0-9_-]+$'
emarsys-local:
  display_name: Emarsys (loopback)
  auth_mode: SIGNATURE
  signature:
    protocol: WSSE
  token:
    expires_in_ms: 300000
  proxy:
    base_url: ${up.url}/emarsys
    headers:
      x-wsse: \${accessToken}
    verification:
      method: GET
      endpoints: [/api/v2/settings]
bill-local:
  display_name: Bill (loopback)
  auth_mode: BILL
  token_url: ${up.url}/bill/v3/login
  proxy:
    base_url: ${up.url}/bill
    headers:
      devKey: \${credentials.dev_key}
      sessionId: \${credentials.session_id}
`)
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            dropDb = storage.drop;
            server = await startServer(env);
            const ns = await api(server, 'POST', '/integrations', {
                provider: 'netsuite-local',
                unique_key: 'ns',
                credentials: { type: 'TBA', client_id: NS.consumerKey, client_secret: NS.consumerSecret }
            });
            assert.equal(ns.status, 200, JSON.stringify(ns.body));
            for (const [provider, key] of [
                ['emarsys-local', 'emarsys'],
                ['bill-local', 'bill']
            ] as const)
                assert.equal((await api(server, 'POST', '/integrations', { provider, unique_key: key })).status, 200);
            const created = await adminApi(server, 'POST', '/admin/environments', { name: 'other' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            keyB = created.body.data.secret_key;
        });
        after(async () => {
            await server?.stop();
            await up?.close();
            if (server) removeDir(server.dataDir);
            await dropDb?.();
        });

        const session = async (key: string, connectionConfig?: Record<string, string>) =>
            (
                await api(server, 'POST', '/connect/sessions', {
                    end_user: { id: 'u-1' },
                    allowed_integrations: [key],
                    ...(connectionConfig ? { integrations_config_defaults: { [key]: { connection_config: connectionConfig } } } : {})
                })
            ).body.data.token as string;
        /** What the Connect UI posts for a flow (packages/web/src/connect.ts), with the form's connection_config fields as params. */
        const connectUi = async (route: string, key: string, body: unknown, params?: Record<string, string>) => {
            const query = new URLSearchParams({ connect_session_token: await session(key) });
            for (const [k, v] of Object.entries(params ?? {})) query.set(`params[${k}]`, v);
            const res = await fetch(`${server.url}${route}/${key}?${query}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
            return { status: res.status, body: (await res.json()) as Json };
        };
        const proxy = (key: string, id: string, path: string, init: RequestInit = {}, secretKey = server.secretKey) =>
            fetch(`${server.url}/proxy${path}`, {
                ...init,
                headers: { authorization: `Bearer ${secretKey}`, 'provider-config-key': key, 'connection-id': id, ...(init.headers as Record<string, string>) }
            });
        const count = async (key: string) => (await api(server, 'GET', `/connections?integrationId=${key}`)).body.connections.length as number;
        const seen = (prefix: string) => up.requests.filter((r) => r.url.startsWith(prefix)).length;

        it('TBA through the Connect UI route: a wrong token secret is refused by the signed verification call; proxied requests are signed', async () => {
            const wrong = await connectUi('/auth/tba', 'ns', { ...NS_TOKEN, token_secret: 'not-the-secret' }, { accountId: NS.accountId });
            assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
            assert.equal(wrong.body.error.code, 'connection_test_failed');
            const noAccount = await connectUi('/auth/tba', 'ns', NS_TOKEN);
            assert.equal(noAccount.status, 400);
            assert.equal(noAccount.body.error.code, 'missing_connection_config');
            assert.equal(await count('ns'), 0, 'nothing stored for refused inputs');

            const ok = await connectUi('/auth/tba', 'ns', NS_TOKEN, { accountId: NS.accountId });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const conn = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=ns`);
            assert.equal(conn.body.credentials.type, 'TBA');
            assert.equal(conn.body.credentials.token_id, NS_TOKEN.token_id);
            // A query string and a form body are part of the signature (RFC 5849 §3.4.1.3).
            const q = await proxy('ns', ok.body.connectionId, '/services/rest/query/v1/suiteql?limit=5&offset=0&q=a%20b');
            assert.equal(q.status, 200, await q.clone().text());
            assert.equal(((await q.json()) as Json).query, 'limit=5&offset=0&q=a%20b');
            const form = await proxy('ns', ok.body.connectionId, '/services/rest/record/v1/customer', {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: 'companyname=Acme+Co&subsidiary=1'
            });
            assert.equal(form.status, 200, await form.clone().text());
            const json2 = await proxy('ns', ok.body.connectionId, '/services/rest/record/v1/customer', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ companyName: 'Acme' })
            });
            assert.equal(json2.status, 200);
        });

        it('TBA imported through POST /connections, with a per-connection consumer override; a wrong secret gets NetSuite’s 401', async () => {
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'ns',
                connection_id: 'ns-imp',
                connection_config: { accountId: NS.accountId },
                credentials: { type: 'TBA', ...NS_TOKEN }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            assert.equal((await proxy('ns', 'ns-imp', '/services/rest/record/v1/customer/7')).status, 200);
            const noAccount = await api(server, 'POST', '/connections', {
                provider_config_key: 'ns',
                connection_id: 'ns-none',
                credentials: { type: 'TBA', ...NS_TOKEN }
            });
            assert.equal(noAccount.status, 400);
            assert.equal(noAccount.body.error.code, 'missing_connection_config');
            const override = await api(server, 'POST', '/connections', {
                provider_config_key: 'ns',
                connection_id: 'ns-override',
                connection_config: { accountId: NS.accountId },
                credentials: { type: 'TBA', ...NS_TOKEN, config_override: { client_id: NS.consumerKey, client_secret: 'another-consumer-secret' } }
            });
            assert.equal(override.status, 201);
            const refused = await proxy('ns', 'ns-override', '/services/rest/record/v1/customer/7');
            assert.equal(refused.status, 401, 'the override, not the integration’s secret, signed the request');
            assert.equal(((await refused.json()) as Json)['o:errorDetails'][0]['o:errorCode'], 'INVALID_LOGIN');
        });

        it('SIGNATURE (WSSE): checked at connect, a new nonce for every proxied request, a refused secret stores nothing', async () => {
            const wrong = await connectUi('/auth/signature', 'emarsys', { type: 'SIGNATURE', username: EMARSYS.username, password: 'wrong' });
            assert.equal(wrong.status, 400);
            assert.equal(wrong.body.error.code, 'connection_test_failed');
            const injected = await connectUi('/auth/signature', 'emarsys', { username: 'a", Nonce="x', password: EMARSYS.password });
            assert.equal(injected.status, 400);
            assert.equal(injected.body.error.code, 'invalid_body');
            assert.equal(await count('emarsys'), 0);
            const ok = await connectUi('/auth/signature', 'emarsys', { type: 'SIGNATURE', ...EMARSYS });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            // The stand-in refuses a nonce it saw: three calls in a row pass only with three tokens.
            for (let i = 0; i < 3; i++) {
                const r = await proxy('emarsys', ok.body.connectionId, '/api/v2/email');
                assert.equal(r.status, 200, await r.clone().text());
            }
            const a = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=emarsys`);
            const b = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=emarsys`);
            assert.equal(a.body.credentials.type, 'SIGNATURE');
            assert.match(a.body.credentials.token, /^UsernameToken Username="acme001", PasswordDigest="[^"]+", Nonce="[0-9a-f]{32}", Created="[^"]+Z"$/);
            assert.notEqual(a.body.credentials.token, b.body.credentials.token, 'each reader gets a token of its own');
            assert.ok(Date.parse(a.body.credentials.expires_at) > Date.now());
            // The token an app reads is good at the API, once.
            const direct = wsseRefusal(a.body.credentials.token, wsseNonces);
            assert.equal(direct, undefined);
            assert.equal(wsseRefusal(a.body.credentials.token, wsseNonces), 'nonce reused');

            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'emarsys',
                connection_id: 'em-imp',
                credentials: { type: 'SIGNATURE', ...EMARSYS }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            assert.equal((await proxy('emarsys', 'em-imp', '/api/v2/settings')).status, 200);
            const badImport = await api(server, 'POST', '/connections', {
                provider_config_key: 'emarsys',
                connection_id: 'em-bad',
                credentials: { type: 'SIGNATURE', ...EMARSYS, password: 'wrong' }
            });
            assert.equal(badImport.status, 201, 'an import is stored as given, as for API keys');
            const refused = await proxy('emarsys', 'em-bad', '/api/v2/settings');
            assert.equal(refused.status, 401);
            assert.match(((await refused.json()) as Json).replyText, /digest/);
        });

        it('BILL: the login issues a session; wrong values get Bill’s error; an expired session is renewed by a new login', async () => {
            const before = seen('/bill/v3/login');
            const wrong = await connectUi('/auth/bill', 'bill', { ...BILL, password: 'wrong' });
            assert.equal(wrong.status, 400);
            assert.equal(wrong.body.error.code, 'connection_test_failed');
            assert.equal(wrong.body.error.payload.error, 'BDC_1101', 'Bill’s own code reaches the app');
            const badKey = await connectUi('/auth/bill', 'bill', { ...BILL, dev_key: 'nope' });
            assert.equal(badKey.body.error.payload.error, 'BDC_1102');
            const missing = await connectUi('/auth/bill', 'bill', { username: BILL.username, password: BILL.password });
            assert.equal(missing.status, 400);
            assert.equal(missing.body.error.code, 'invalid_body');
            assert.equal(seen('/bill/v3/login'), before + 2, 'a body missing fields never reaches Bill');
            assert.equal(await count('bill'), 0);

            const ok = await connectUi('/auth/bill', 'bill', BILL);
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const conn = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=bill`);
            assert.equal(conn.body.credentials.type, 'BILL');
            const first = conn.body.credentials.session_id as string;
            assert.ok(billSessions.has(first));
            assert.equal(conn.body.credentials.user_id, '006XYZ');
            const expires = Date.parse(conn.body.credentials.expires_at) - Date.now();
            assert.ok(expires > 30 * 60_000 && expires <= 35 * 60_000, 'a session lives 35 minutes');
            const vendors = await proxy('bill', ok.body.connectionId, '/v3/vendors');
            assert.equal(vendors.status, 200);
            assert.equal(((await vendors.json()) as Json).session, first);

            // Bill ends the session (35 idle minutes): the proxy's 401 (BDC_1109) logs in again once and retries.
            billSessions.delete(first);
            const afterExpiry = await proxy('bill', ok.body.connectionId, '/v3/vendors');
            assert.equal(afterExpiry.status, 200, await afterExpiry.clone().text());
            const second = ((await afterExpiry.json()) as Json).session as string;
            assert.notEqual(second, first);
            // force_refresh logs in again too.
            const forced = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=bill&force_refresh=true`);
            assert.notEqual(forced.body.credentials.session_id, second);
        });

        it('BILL import: a session near its end is renewed before the call; without one the login is made at import', async () => {
            const stale = `stale-${randomBytes(4).toString('hex')}`;
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'bill',
                connection_id: 'bill-imp',
                credentials: { type: 'BILL', ...BILL, session_id: stale, expires_at: new Date(Date.now() + 60_000).toISOString() }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            const r = await proxy('bill', 'bill-imp', '/v3/vendors');
            assert.equal(r.status, 200);
            assert.ok(!up.requests.some((q) => q.headers['sessionid'] === stale), 'the session about to end was never sent');
            const fresh = await api(server, 'POST', '/connections', {
                provider_config_key: 'bill',
                connection_id: 'bill-imp-2',
                credentials: { type: 'BILL', ...BILL }
            });
            assert.equal(fresh.status, 201);
            assert.ok(billSessions.has(fresh.body.credentials.session_id));
            const refused = await api(server, 'POST', '/connections', {
                provider_config_key: 'bill',
                connection_id: 'bill-imp-bad',
                credentials: { type: 'BILL', ...BILL, password: 'wrong' }
            });
            assert.equal(refused.status, 400);
            assert.equal((await api(server, 'GET', '/connections/bill-imp-bad?provider_config_key=bill')).status, 404);
            const mismatched = await api(server, 'POST', '/connections', {
                provider_config_key: 'bill',
                connection_id: 'bill-tba',
                credentials: { type: 'TBA', ...NS_TOKEN }
            });
            assert.equal(mismatched.status, 400);
            assert.equal(mismatched.body.error.code, 'invalid_auth_mode');
        });

        it('another environment’s key reaches none of these connections, and nothing goes upstream for it', async () => {
            const upstreamBefore = up.requests.length;
            for (const [key, id] of [
                ['ns', 'ns-imp'],
                ['emarsys', 'em-imp'],
                ['bill', 'bill-imp']
            ] as const) {
                const r = await proxy(key, id, '/anything', {}, keyB);
                assert.ok(r.status === 400 || r.status === 404, `${key}: ${r.status}`);
                const got = await api(server, 'GET', `/connections/${id}?provider_config_key=${key}`, undefined, { authorization: `Bearer ${keyB}` });
                assert.ok(got.status === 400 || got.status === 404);
                assert.ok(!JSON.stringify(got.body).includes(BILL.password));
            }
            const imp = await api(
                server,
                'POST',
                '/connections',
                { provider_config_key: 'bill', connection_id: 'x', credentials: { type: 'BILL', ...BILL } },
                { authorization: `Bearer ${keyB}` }
            );
            assert.equal(imp.status, 404);
            assert.equal(imp.body.error.code, 'unknown_provider_config');
            assert.equal(up.requests.length, upstreamBefore, 'no call reached a provider');
        });

        it('no secret of these modes reaches the log', () => {
            const log = server.output();
            for (const secret of [NS.consumerSecret, NS_TOKEN.token_secret, EMARSYS.password, BILL.password, BILL.dev_key, ...billSessions])
                assert.ok(!log.includes(secret), 'a secret was logged');
        });
    });
}
