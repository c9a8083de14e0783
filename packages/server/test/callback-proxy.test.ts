// Issue #12 item 4: the OAuth callback on the app's own domain. The app (on 127.0.0.2, another host than the
// broker's 127.0.0.1, so no cookie is shared) runs a callback proxy exactly as self-hosters write it: GET only,
// forwards the query string, cookies and User-Agent to the broker's /oauth/callback, relays Set-Cookie and 3xx
// without following them, caps the answer at 1 MiB. The browser reaches only the broker's public port.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Nango } from '@nangohq/node';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, removeDir, writeProvidersFile, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { freePort } from './support/browserless.ts';
import { launchChromium } from './support/browser.ts';

const sdkDir = join(dirname(createRequire(import.meta.url).resolve('@nangohq/frontend')));
const MAX_BODY = 1024 * 1024;

/** The app: its page with @nangohq/frontend, and its callback proxy on `callbackPaths`. */
async function startApp(broker: () => string, callbackPaths: string[]) {
    const proxied: string[] = [];
    // Set by a test: the next provider redirect (with a code) is kept and not forwarded, as an attacker who stops
    // their own flow before the callback loads would keep it.
    const hold: { on: boolean; held: string | undefined } = { on: false, held: undefined };
    const server: Server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://app');
        if (callbackPaths.includes(url.pathname)) {
            if (req.method !== 'GET') {
                res.writeHead(405, { allow: 'GET' });
                return void res.end();
            }
            proxied.push(url.search);
            if (hold.on && url.searchParams.has('code')) {
                hold.on = false;
                hold.held = `http://${req.headers.host}${url.pathname}${url.search}`;
                res.writeHead(204);
                return void res.end();
            }
            const headers: Record<string, string> = {};
            if (req.headers.cookie) headers['cookie'] = req.headers.cookie;
            if (req.headers['user-agent']) headers['user-agent'] = req.headers['user-agent'];
            void (async () => {
                try {
                    const upstream = await fetch(`${broker()}/oauth/callback${url.search}`, { headers, redirect: 'manual' });
                    const body = Buffer.from(await upstream.arrayBuffer());
                    if (body.length > MAX_BODY) {
                        res.writeHead(502);
                        return void res.end('callback answer too large');
                    }
                    const out: Record<string, string | string[]> = {};
                    for (const name of ['content-type', 'location', 'cache-control', 'content-security-policy', 'referrer-policy']) {
                        const v = upstream.headers.get(name);
                        if (v) out[name] = v;
                    }
                    const cookies = upstream.headers.getSetCookie();
                    if (cookies.length) out['set-cookie'] = cookies;
                    res.writeHead(upstream.status, out);
                    res.end(body);
                } catch {
                    res.writeHead(502);
                    res.end();
                }
            })();
            return;
        }
        if (/^\/sdk\/[a-zA-Z]+\.js$/.test(url.pathname)) {
            res.writeHead(200, { 'content-type': 'text/javascript' });
            return void res.end(readFileSync(join(sdkDir, url.pathname.slice(5))));
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><html><body><button id="connect">Connect</button>
<script type="module">
import Nango from '/sdk/index.js';
const q = new URLSearchParams(location.search);
document.getElementById('connect').addEventListener('click', () => {
  const nango = new Nango({ host: q.get('host'), connectSessionToken: q.get('token') });
  nango.auth(q.get('key'))
    .then((r) => { window.authResult = { ok: true, ...r }; })
    .catch((e) => { window.authResult = { ok: false, type: e.type, message: e.message }; });
});
</script></body></html>`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    return {
        url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`,
        proxied,
        hold,
        close: () =>
            new Promise<void>((r) => {
                server.closeAllConnections();
                server.close(() => r());
            })
    };
}

