// Issue #12 item 5: with SWITCHBOARD_PUBLIC_PORT set, a second listener serves only what browsers and providers
// reach. The test walks the route table: every secret-key route is a 404 there, every public route still answers,
// and the main port keeps serving everything.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { routeTable } from '../src/routes.ts';
import { servedOnPublic } from '../src/http/route.ts';
import { loadConfig } from '../src/config/config.ts';
import { startServer, removeDir, createTestDatabase, testEncryptionKey, writeProvidersFile, type TestServer } from './support/server.ts';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { openSdkSocket } from './support/browserless.ts';

interface Probe {
    method: string;
    path: string;
    public: boolean;
}

// One concrete request per method and path of every declared route: parameters filled with a harmless value.
const probes: Probe[] = routeTable.flatMap((def) => {
    const methods = Array.isArray(def.method) ? def.method : [def.method];
    const urls = Array.isArray(def.url) ? def.url : [def.url];
    return methods.flatMap((method) =>
        urls.map((url) => ({
            method: String(method),
            path: url.replace(/:[A-Za-z]+/g, 'probe-x').replace(/\*$/, 'probe-x'),
            public: servedOnPublic(def)
        }))
    );
});

async function call(base: string, p: Probe, auth?: string): Promise<{ status: number; code: string | undefined }> {
    const res = await fetch(`${base}${p.path}`, { method: p.method, headers: auth ? { authorization: `Bearer ${auth}` } : {}, redirect: 'manual' });
    const text = await res.text();
    let code: string | undefined;
    try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
        code = undefined;
    }
    return { status: res.status, code };
}

it('config: the public port must differ from PORT, and the callback URL obeys the server URL rules (issue #12 items 4, 5)', () => {
    assert.throws(() => loadConfig({ PORT: '3003', SWITCHBOARD_PUBLIC_PORT: '3003' }), /SWITCHBOARD_PUBLIC_PORT: must differ/);
    assert.throws(() => loadConfig({ SWITCHBOARD_CALLBACK_URL: 'http://app.example.com/cb' }), /SWITCHBOARD_CALLBACK_URL: must use https/);
    assert.throws(() => loadConfig({ SWITCHBOARD_CALLBACK_URL: 'https://app.example.com/cb?x=1' }), /SWITCHBOARD_CALLBACK_URL: must not contain a query/);
    const c = loadConfig({ PORT: '3003', SWITCHBOARD_PUBLIC_PORT: '3004', SWITCHBOARD_CALLBACK_URL: 'https://app.example.com/oauth/callback' });
    assert.deepEqual(c.publicListener, { port: 3004, host: '0.0.0.0' });
    assert.equal(c.serverUrl, 'http://localhost:3004', 'browsers reach the public port');
    assert.equal(c.callbackUrl, 'https://app.example.com/oauth/callback');
    assert.equal(loadConfig({}).publicListener, undefined);
});

const backends = [
    { name: 'PGlite', env: async () => ({ env: {}, drop: async () => {} }) },
    {
        name: 'PostgreSQL',
        env: async () => {
            const db = await createTestDatabase();
            return { env: { SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() }, drop: db.drop };
        }
    }
];

for (const backend of backends) {
    describe(`public listener (issue #12 item 5) on ${backend.name}`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let publicUrl: string;
        let nango: Nango;
        let drop: () => Promise<void>;

        before(async () => {
            const db = await backend.env();
            drop = db.drop;
            as = await startAuthServer();
            server = await startServer({
                ...db.env,
                SWITCHBOARD_PUBLIC_PORT: '0',
                SWITCHBOARD_PUBLIC_HOST: '127.0.0.1',
                SWITCHBOARD_PROVIDERS: writeProvidersFile(providerYaml(as, 'test-oidc'))
            });
            publicUrl = server.publicUrl!;
            assert.ok(publicUrl, 'the server reports its public URL');
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
            });
        });
        after(async () => {
            await server?.stop();
            await as?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('the route table has routes on both sides, and every secret-key route is a plain 404 on the public port, key or not', async () => {
            assert.ok(probes.some((p) => p.public) && probes.some((p) => !p.public));
            // OPTIONS is CORS's, on every path: an admin path must answer exactly as a path that does not exist.
            const nowhere = await call(publicUrl, { method: 'OPTIONS', path: '/no-such-route', public: false });
            for (const p of probes.filter((x) => !x.public)) {
                for (const auth of [server.secretKey, undefined]) {
                    const r = await call(publicUrl, p, auth);
                    if (p.method === 'OPTIONS') {
                        assert.deepEqual(r, nowhere, `${p.method} ${p.path} on the public port`);
                        continue;
                    }
                    // A HEAD answer has no body to carry the code.
                    assert.deepEqual(r, { status: 404, code: p.method === 'HEAD' ? undefined : 'route_not_found' }, `${p.method} ${p.path} on the public port`);
                }
            }
            // Nothing was done on the way: the integration is still the only one, untouched.
            const list = await nango.listIntegrations();
            assert.deepEqual(
                list.configs.map((c) => c.unique_key),
                ['oidc']
            );
        });

        it('the main port still serves every route (private and public alike)', async () => {
            for (const p of probes) {
                const r = await call(server.url, p, server.secretKey);
                assert.notEqual(r.code, 'route_not_found', `${p.method} ${p.path} on the main port`);
                if (p.method === 'HEAD') assert.notEqual(r.status, 404, `${p.method} ${p.path} on the main port`);
            }
        });

        it('every public route answers on the public port (no route is missing)', async () => {
            for (const p of probes.filter((x) => x.public)) {
                const r = await call(publicUrl, p);
                assert.notEqual(r.code, 'route_not_found', `${p.method} ${p.path} on the public port`);
            }
        });

        it('what browsers and providers use works there: health, session routes, OAuth connect, the WebSocket, the Connect UI, webhooks', async () => {
            assert.deepEqual(await (await fetch(`${publicUrl}/health`)).json(), { result: 'ok' });
            const token = (await nango.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: ['oidc'] })).data.token;
            const session = { authorization: `Bearer ${token}` };
            assert.equal((await fetch(`${publicUrl}/connect/session`, { headers: session })).status, 200);
            const integrations = await fetch(`${publicUrl}/integrations`, { headers: session });
            assert.equal(integrations.status, 200);
            assert.equal((await fetch(`${publicUrl}/providers/test-oidc`, { headers: session })).status, 200);
            // Routes taking a session or a secret key take only the session on the public port.
            const withKey = await fetch(`${publicUrl}/integrations`, { headers: { authorization: `Bearer ${server.secretKey}` } });
            assert.equal(withKey.status, 401);
            assert.doesNotMatch(await withKey.text(), /oidc/);
            assert.equal((await fetch(`${server.url}/integrations`, { headers: { authorization: `Bearer ${server.secretKey}` } })).status, 200);

            const socket = await openSdkSocket(publicUrl);
            try {
                const connect = await fetch(`${publicUrl}/oauth/connect/oidc?connect_session_token=${token}&ws_client_id=${socket.clientId}`, {
                    redirect: 'manual'
                });
                assert.equal(connect.status, 302);
                assert.ok(connect.headers.get('location')!.startsWith(as.authorizationUrl));
            } finally {
                socket.close();
            }
            const ui = await fetch(`${publicUrl}/connect/`);
            assert.notEqual(ui.status, 404);
            const inbound = await fetch(`${publicUrl}/webhook/00000000-0000-4000-8000-000000000000/oidc`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{}'
            });
            assert.equal(((await inbound.json()) as { error: { code: string } }).error.code, 'unknown_environment');
        });
    });
}
