// Public-key frontend auth (issue #12 item 2), on PGlite and PostgreSQL: @nangohq/frontend@0.71.10 constructed with
// `publicKey` in Chromium, with an app-chosen connection id and the HMAC the app's backend signs, against oidc-provider;
// switched off by default; HMAC mandatory when required; another environment's public key creates nothing here; the
// session flow's protections (single-use state bound to the browser, PKCE, declared connection_config) still hold.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Nango } from '@nangohq/node';
import type { Page } from 'playwright-core';
import { removeDir, startServer, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { providerYaml, startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { json, startUpstream } from './support/upstream.ts';
import { freePort } from './support/browserless.ts';
import { launchChromium, screenshotDir } from './support/browser.ts';
import { adminApi, api, type Json } from './support/webhooks.ts';

const sdkDir = join(dirname(createRequire(import.meta.url).resolve('@nangohq/frontend')));
const sign = (hmacKey: string, data: string) => createHmac('sha256', hmacKey).update(data).digest('hex');

/** The app's frontend: serves the SDK and a page whose button calls `new Nango({ publicKey }).auth(key, connectionId, { hmac })`. */
async function startAppPage() {
    return startUpstream((req, res) => {
        const path = req.url.split('?')[0]!;
        if (/^\/sdk\/[a-zA-Z]+\.js$/.test(path)) {
            res.writeHead(200, { 'content-type': 'text/javascript' });
            return void res.end(readFileSync(join(sdkDir, path.slice(5))));
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><html><body>
<button id="connect">Connect</button>
<script type="module">
import Nango from '/sdk/index.js';
const q = new URLSearchParams(location.search);
document.getElementById('connect').addEventListener('click', () => {
  const nango = new Nango({ host: q.get('host'), publicKey: q.get('publicKey') });
  const options = q.get('hmac') ? { hmac: q.get('hmac') } : {};
  nango.auth(q.get('key'), q.get('connectionId'), options)
    .then((r) => { window.authResult = { ok: true, ...r }; })
    .catch((e) => { window.authResult = { ok: false, type: e.type, message: e.message }; });
});
</script></body></html>`);
    });
}

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`public-key frontend auth (${backend})`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let upstream: Awaited<ReturnType<typeof startUpstream>>;
        let app: Awaited<ReturnType<typeof startAppPage>>;
        let chromium: Awaited<ReturnType<typeof launchChromium>>;
        let nango: Nango;
        let publicUrl: string;
        let drop: (() => Promise<void>) | undefined;
        let keyB: string;

        const settings = async (key = server.secretKey) => {
            const res = await api(server, 'GET', '/environment/public-key-auth', undefined, { authorization: `Bearer ${key}` });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return res.body.data as { enabled: boolean; public_key: string; hmac_required: boolean; hmac_key: string };
        };
        const patch = async (body: Record<string, boolean>, key = server.secretKey) => {
            const res = await api(server, 'PATCH', '/environment/public-key-auth', body, { authorization: `Bearer ${key}` });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return res.body.data as { enabled: boolean; public_key: string; hmac_required: boolean; hmac_key: string };
        };
        const connectionIds = async (key = server.secretKey) => {
            const res = await api(server, 'GET', '/connections', undefined, { authorization: `Bearer ${key}` });
            return (res.body.connections as Json[]).map((c) => `${c.provider_config_key}/${c.connection_id}`).sort();
        };
        /** POSTs an API key as the frontend SDK does with a public key (no Authorization header). */
        const postApiKey = async (query: Record<string, string>, apiKey = 'good-key', key = 'apikey') => {
            const res = await fetch(`${server.url}/api-auth/api-key/${key}?${new URLSearchParams(query)}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ apiKey })
            });
            return { status: res.status, body: (await res.json()) as Json };
        };

        async function runInBrowser(query: Record<string, string>, drive: (popup: Page) => Promise<void>) {
            const context = await chromium.browser.newContext();
            let authorize: URL | undefined;
            context.on('request', (r) => {
                // The first request to the authorization endpoint is ours; oidc-provider then resumes on sub-paths of it.
                if (!authorize && r.url().startsWith(as.authorizationUrl)) authorize = new URL(r.url());
            });
            try {
                const page = await context.newPage();
                await page.goto(`${app.url}/?${new URLSearchParams({ host: publicUrl, key: 'oidc', ...query })}`);
                const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
                await drive(popup);
                await page.waitForFunction(() => (globalThis as unknown as { authResult?: unknown }).authResult !== undefined, undefined, {
                    timeout: 30_000
                });
                const result = await page.evaluate(() => (globalThis as unknown as { authResult: Record<string, unknown> }).authResult);
                return { result, authorize };
            } finally {
                await context.close();
            }
        }

        before(async () => {
            upstream = await startUpstream((req, res) => {
                if (req.url === '/v1/me') return json(res, req.headers.authorization === 'Bearer good-key' ? 200 : 401, {});
                json(res, 404, {});
            });
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
            const env: Record<string, string> = {
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`${providerYaml(as, 'test-oidc', ['openid', 'email', 'offline_access'])}
test-apikey:
  display_name: Test API key
  auth_mode: API_KEY
  proxy:
    base_url: ${upstream.url}
    headers:
      authorization: Bearer \${apiKey}
    verification:
      method: GET
      endpoints: [/v1/me]
`)
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            // A second environment ("prod"), made as an operator makes it: with the admin key.
            const created = await adminApi(server, 'POST', '/admin/environments', { name: 'prod' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            keyB = created.body.data.secret_key;
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
            });
            await nango.createIntegration({ provider: 'test-apikey', unique_key: 'apikey' });
            app = await startAppPage();
            chromium = await launchChromium();
        });
        after(async () => {
            await chromium?.close();
            await app?.close();
            await server?.stop();
            await as?.close();
            await upstream?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('is off by default: auth() with the public key rejects with public_key_auth_disabled, and the credential routes refuse it', async () => {
            const s = await settings();
            assert.equal(s.enabled, false);
            assert.equal(s.hmac_required, false);
            assert.match(s.public_key, /^[0-9a-f-]{36}$/);
            const { result, authorize } = await runInBrowser({ publicKey: s.public_key, connectionId: 'tenant-0:hubspot' }, (popup) =>
                popup.waitForLoadState()
            );
            assert.equal(result['ok'], false, JSON.stringify(result));
            assert.equal(result['type'], 'public_key_auth_disabled');
            assert.equal(authorize, undefined, 'the popup never reached the provider');

            const refused = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-0:apikey' });
            assert.equal(refused.status, 401);
            assert.equal(refused.body.error.code, 'public_key_auth_disabled');
            const unknown = await postApiKey({ public_key: randomUUID(), connection_id: 'tenant-0:apikey' });
            assert.equal(unknown.body.error.code, 'invalid_public_key');
            const malformed = await postApiKey({ public_key: 'not-a-uuid', connection_id: 'tenant-0:apikey' });
            assert.equal(malformed.body.error.code, 'invalid_public_key');
            assert.deepEqual(await connectionIds(), []);
        });

        it('switched on with HMAC required, auth(key, "<tenant>:<provider>", { hmac }) completes the OAuth flow in Chromium under the chosen id', async () => {
            const s = await patch({ enabled: true, hmac_required: true });
            assert.equal(s.enabled, true);
            assert.equal(s.hmac_required, true);
            assert.match(s.hmac_key, /^[0-9a-f]{64}$/);
            const connectionId = `${randomUUID()}:hubspot`;
            const { result, authorize } = await runInBrowser(
                { publicKey: s.public_key, connectionId, hmac: sign(s.hmac_key, `oidc:${connectionId}`) },
                async (popup) => {
                    await popup.waitForSelector('input[name="login"]');
                    await popup.fill('input[name="login"]', 'dana');
                    await popup.fill('input[name="password"]', 'anything');
                    await popup.click('button[type="submit"]');
                    await popup.waitForSelector('button[type="submit"]'); // consent page
                    await popup.click('button[type="submit"]');
                    await popup.waitForURL(/\/oauth\/callback/);
                    await popup.screenshot({ path: join(screenshotDir, `public-key-${backend}-callback.png`) }).catch(() => undefined);
                }
            );
            assert.equal(result['ok'], true, JSON.stringify(result));
            assert.equal(result['connectionId'], connectionId);
            assert.equal(result['providerConfigKey'], 'oidc');
            // PKCE and a state are used as with a connect session.
            assert.equal(authorize?.searchParams.get('code_challenge_method'), 'S256');
            assert.ok(authorize?.searchParams.get('state'));
            const conn = await nango.getConnection('oidc', connectionId);
            assert.ok(await as.isAccessTokenActive((conn.credentials as { access_token: string }).access_token));
        });

        it('with HMAC required, a missing or wrong hmac is refused and nothing is stored (popup and credential routes)', async () => {
            const s = await settings();
            assert.equal(s.hmac_required, true);
            const before = await connectionIds();
            const missing = await runInBrowser({ publicKey: s.public_key, connectionId: 'tenant-1:hubspot' }, (popup) => popup.waitForLoadState());
            assert.equal(missing.result['ok'], false);
            assert.equal(missing.result['type'], 'missing_hmac');
            assert.equal(missing.authorize, undefined);
            // Signed for another connection id: a browser cannot move an approved signature to an id it picks.
            const moved = await runInBrowser(
                { publicKey: s.public_key, connectionId: 'tenant-2:hubspot', hmac: sign(s.hmac_key, 'oidc:tenant-1:hubspot') },
                (popup) => popup.waitForLoadState()
            );
            assert.equal(moved.result['type'], 'invalid_hmac');
            assert.equal(moved.authorize, undefined);

            const noHmac = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-1:apikey' });
            assert.equal(noHmac.status, 400);
            assert.equal(noHmac.body.error.code, 'missing_hmac');
            const wrongKey = await postApiKey({
                public_key: s.public_key,
                connection_id: 'tenant-1:apikey',
                hmac: sign('not-the-key', 'apikey:tenant-1:apikey')
            });
            assert.equal(wrongKey.body.error.code, 'invalid_hmac');
            const otherIntegration = await postApiKey({
                public_key: s.public_key,
                connection_id: 'tenant-1:apikey',
                hmac: sign(s.hmac_key, 'oidc:tenant-1:apikey')
            });
            assert.equal(otherIntegration.body.error.code, 'invalid_hmac');
            assert.deepEqual(await connectionIds(), before);

            const ok = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-1:apikey', hmac: sign(s.hmac_key, 'apikey:tenant-1:apikey') });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            assert.deepEqual(ok.body, { connectionId: 'tenant-1:apikey', providerConfigKey: 'apikey' });
            assert.deepEqual(await connectionIds(), [...before, 'apikey/tenant-1:apikey'].sort());
        });

        it('keeps the session flow protections: undeclared connection_config refused, state single-use and bound to the browser', async () => {
            const s = await patch({ hmac_required: false });
            const undeclared = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-3:apikey', 'params[evil]': 'x' });
            assert.equal(undeclared.status, 400);
            assert.equal(undeclared.body.error.code, 'invalid_connection_config');
            assert.ok(!(await connectionIds()).includes('apikey/tenant-3:apikey'));

            const start = await fetch(
                `${server.url}/oauth/connect/oidc?${new URLSearchParams({ public_key: s.public_key, connection_id: 'tenant-3:hubspot' })}`,
                {
                    redirect: 'manual'
                }
            );
            assert.equal(start.status, 302);
            const location = new URL(start.headers.get('location')!);
            assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
            const state = location.searchParams.get('state')!;
            const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
            // Another browser (no binding cookie) brings the state back: refused, and the state is spent.
            const foreign = await fetch(`${server.url}/oauth/callback?state=${encodeURIComponent(state)}&code=stolen`);
            assert.match(await foreign.text(), /state_cookie_err/);
            const replay = await fetch(`${server.url}/oauth/callback?state=${encodeURIComponent(state)}&code=stolen`, { headers: { cookie } });
            assert.match(await replay.text(), /state_err/);
            assert.ok(!(await connectionIds()).includes('oidc/tenant-3:hubspot'));
        });

        it("another environment's public key cannot create connections in this one", async () => {
            const b = await patch({ enabled: true }, keyB);
            assert.notEqual(b.public_key, (await settings()).public_key);
            const beforeA = await connectionIds();
            // This environment's integration key, the other environment's public key: it resolves to the other environment only.
            const cross = await postApiKey({ public_key: b.public_key, connection_id: 'tenant-1:apikey' }, 'good-key');
            assert.equal(cross.status, 404);
            assert.equal(cross.body.error.code, 'unknown_provider_config');
            const popup = await fetch(`${server.url}/oauth/connect/oidc?${new URLSearchParams({ public_key: b.public_key, connection_id: 'x' })}`, {
                redirect: 'manual'
            });
            assert.notEqual(popup.status, 302);
            assert.match(await popup.text(), /unknown_config_key/);
            assert.deepEqual(await connectionIds(), beforeA);
            assert.deepEqual(await connectionIds(keyB), []);
            // A rotated public key stops working at once.
            const rotated = await api(server, 'POST', '/environment/public-key-auth/rotate', { key: 'public_key' }, { authorization: `Bearer ${keyB}` });
            assert.equal(rotated.status, 200);
            assert.notEqual(rotated.body.data.public_key, b.public_key);
            assert.equal((await postApiKey({ public_key: b.public_key, connection_id: 'y' })).body.error.code, 'invalid_public_key');
        });

        it('switching it off again refuses the public key, also at the callback of a flow already started; connect sessions are unaffected', async () => {
            const on = await settings();
            assert.equal(on.enabled, true);
            const start = await fetch(
                `${server.url}/oauth/connect/oidc?${new URLSearchParams({ public_key: on.public_key, connection_id: 'tenant-5:hubspot' })}`,
                {
                    redirect: 'manual'
                }
            );
            assert.equal(start.status, 302);
            const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
            const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
            const s = await patch({ enabled: false });
            const late = await fetch(`${server.url}/oauth/callback?state=${encodeURIComponent(state)}&code=any`, { headers: { cookie } });
            assert.match(await late.text(), /public_key_auth_disabled/);
            assert.ok(!(await connectionIds()).includes('oidc/tenant-5:hubspot'));
            const refused = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-4:apikey' });
            assert.equal(refused.body.error.code, 'public_key_auth_disabled');
            const token = (await nango.createConnectSession({ end_user: { id: 'u4' } })).data.token;
            const viaSession = await postApiKey({ connect_session_token: token });
            assert.equal(viaSession.status, 200, JSON.stringify(viaSession.body));
            const forbidden = await postApiKey({ connect_session_token: token, connection_id: 'tenant-4:apikey' });
            assert.equal(forbidden.body.error.code, 'invalid_query_params');
        });

        it('the HMAC keys are re-encrypted by a vault key rotation and still verify', {
            skip: backend === 'postgres' ? 'a generated key file exists only on the embedded default' : false
        }, async () => {
            const s = await patch({ enabled: true, hmac_required: true });
            const rotated = await adminApi(server, 'POST', '/admin/keys/rotate', { generate: true });
            assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
            assert.equal(rotated.body.data.reencrypted.environment_hmac_keys, 2, 'both environments have one');
            assert.deepEqual(rotated.body.data.failed.environment_hmac_keys, []);
            assert.equal((await settings()).hmac_key, s.hmac_key);
            const ok = await postApiKey({ public_key: s.public_key, connection_id: 'tenant-6:apikey', hmac: sign(s.hmac_key, 'apikey:tenant-6:apikey') });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
        });
    });
}
