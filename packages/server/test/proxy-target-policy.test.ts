// Issue #10 item 3: every credentialed request obeys one target policy. The allow-list of Base-Url-Override
// (provider base URL, catalogue allow-list, integration allow-list) applies to scripts' baseUrlOverride,
// absolute endpoints and nango.paginate next links as it does to /proxy; a proxied path that steps out of its
// base's path (.., %2e%2e, .%2E, ..\, ..%2f, ..%5c) is refused. Each refusal is checked on what did NOT
// happen: the attacker's loopback server (or the provider outside its base path) received nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, writeProvidersFile, type TestServer } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { api, type Json } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

const KEY = 'target';
const CONN = 'tenant-1';

/** A request with its path sent byte for byte (fetch would resolve the dot segments before sending). */
function rawRequest(server: TestServer, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Json }> {
    return new Promise((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        const req = request(
            {
                host: hostname,
                port,
                method,
                path,
                headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => {
                    const text = Buffer.concat(chunks).toString('utf8');
                    resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Json) : undefined });
                });
            }
        );
        req.on('error', reject);
        req.end(body);
    });
}

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`one target policy for /proxy and scripts (${backend})`, () => {
        let server: TestServer;
        let provider: Upstream;
        let allowed: Upstream;
        let attacker: Upstream;
        let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
        const apiKey = `key-${randomBytes(8).toString('hex')}`;
        const seen = (up: Upstream, pathPrefix = '') => up.requests.filter((r: RecordedRequest) => r.url.startsWith(pathPrefix));
        const trigger = async (input: Record<string, unknown>): Promise<Json> => {
            const res = await api(
                server,
                'POST',
                '/action/trigger',
                { action_name: 'proxy-target', input },
                { 'provider-config-key': KEY, 'connection-id': CONN }
            );
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return res.body;
        };

        before(async () => {
            provider = await startUpstream((req, res) => {
                const url = new URL(req.url, 'http://x');
                if (url.pathname === '/api/pages') {
                    const next = url.searchParams.get('next');
                    return json(res, 200, { items: [url.searchParams.get('page') ?? '1'], next: next ?? null });
                }
                return json(res, 200, { path: url.pathname, auth: req.headers.authorization ?? null });
            });
            allowed = await startUpstream((req, res) => {
                const url = new URL(req.url, 'http://x');
                if (url.pathname === '/v1/pages') return json(res, 200, { items: ['allowed'], next: null });
                return json(res, 200, { path: url.pathname, auth: req.headers.authorization ?? null });
            });
            attacker = await startUpstream((_req, res) => json(res, 200, { items: ['stolen'], next: null }));
            const providers = writeProvidersFile(
                `target-api:\n  display_name: Target\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${provider.url}/api\n    headers:\n      authorization: Bearer \${apiKey}\n`
            );
            const env: Record<string, string> = { SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_ACTION_TIMEOUT_MS: '20000' };
            if (backend === 'postgres') {
                database = await createTestDatabase();
                env['SWITCHBOARD_DATABASE_URL'] = database.url;
                env['SWITCHBOARD_ENCRYPTION_KEY'] = testEncryptionKey();
            }
            server = await startServer(env);
            const integration = await api(server, 'POST', '/integrations', {
                unique_key: KEY,
                provider: 'target-api',
                integration_config: { base_url_allowlist: `${allowed.url}/v1` }
            });
            assert.equal(integration.status, 200, JSON.stringify(integration.body));
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: KEY,
                connection_id: CONN,
                credentials: { type: 'API_KEY', apiKey }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const deployed = await deploy(server, [{ type: 'action', name: 'proxy-target', file: 'proxy-target.cjs', providerConfigKey: KEY }]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
        });

        after(async () => {
            await server?.stop();
            await Promise.all([provider?.close(), allowed?.close(), attacker?.close()]);
            if (server) removeDir(server.dataDir);
            await database?.drop();
        });

        it("a script's baseUrlOverride outside the allow-lists is refused and the attacker receives nothing", async () => {
            const out = await trigger({ endpoint: '/steal', baseUrlOverride: attacker.url });
            assert.equal(out.ok, false, JSON.stringify(out));
            assert.equal(out.code, 'base_url_override_not_allowed');
            assert.equal(attacker.requests.length, 0, 'no request reached the attacker');
        });

        it("a script's absolute endpoint outside the allow-lists is refused and the attacker receives nothing", async () => {
            const out = await trigger({ endpoint: `${attacker.url}/steal?x=1` });
            assert.equal(out.ok, false, JSON.stringify(out));
            assert.equal(out.code, 'base_url_override_not_allowed');
            // Same origin as the provider, outside its base path: refused too.
            const beside = await trigger({ endpoint: `${provider.url}/admin` });
            assert.equal(beside.code, 'base_url_override_not_allowed');
            assert.equal(attacker.requests.length, 0, 'no request reached the attacker');
            assert.equal(seen(provider, '/admin').length, 0, 'nothing reached the provider outside its base path');
        });

        it('a nango.paginate next link to another origin (or out of the base path) is refused after the first page', async () => {
            const out = await trigger({ mode: 'paginate', endpoint: `/pages?page=1&next=${encodeURIComponent(`${attacker.url}/api/pages?page=2`)}` });
            assert.equal(out.ok, false, JSON.stringify(out));
            assert.equal(out.code, 'base_url_override_not_allowed');
            assert.equal(seen(provider, '/api/pages').length, 1, 'the first page was fetched');
            const beside = await trigger({ mode: 'paginate', endpoint: `/pages?page=1&next=${encodeURIComponent(`${provider.url}/private/pages?page=2`)}` });
            assert.equal(beside.code, 'base_url_override_not_allowed');
            assert.equal(attacker.requests.length, 0, 'no request reached the attacker');
            assert.equal(seen(provider, '/private').length, 0);
        });

        it('allow-listed targets still work: override, absolute endpoint, next links on the base and to the allow-list', async () => {
            const viaOverride = await trigger({ endpoint: '/things', baseUrlOverride: `${allowed.url}/v1` });
            assert.equal(viaOverride.ok, true, JSON.stringify(viaOverride));
            assert.deepEqual(viaOverride.data, { path: '/v1/things', auth: `Bearer ${apiKey}` });
            const absolute = await trigger({ endpoint: `${allowed.url}/v1/other` });
            assert.deepEqual(absolute.data, { path: '/v1/other', auth: `Bearer ${apiKey}` });
            const onBase = await trigger({ endpoint: `${provider.url}/api/items` });
            assert.deepEqual(onBase.data, { path: '/api/items', auth: `Bearer ${apiKey}` });
            const pages = await trigger({
                mode: 'paginate',
                endpoint: `/pages?page=1&next=${encodeURIComponent(`${provider.url}/api/pages?page=2&next=${encodeURIComponent(`${allowed.url}/v1/pages`)}`)}`
            });
            assert.equal(pages.ok, true, JSON.stringify(pages));
            assert.deepEqual(pages.pages, [['1'], ['2'], ['allowed']]);
            // Under the allowed prefix as written, but a step out of it once %2f is decoded.
            const sneaky = await trigger({ endpoint: `${allowed.url}/v1/..%2fadmin` });
            assert.equal(sneaky.code, 'base_url_override_not_allowed');
            assert.equal(seen(allowed, '/v1/..').length, 0);
            assert.equal(attacker.requests.length, 0);
        });

        const traversals = [
            '/../secret',
            '/%2e%2e/secret',
            '/.%2E/secret',
            '/%2E./secret',
            '/..\\secret',
            '/..%5csecret',
            '/..%5Csecret',
            '/..%2fsecret',
            '/items/../../secret',
            // Encoded twice, for an upstream (or a gateway in front of it) that decodes twice.
            '/%252e%252e/secret',
            '/..%252fsecret',
            '/..%255Csecret',
            '/%25252e%25252e/secret'
        ];

        it('/proxy refuses every form of a path that leaves the base path, on the fast path and through Fastify', async () => {
            const h = { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': KEY, 'connection-id': CONN };
            for (const path of traversals) {
                // A bodiless GET with only the control headers takes the fast path; a POST goes through Fastify.
                const fast = await rawRequest(server, 'GET', `/proxy${path}`, h);
                assert.equal(fast.status, 400, `GET ${path}: ${JSON.stringify(fast.body)}`);
                assert.equal(fast.body.error.code, 'proxy_path_not_allowed', path);
                const slow = await rawRequest(server, 'POST', `/proxy${path}`, { ...h, 'content-type': 'application/json' }, '{"a":1}');
                assert.equal(slow.status, 400, `POST ${path}: ${JSON.stringify(slow.body)}`);
                assert.equal(slow.body.error.code, 'proxy_path_not_allowed', path);
                const override = await rawRequest(server, 'GET', `/proxy${path}`, { ...h, 'base-url-override': `${allowed.url}/v1` });
                assert.equal(override.body.error.code, 'proxy_path_not_allowed', `override ${path}`);
            }
            assert.equal(provider.requests.filter((r) => !r.url.startsWith('/api/')).length, 0, 'the provider saw nothing outside /api');
            assert.equal(allowed.requests.filter((r) => !r.url.startsWith('/v1/')).length, 0, 'the allow-listed host saw nothing outside /v1');
        });

        it('/proxy still serves paths that stay under the base, dot segments included', async () => {
            const h = { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': KEY, 'connection-id': CONN };
            const plain = await rawRequest(server, 'GET', '/proxy/items', h);
            assert.deepEqual(plain.body, { path: '/api/items', auth: `Bearer ${apiKey}` });
            const inside = await rawRequest(server, 'GET', '/proxy/a/../items', h);
            assert.deepEqual(inside.body, { path: '/api/items', auth: `Bearer ${apiKey}` });
            const encodedSlash = await rawRequest(server, 'GET', '/proxy/repos/owner%2Frepo', h);
            assert.deepEqual(encodedSlash.body, { path: '/api/repos/owner%2Frepo', auth: `Bearer ${apiKey}` });
        });
    });
}