async function login(popup: Page): Promise<void> {
    await popup.waitForSelector('input[name="login"]');
    await popup.fill('input[name="login"]', 'dana');
    await popup.fill('input[name="password"]', 'anything');
    await popup.click('button[type="submit"]');
    await popup.waitForSelector('button[type="submit"]'); // consent page
    await popup.click('button[type="submit"]');
}

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
    describe(`OAuth callback through a proxy on the app's domain (issue #12 item 4) on ${backend.name}`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let app: Awaited<ReturnType<typeof startApp>>;
        let chromium: Awaited<ReturnType<typeof launchChromium>>;
        let nango: Nango;
        let publicUrl: string;
        let callback: string;
        let drop: () => Promise<void>;
        let serverEnv: Record<string, string>;

        before(async () => {
            const db = await backend.env();
            drop = db.drop;
            const publicPort = await freePort();
            publicUrl = `http://127.0.0.1:${publicPort}`;
            app = await startApp(() => publicUrl, ['/oauth/callback', '/integrations/return']);
            callback = `${app.url}/oauth/callback`;
            as = await startAuthServer({ redirectUri: [callback, `${app.url}/integrations/return`] });
            serverEnv = {
                ...db.env,
                SWITCHBOARD_PUBLIC_PORT: String(publicPort),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_CALLBACK_URL: callback,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(providerYaml(as, 'test-oidc', ['openid', 'email', 'offline_access']))
            };
            server = await startServer(serverEnv);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
            });
            chromium = await launchChromium();
        });
        after(async () => {
            await chromium?.close();
            await server?.stop();
            await app?.close();
            await as?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        async function openApp(context: BrowserContext, token: string): Promise<Page> {
            const page = await context.newPage();
            await page.goto(`${app.url}/?host=${encodeURIComponent(publicUrl)}&token=${token}&key=oidc`);
            return page;
        }
        const authResult = async (page: Page) => {
            await page.waitForFunction(() => (globalThis as unknown as { authResult?: unknown }).authResult !== undefined, undefined, { timeout: 30_000 });
            return page.evaluate(() => (globalThis as unknown as { authResult: Record<string, unknown> }).authResult);
        };
        const session = async (id: string) => (await nango.createConnectSession({ end_user: { id }, allowed_integrations: ['oidc'] })).data.token;

        it('a flow started from the app frontend completes through the proxy, and the provider is sent the custom callback', async () => {
            const context = await chromium.browser.newContext();
            let authorize: URL | undefined;
            context.on('request', (r) => {
                if (r.url().startsWith(as.authorizationUrl) && !authorize) authorize = new URL(r.url());
            });
            try {
                const page = await openApp(context, await session('proxy-user'));
                const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
                await login(popup);
                const result = await authResult(page);
                assert.equal(result['ok'], true, JSON.stringify(result));
                assert.equal(authorize?.searchParams.get('redirect_uri'), callback);
                // The browser went through the proxy twice: the bounce that set the binding, then the provider's redirect.
                assert.ok(app.proxied.some((q) => q.includes('switchboard_start=')));
                assert.ok(app.proxied.some((q) => q.includes('code=')));
                const conn = await nango.getConnection('oidc', String(result['connectionId']));
                assert.equal(conn.end_user?.id, 'proxy-user');
                assert.ok(await as.isAccessTokenActive((conn.credentials as { access_token: string }).access_token));
            } finally {
                await context.close();
            }
        });

        it("a foreign browser's callback is refused, before any token request, and a used start link binds no one", async () => {
            const victim = await chromium.browser.newContext();
            const foreign = await chromium.browser.newContext();
            let startLink: string | undefined;
            victim.on('request', (r) => {
                if (r.url().includes('switchboard_start=')) startLink = r.url();
            });
            // The provider's redirect back is kept and never reaches the broker from the browser that started the flow.
            app.hold.on = true;
            try {
                const before = (await nango.listConnections()).connections.length;
                const tokenRequests = as.counts.tokenRequests;
                const page = await openApp(victim, await session('victim'));
                const [popup] = await Promise.all([victim.waitForEvent('page'), page.click('#connect')]);
                await login(popup);
                await waitUntil(() => app.hold.held !== undefined);
                const codeLink = app.hold.held!;
                app.hold.held = undefined;
                assert.ok(startLink, 'the flow bounced through the callback');

                const replayStart = await (await foreign.newPage()).goto(startLink);
                assert.equal(replayStart?.status(), 400);
                assert.match(await replayStart!.text(), /state_err/);

                const other = await foreign.newPage();
                const res = await other.goto(codeLink);
                assert.equal(res?.status(), 400);
                assert.match(await res!.text(), /state_cookie_err/);
                const result = await authResult(page);
                assert.equal(result['ok'], false);
                assert.equal(result['type'], 'state_cookie_err');
                // What did not happen: no code redeemed, no connection saved.
                assert.equal(as.counts.tokenRequests, tokenRequests);
                assert.equal((await nango.listConnections()).connections.length, before);
            } finally {
                app.hold.on = false;
                await victim.close();
                await foreign.close();
            }
        });

        it('an environment sets its own callback through the API; a bad one is refused and changes nothing', async () => {
            const headers = { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' };
            const api = `${server.url}/admin/environment/callback-url`;
            assert.deepEqual(await (await fetch(api, { headers })).json(), { data: { callback_url: null, effective_callback_url: callback } });
            for (const bad of ['http://app.example.com/cb', `${app.url}/cb?x=1`, 'ftp://x/cb']) {
                const r = await fetch(api, { method: 'PUT', headers, body: JSON.stringify({ callback_url: bad }) });
                assert.equal(r.status, 400, bad);
                assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'invalid_body');
            }
            // The public port does not have it.
            assert.equal((await fetch(`${publicUrl}/admin/environment/callback-url`, { headers })).status, 404);
            const own = `${app.url}/integrations/return`;
            const set = await fetch(api, { method: 'PUT', headers, body: JSON.stringify({ callback_url: own }) });
            assert.deepEqual(await set.json(), { data: { callback_url: own, effective_callback_url: own } });
            try {
                // Walked without a browser: the bounce sets the binding cookie on the proxy's path, then goes to the provider.
                const start = await fetch(`${publicUrl}/oauth/connect/oidc?connect_session_token=${await session('api-user')}`, { redirect: 'manual' });
                assert.equal(start.status, 302);
                const bounce = new URL(start.headers.get('location')!);
                assert.equal(`${bounce.origin}${bounce.pathname}`, own);
                assert.equal(start.headers.getSetCookie().length, 0, 'no cookie on the broker host that the callback host would never see');
                const viaProxy = await fetch(bounce, { redirect: 'manual' });
                assert.equal(viaProxy.status, 302);
                const [cookie] = viaProxy.headers.getSetCookie();
                assert.match(cookie!, /^sb_oauth_[0-9a-f]{24}=[^;]+; Max-Age=600; Path=\/integrations\/return; HttpOnly; SameSite=Lax$/);
                const authorize = new URL(viaProxy.headers.get('location')!);
                assert.ok(authorize.href.startsWith(as.authorizationUrl));
                assert.equal(authorize.searchParams.get('redirect_uri'), own);
                // Single use: the same bounce again binds nothing.
                assert.equal((await fetch(bounce, { redirect: 'manual' })).status, 400);
            } finally {
                await fetch(api, { method: 'PUT', headers, body: JSON.stringify({ callback_url: null }) });
            }
            assert.deepEqual(await (await fetch(api, { headers })).json(), { data: { callback_url: null, effective_callback_url: callback } });
        });

        it('a flow bounced before a kill -9 still binds its browser after the restart, once', async () => {
            const start = await fetch(`${publicUrl}/oauth/connect/oidc?connect_session_token=${await session('crash-user')}`, { redirect: 'manual' });
            const bounce = new URL(start.headers.get('location')!);
            assert.ok(bounce.searchParams.has('switchboard_start'));
            await server.stop('SIGKILL');
            server = await startServer({ ...serverEnv, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            const viaProxy = await fetch(bounce, { redirect: 'manual' });
            assert.equal(viaProxy.status, 302);
            assert.match(viaProxy.headers.getSetCookie()[0]!, /^sb_oauth_[0-9a-f]{24}=/);
            assert.equal(new URL(viaProxy.headers.get('location')!).searchParams.get('redirect_uri'), callback);
            assert.equal((await fetch(bounce, { redirect: 'manual' })).status, 400);
        });
    });
}

async function waitUntil(check: () => boolean): Promise<void> {
    for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(check(), 'condition never held');
}
