// MCP_OAUTH2 (issue #15 item 2): an integration for a remote MCP server needs no client id or secret. The first
// connect discovers the authorization server from the MCP server (RFC 9728 metadata named by its 401), reads that
// server's metadata (RFC 8414, here through the OpenID Connect fallback), registers a client (RFC 7591) and runs
// the code flow with PKCE and `resource` (RFC 8707); the proxy then reaches the MCP server with the token, and a
// refresh works. Against a loopback MCP stand-in and oidc-provider with dynamic registration and resource
// indicators, on the embedded database and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import pg from 'pg';
import { startServer, storageEnv, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { CookieJar, hop, loginAndConsent, freePort, openSdkSocket } from './support/browserless.ts';
import { adminApi, api } from './support/webhooks.ts';
import { startMcpStandIn, type McpStandIn } from './support/remote-mcp.ts';

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`MCP_OAUTH2: discovery, dynamic registration, resource indicators (${backend})`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let refusing: TestAuthServer;
        let mcp: McpStandIn;
        let nango: Nango;
        let publicUrl: string;
        let databaseUrl: string | undefined;
        let dropDb: (() => Promise<void>) | undefined;

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            mcp = await startMcpStandIn(() => ({ as, refusing }));
            as = await startAuthServer({
                redirectUri: `${publicUrl}/oauth/callback`,
                dynamicRegistration: {},
                resourceIndicator: { indicator: `${mcp.base}/mcp`, scope: 'mcp:tools' }
            });
            refusing = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback`, dynamicRegistration: { initialAccessToken: 'not-yours' } });
            // Nango's shape: the entry names the authorization, token and registration URLs; no discovery, no resource.
            const nangoShaped = `mcp-static:
  display_name: mcp-static
  auth_mode: MCP_OAUTH2
  client_registration: dynamic
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  registration_url: ${as.registrationUrl}
  default_scopes: [openid]
  registration_params:
    grant_types: [authorization_code, refresh_token]
  refresh_params:
    grant_type: refresh_token
  proxy:
    base_url: ${mcp.base}
`;
            const entry = (name: string, path: string) => `${name}:
  display_name: ${name}
  auth_mode: MCP_OAUTH2
  mcp_server_url: ${mcp.base}${path}
  proxy:
    base_url: ${mcp.base}
`;
            const storage = await storageEnv(backend);
            dropDb = storage.drop;
            databaseUrl = storage.env['SWITCHBOARD_DATABASE_URL'];
            server = await startServer({
                ...storage.env,
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    entry('mcp-test', '/mcp') +
                        entry('mcp-mismatch', '/mismatch/mcp') +
                        entry('mcp-elsewhere', '/elsewhere/mcp') +
                        entry('mcp-refusing', '/refusing/mcp') +
                        nangoShaped
                )
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            // No client id or secret: the integration registers its own client.
            for (const provider of ['mcp-test', 'mcp-mismatch', 'mcp-elsewhere', 'mcp-refusing', 'mcp-static'])
                await nango.createIntegration({ provider, unique_key: provider });
        });
        after(async () => {
            if (process.env['DEBUG_MCP']) console.log(server?.output());
            await server?.stop();
            await as?.close();
            await refusing?.close();
            await mcp?.close();
            if (server) removeDir(server.dataDir);
            await dropDb?.();
        });

        const session = async (key: string) => (await nango.createConnectSession({ end_user: { id: 'user-1' }, allowed_integrations: [key] })).data.token;

        async function start(key: string, extra = '') {
            const socket = await openSdkSocket(publicUrl);
            const jar = new CookieJar();
            const res = await hop(jar, `${publicUrl}/oauth/connect/${key}?connect_session_token=${await session(key)}&ws_client_id=${socket.clientId}${extra}`);
            await res.arrayBuffer();
            return { socket, jar, res, location: res.headers.get('location') ?? '' };
        }

        /** A start that must fail: no redirect to an authorization server, and the error frame the popup's socket gets. */
        async function failedStart(key: string, extra = '') {
            const { socket, res } = await start(key, extra);
            if (res.status === 302) socket.close();
            assert.notEqual(res.status, 302, 'no redirect to the authorization server');
            const frame = await socket.frame();
            socket.close();
            return frame;
        }

        const integrationCredentials = async (key: string) =>
            (await api(server, 'GET', `/integrations/${key}?include=credentials`)).body.data.credentials as Record<string, unknown> | null;

        let connectionId = '';

        it('registers a client on the first connect, runs the code flow with PKCE and resource, proxies and refreshes', async () => {
            const { socket, jar, res, location } = await start('mcp-test');
            assert.equal(res.status, 302, res.status === 302 ? '' : JSON.stringify(await socket.frame()));
            // Discovery: the MCP server was asked without a token, then its metadata at the URL its 401 named.
            assert.ok(mcp.requests.some((r) => r.path === '/mcp' && r.authorization === undefined));
            assert.ok(mcp.requests.some((r) => r.path === '/.well-known/oauth-protected-resource/mcp'));
            // RFC 7591: one client, registered with our exact callback for the code and refresh grants.
            assert.equal(as.counts.registered, 1);
            const registered = as.registeredClients[0]!;
            assert.deepEqual(registered['redirect_uris'], [`${publicUrl}/oauth/callback`]);
            assert.deepEqual(registered['grant_types'], ['authorization_code', 'refresh_token']);
            assert.equal(registered['token_endpoint_auth_method'], 'client_secret_basic');

            const authorize = new URL(location);
            assert.equal(authorize.origin + authorize.pathname, as.authorizationUrl);
            assert.equal(authorize.searchParams.get('client_id'), registered['client_id']);
            assert.equal(authorize.searchParams.get('resource'), `${mcp.base}/mcp`, 'RFC 8707 resource on the authorization request');
            assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
            assert.equal(authorize.searchParams.get('scope'), 'mcp:tools', "the scope the resource's metadata offers");

            // The registered client is stored as the integration's, its secret vault-encrypted.
            const stored = await integrationCredentials('mcp-test');
            assert.equal(stored?.['type'], 'MCP_OAUTH2');
            assert.equal(stored?.['client_id'], registered['client_id']);
            assert.equal(stored?.['client_secret'], registered['client_secret']);
            if (databaseUrl) {
                const db = new pg.Client({ connectionString: databaseUrl });
                await db.connect();
                const { rows } = await db.query<{ credentials: string }>("SELECT credentials FROM integrations WHERE unique_key = 'mcp-test'");
                await db.end();
                assert.ok(!rows[0]!.credentials.includes(String(registered['client_secret'])), 'no plaintext client secret in the database');
            }

            const callback = await loginAndConsent(location);
            const page = await hop(jar, callback.href);
            assert.equal(page.status, 200, await page.text());
            const frame = await socket.frame();
            socket.close();
            assert.equal(frame['message_type'], 'success', JSON.stringify(frame));
            connectionId = String(frame['connection_id']);
            const exchange = as.events.find((e) => e.kind === 'authorization_code');
            assert.equal(exchange?.clientAuth, 'client_secret_basic');

            const conn = await nango.getConnection('mcp-test', connectionId);
            const creds = conn.credentials as { type: string; access_token: string };
            assert.equal(creds.type, 'OAUTH2');

            // The proxy calls the MCP server with the bearer token, which the server checks at the authorization server.
            const call = async () =>
                nango.proxy({
                    method: 'POST',
                    endpoint: '/mcp',
                    providerConfigKey: 'mcp-test',
                    connectionId,
                    data: { jsonrpc: '2.0', id: 7, method: 'tools/list' }
                });
            const first = await call();
            assert.equal(first.status, 200);
            assert.deepEqual((first.data as { result: unknown }).result, { tools: [{ name: 'list_issues' }] });
            assert.equal(mcp.requests.at(-1)?.authorization, `Bearer ${creds.access_token}`);

            // A forced refresh: a new token from the registered client's token endpoint, still good at the MCP server.
            const refreshes = as.counts.refresh;
            const refreshed = await nango.getConnection('mcp-test', connectionId, true);
            const after = refreshed.credentials as { access_token: string };
            assert.equal(as.counts.refresh, refreshes + 1);
            assert.notEqual(after.access_token, creds.access_token);
            assert.equal(as.events.findLast((e) => e.kind === 'refresh')?.clientAuth, 'client_secret_basic');
            const second = await call();
            assert.equal(second.status, 200);
            assert.equal(mcp.requests.at(-1)?.authorization, `Bearer ${after.access_token}`);

            // Nothing secret reached the logs: the registered client's secret, the tokens.
            const logs = server.output();
            for (const secret of [String(registered['client_secret']), creds.access_token, after.access_token])
                assert.ok(!logs.includes(secret), 'a secret value is in the server logs');
        });

        it('a second connect reuses the registered client', async () => {
            const before = as.counts.registrationRequests;
            const { socket, res, location } = await start('mcp-test');
            socket.close();
            assert.equal(res.status, 302);
            assert.equal(new URL(location).searchParams.get('client_id'), as.registeredClients[0]!['client_id']);
            assert.equal(as.counts.registrationRequests, before, 'no second registration');
        });

        it('two first connects at once keep one registered client', async () => {
            await nango.createIntegration({ provider: 'mcp-test', unique_key: 'mcp-twice' });
            const [a, b] = await Promise.all([start('mcp-twice'), start('mcp-twice')]);
            a.socket.close();
            b.socket.close();
            assert.equal(a.res.status, 302);
            assert.equal(b.res.status, 302);
            const stored = await integrationCredentials('mcp-twice');
            assert.equal(new URL(a.location).searchParams.get('client_id'), stored?.['client_id']);
            assert.equal(new URL(b.location).searchParams.get('client_id'), stored?.['client_id'], 'both flows use the stored client');
        });

        it("an operator's own client (OAUTH2 credentials) is used as given, without registration", async () => {
            await nango.createIntegration({
                provider: 'mcp-static',
                unique_key: 'mcp-own-client',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret, scopes: 'openid' }
            });
            const registrations = as.counts.registrationRequests;
            const { socket, res, location } = await start('mcp-own-client');
            socket.close();
            assert.equal(res.status, 302);
            assert.equal(new URL(location).searchParams.get('client_id'), as.clientId);
            assert.equal(as.counts.registrationRequests, registrations, 'no registration');
            assert.equal((await integrationCredentials('mcp-own-client'))?.['type'], 'OAUTH2', 'the credentials are left as given');
        });

        it('POST /connections imports OAUTH2 credentials; the proxy sends them to the MCP server', async () => {
            const grant = await as.mintGrant({ scope: 'openid' });
            const res = await api(server, 'POST', '/connections', {
                provider_config_key: 'mcp-test',
                connection_id: 'imported',
                credentials: { type: 'OAUTH2', access_token: grant.accessToken }
            });
            assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
            const call = await nango.proxy({
                method: 'POST',
                endpoint: '/mcp',
                providerConfigKey: 'mcp-test',
                connectionId: 'imported',
                data: { jsonrpc: '2.0', id: 2 }
            });
            assert.equal(call.status, 200);
            assert.equal(mcp.requests.at(-1)?.authorization, `Bearer ${grant.accessToken}`);
            const wrongType = await api(server, 'POST', '/connections', {
                provider_config_key: 'mcp-test',
                connection_id: 'imported-key',
                credentials: { type: 'API_KEY', apiKey: 'k' }
            });
            assert.equal(wrongType.status, 400, JSON.stringify(wrongType.body));
        });

        it('refuses a resource parameter chosen by the browser', async () => {
            const frame = await failedStart('mcp-test', `&authorization_params[resource]=${encodeURIComponent('https://evil.example/mcp')}`);
            assert.equal(frame['error_type'], 'invalid_query_params');
        });

        it('refuses metadata whose issuer does not match, before any registration request', async () => {
            const registrations = as.counts.registrationRequests + refusing.counts.registrationRequests;
            const frame = await failedStart('mcp-mismatch');
            assert.equal(frame['error_type'], 'mcp_discovery_failed');
            assert.match(String(frame['error_desc']), /names issuer .* not .*fake-as/);
            assert.ok(
                mcp.requests.some((r) => r.path === '/.well-known/oauth-authorization-server/fake-as'),
                'the mismatched metadata was read'
            );
            assert.equal(as.counts.registrationRequests + refusing.counts.registrationRequests, registrations, 'no registration request was sent');
            assert.equal(await integrationCredentials('mcp-mismatch'), null, 'nothing stored');
        });

        it('refuses protected-resource metadata that describes another resource, before any registration request', async () => {
            const registrations = as.counts.registrationRequests;
            const frame = await failedStart('mcp-elsewhere');
            assert.equal(frame['error_type'], 'mcp_discovery_failed');
            assert.match(String(frame['error_desc']), /describes .*\/mcp, not .*\/elsewhere\/mcp/);
            assert.equal(as.counts.registrationRequests, registrations, 'no registration request was sent');
            assert.equal(await integrationCredentials('mcp-elsewhere'), null, 'nothing stored');
        });

        it("Nango's entry shape: registers at the named URL as a public client, without discovery; flow, proxy and refresh", async () => {
            const discovery = mcp.requests.length;
            const registered = as.counts.registered;
            const { socket, jar, res, location } = await start('mcp-static');
            assert.equal(res.status, 302, res.status === 302 ? '' : JSON.stringify(await socket.frame()));
            assert.equal(mcp.requests.length, discovery, 'the MCP server was not asked');
            assert.equal(as.counts.registered, registered + 1);
            const client = as.registeredClients.at(-1)!;
            assert.equal(client['token_endpoint_auth_method'], 'none');
            const authorize = new URL(location);
            assert.equal(authorize.searchParams.get('client_id'), client['client_id']);
            assert.equal(authorize.searchParams.get('resource'), null);
            assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
            const stored = await integrationCredentials('mcp-static');
            assert.equal(stored?.['client_secret'], null, 'a public client has no secret');

            const page = await hop(jar, (await loginAndConsent(location)).href);
            assert.equal(page.status, 200, await page.text());
            const frame = await socket.frame();
            socket.close();
            assert.equal(frame['message_type'], 'success', JSON.stringify(frame));
            const id = String(frame['connection_id']);
            assert.equal(as.events.findLast((e) => e.kind === 'authorization_code')?.clientAuth, 'none');
            const conn = await nango.getConnection('mcp-static', id);
            const token = (conn.credentials as { access_token: string }).access_token;
            const res2 = await nango.proxy({
                method: 'POST',
                endpoint: '/mcp',
                providerConfigKey: 'mcp-static',
                connectionId: id,
                data: { jsonrpc: '2.0', id: 1 }
            });
            assert.equal(res2.status, 200);
            assert.equal(mcp.requests.at(-1)?.authorization, `Bearer ${token}`);
            const refreshed = await nango.getConnection('mcp-static', id, true);
            assert.notEqual((refreshed.credentials as { access_token: string }).access_token, token);
            assert.equal(as.events.findLast((e) => e.kind === 'refresh')?.clientAuth, 'none', 'client_id alone, no secret');
        });

        it('reports a refused registration clearly and stores nothing', async () => {
            const frame = await failedStart('mcp-refusing');
            assert.equal(frame['error_type'], 'mcp_registration_failed');
            assert.match(String(frame['error_desc']), /refused to register Switchboard as an OAuth client: invalid_token/);
            assert.equal(refusing.counts.registrationRequests, 1);
            assert.equal(refusing.counts.registered, 0);
            assert.equal(await integrationCredentials('mcp-refusing'), null, 'nothing stored');
        });

        it("another environment's key cannot read or use the connection", async () => {
            assert.ok(connectionId, 'the flow test made a connection');
            const created = await adminApi(server, 'POST', '/admin/environments', { name: 'prod' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const other = { authorization: `Bearer ${created.body.data.secret_key}` };
            const seen = mcp.requests.length;
            const read = await api(server, 'GET', `/connection/${connectionId}?provider_config_key=mcp-test`, undefined, other);
            assert.equal(read.status, 400, JSON.stringify(read.body));
            assert.equal(read.body.error.code, 'unknown_provider_config', 'the integration does not exist in that environment');
            const proxied = await api(
                server,
                'POST',
                '/proxy/mcp',
                { jsonrpc: '2.0', id: 1, method: 'tools/list' },
                {
                    ...other,
                    'connection-id': connectionId,
                    'provider-config-key': 'mcp-test'
                }
            );
            assert.ok(proxied.status >= 400 && proxied.status < 500, JSON.stringify(proxied.body));
            assert.match(String(proxied.body.error.code), /^unknown_(provider_config|connection)$/);
            assert.equal(mcp.requests.length, seen, 'the MCP server was not called');
            const integration = await api(server, 'GET', '/integrations/mcp-test?include=credentials', undefined, other);
            assert.equal(integration.status, 404, 'the registered client is not visible to another environment');
        });

        it('deleting the connection revokes its grant at the discovered revocation endpoint', async () => {
            const conn = await nango.getConnection('mcp-test', connectionId);
            const token = (conn.credentials as { access_token: string }).access_token;
            assert.ok(await as.isAccessTokenActive(token));
            const revocations = as.counts.revocation;
            await nango.deleteConnection('mcp-test', connectionId);
            assert.equal(as.counts.revocation, revocations + 1);
            assert.equal(as.events.findLast((e) => e.kind === 'revocation')?.clientAuth, 'client_secret_basic');
            assert.equal(await as.isAccessTokenActive(token), false, 'the grant is gone at the authorization server');
        });

        it('refuses integration credentials that do not apply to MCP_OAUTH2', async () => {
            const res = await api(server, 'POST', '/integrations', {
                provider: 'mcp-test',
                unique_key: 'mcp-app',
                credentials: { type: 'OAUTH1', client_id: 'x', client_secret: 'y' }
            });
            assert.equal(res.status, 400, JSON.stringify(res.body));
            assert.equal((await api(server, 'GET', '/integrations/mcp-app')).status, 404, 'nothing created');
        });
    });
}
