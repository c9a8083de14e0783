// Issue #10 item 1: an end user cannot move a provider's endpoints. `${connectionConfig.x}` in a provider URL
// takes only declared keys, never `automated` ones from the browser, each value matched against its pattern
// and checked for its place in the URL. Before the fix, `params[subdomain]=attacker.example/x?` made the
// server post the code, the PKCE verifier and the client secret to the attacker's host.
//
// The attacker is a raw TCP server on loopback: it counts connections, so an https request (TLS hello) counts
// as much as a plain one. Every test asserts it was never reached, on PGlite and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, writeProvidersFile, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { startUpstream, json } from './support/upstream.ts';
import { CookieJar, hop, loginAndConsent, freePort, openSdkSocket } from './support/browserless.ts';

interface Attacker {
    port: number;
    connections: number;
    close(): Promise<void>;
}

async function startAttacker(): Promise<Attacker> {
    const sockets = new Set<Socket>();
    const state = { connections: 0 };
    const server: Server = createServer((socket) => {
        state.connections++;
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return {
        port,
        get connections() {
            return state.connections;
        },
        close: () =>
            new Promise<void>((r) => {
                for (const s of sockets) s.destroy();
                server.close(() => r());
            })
    };
}

function providers(as: TestAuthServer, apiUrl: string): string {
    return `
tenant-oidc:
  display_name: Tenant OIDC
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}?tenant=\${connectionConfig.tenant}
  token_url: ${as.tokenUrl}?tenant=\${connectionConfig.tenant}
  token_request_auth_method: basic
  default_scopes: [openid, email]
  connection_config:
    tenant: { type: string, pattern: '^[a-z0-9-]+$' }
    region: { type: string, pattern: '^[a-z]+$', automated: true }
  proxy:
    base_url: ${apiUrl}/t/\${connectionConfig.tenant}
movable:
  display_name: Movable (no pattern, the place rule alone must hold)
  auth_mode: OAUTH2
  authorization_url: https://\${connectionConfig.subdomain}.example.com/oauth/authorize
  token_url: https://\${connectionConfig.subdomain}.example.com/oauth/token
  revocation_url: https://\${connectionConfig.subdomain}.example.com/oauth/revoke
  connection_config:
    subdomain: { type: string }
  proxy:
    base_url: https://\${connectionConfig.subdomain}.example.com/api
token-movable:
  display_name: Authorization at the real server, token endpoint templated
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: https://\${connectionConfig.subdomain}.example.com/token
  token_request_auth_method: basic
  default_scopes: [openid, email]
  connection_config:
    subdomain: { type: string }
`;
}

const backends = [
    { name: 'PGlite', postgres: false },
    { name: 'PostgreSQL', postgres: true }
];

for (const backend of backends) {
    describe(`connection config cannot move a provider's endpoints (${backend.name})`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let attacker: Attacker;
        let api: Awaited<ReturnType<typeof startUpstream>>;
        let nango: Nango;
        let publicUrl: string;
        let drop: (() => Promise<void>) | undefined;

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            attacker = await startAttacker();
            as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
            api = await startUpstream((_req, res) => json(res, 200, { ok: true }));
            const env: Record<string, string> = {
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(providers(as, api.url))
            };
            if (backend.postgres) {
                const db = await createTestDatabase();
                drop = db.drop;
                Object.assign(env, { SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() });
            }
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            const credentials = { type: 'OAUTH2' as const, client_id: as.clientId, client_secret: as.clientSecret, scopes: 'openid,email' };
            for (const [provider, key] of [
                ['tenant-oidc', 'tenant'],
                ['movable', 'movable'],
                ['token-movable', 'token-movable']
            ] as const) {
                await nango.createIntegration({ provider, unique_key: key, credentials });
            }
        });
        after(async () => {
            await server?.stop();
            await as?.close();
            await api?.close();
            await attacker?.close();
            await drop?.();
            if (server) removeDir(server.dataDir);
        });

        const session = async () => (await nango.createConnectSession({ end_user: { id: 'user-1' } })).data.token;
        const api_ = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
            fetch(`${server.url}${path}`, {
                method,
                headers: { authorization: `Bearer ${server.secretKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
                ...(body ? { body: JSON.stringify(body) } : {})
            });
        const evil = () => [
            `127.0.0.1:${attacker.port}/x?`,
            `attacker.example/x?`,
            `a@127.0.0.1:${attacker.port}`,
            `127.0.0.1:${attacker.port}`,
            `a\\b`,
            'a#b',
            'a%2fb'
        ];

        /** Starts a popup flow with the browser's params; returns the response and the SDK socket's frame. */
        async function connect(key: string, params: Record<string, string>) {
            const socket = await openSdkSocket(publicUrl);
            const jar = new CookieJar();
            const query = Object.entries(params)
                .map(([k, v]) => `&params[${encodeURIComponent(k)}]=${encodeURIComponent(v)}`)
                .join('');
            const res = await hop(jar, `${publicUrl}/oauth/connect/${key}?connect_session_token=${await session()}&ws_client_id=${socket.clientId}${query}`);
            const text = await res.text();
            return { res, text, jar, socket };
        }

        it('authorization redirect: a value that would leave the host is a 400 before any redirect', async () => {
            for (const value of evil()) {
                const { res, text, socket } = await connect('movable', { subdomain: value });
                assert.equal(res.status, 400, value);
                assert.equal(res.headers.get('location'), null, `${value}: no redirect`);
                assert.match(text, /invalid_connection_config/, value);
                const frame = await socket.frame();
                assert.equal(frame['error_type'], 'invalid_connection_config', value);
                socket.close();
            }
            assert.equal(attacker.connections, 0);
        });

        it('browser params: only declared, non-automated keys, each matching its pattern', async () => {
            const cases: Array<[string, Record<string, string>]> = [
                ['undeclared key', { tenant: 'acme', other: 'x' }],
                ['automated key', { tenant: 'acme', region: 'eu' }],
                ['pattern mismatch', { tenant: '../x' }],
                ['pattern mismatch (host)', { tenant: `127.0.0.1:${attacker.port}` }]
            ];
            for (const [name, params] of cases) {
                const { res, text, socket } = await connect('tenant', params);
                assert.equal(res.status, 400, name);
                assert.equal(res.headers.get('location'), null, `${name}: no redirect`);
                assert.match(text, /invalid_connection_config/, name);
                socket.close();
            }
            // The credential POST routes resolve the same flow: refused before anything is stored.
            const res = await fetch(`${server.url}/oauth2/auth/tenant?connect_session_token=${await session()}&params[region]=eu`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ client_id: 'x', client_secret: 'y' })
            });
            assert.equal(res.status, 400);
            assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_connection_config');
            // The app's session defaults obey the declared patterns too, refused when the session is created.
            const badSession = await api_('POST', '/connect/sessions', {
                end_user: { id: 'u' },
                integrations_config_defaults: { tenant: { connection_config: { tenant: 'attacker.example/x?' } } }
            });
            assert.equal(badSession.status, 400);
            assert.equal(((await badSession.json()) as { error: { code: string } }).error.code, 'invalid_connection_config');
            assert.equal(attacker.connections, 0);
        });

        it('token exchange: the code, verifier and client secret never reach a host the end user chose', async () => {
            const before = as.counts.tokenRequests;
            const { res, text, jar, socket } = await connect('token-movable', { subdomain: `127.0.0.1:${attacker.port}/x?` });
            if (res.status === 302) {
                // The old behaviour: follow it through, as the end user would, to show where the code goes.
                const callback = await loginAndConsent(res.headers.get('location')!);
                await (await hop(jar, callback.href)).arrayBuffer();
            } else {
                assert.equal(res.status, 400);
                assert.match(text, /invalid_connection_config/);
            }
            socket.close();
            assert.equal(attacker.connections, 0, 'no connection reached the attacker');
            assert.equal(as.counts.tokenRequests, before);
        });

        it('stored config (an import by the app): the proxy, a refresh and a revocation refuse to build the URL', async () => {
            const value = `127.0.0.1:${attacker.port}/x?`;
            // A declared field without a pattern is accepted from the app; the URL builder is the last wall.
            const imported = await api_('POST', '/connections', {
                provider_config_key: 'movable',
                connection_id: 'moved',
                credentials: { type: 'OAUTH2', access_token: 'at-1', refresh_token: 'rt-1', expires_at: new Date(Date.now() - 60_000).toISOString() },
                connection_config: { subdomain: value }
            });
            assert.equal(imported.status, 201, await imported.text());

            const proxied = await api_('GET', '/proxy/items', undefined, { 'connection-id': 'moved', 'provider-config-key': 'movable' });
            assert.equal(proxied.status, 400);
            assert.equal(((await proxied.json()) as { error: { code: string } }).error.code, 'invalid_connection_config');

            const refreshed = await api_('GET', '/connections/moved?provider_config_key=movable&force_refresh=true');
            assert.equal(refreshed.status, 400);
            assert.equal(((await refreshed.json()) as { error: { code: string } }).error.code, 'invalid_connection_config');

            const deleted = await api_('DELETE', '/connections/moved?provider_config_key=movable');
            assert.equal(deleted.status, 200);
            assert.equal(attacker.connections, 0, 'no connection reached the attacker');

            // A declared pattern is enforced on import too: refused, nothing stored.
            const refused = await api_('POST', '/connections', {
                provider_config_key: 'tenant',
                connection_id: 'bad-tenant',
                credentials: { type: 'OAUTH2', access_token: 'at-2' },
                connection_config: { tenant: 'attacker.example/x?' }
            });
            assert.equal(refused.status, 400);
            assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'invalid_connection_config');
            assert.equal((await api_('GET', '/connections/bad-tenant?provider_config_key=tenant')).status, 404);
        });

        it('a declared key with a valid value works end to end: authorization, token exchange, proxy and refresh', async () => {
            const codes = as.counts.authorizationCode;
            const { res, jar, socket } = await connect('tenant', { tenant: 'acme' });
            assert.equal(res.status, 302);
            const authorize = new URL(res.headers.get('location')!);
            assert.equal(authorize.origin + authorize.pathname, as.authorizationUrl);
            assert.equal(authorize.searchParams.get('tenant'), 'acme');
            const callback = await loginAndConsent(authorize.href);
            const page = await hop(jar, callback.href);
            assert.equal(page.status, 200, await page.text());
            const frame = await socket.frame();
            socket.close();
            assert.equal(frame['message_type'], 'success');
            assert.equal(as.counts.authorizationCode, codes + 1);
            const connectionId = String(frame['connection_id']);

            const conn = (await (await api_('GET', `/connections/${connectionId}?provider_config_key=tenant`)).json()) as {
                connection_config: Record<string, unknown>;
            };
            assert.equal(conn.connection_config['tenant'], 'acme');

            const proxied = await api_('GET', '/proxy/items?x=1', undefined, { 'connection-id': connectionId, 'provider-config-key': 'tenant' });
            assert.equal(proxied.status, 200, await proxied.text());
            assert.equal(api.requests.at(-1)?.url, '/t/acme/items?x=1');

            const refreshes = as.counts.refresh;
            const refreshed = await api_('GET', `/connections/${connectionId}?provider_config_key=tenant&force_refresh=true`);
            assert.equal(refreshed.status, 200, await refreshed.text());
            assert.equal(as.counts.refresh, refreshes + 1);
            assert.equal(attacker.connections, 0);
        });
    });
}
