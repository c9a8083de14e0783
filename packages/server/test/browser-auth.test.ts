// The popup flow in real Chromium: an app page on its own origin uses @nangohq/frontend@0.71.10 auth() with a
// connect session token; the end user logs in and consents on oidc-provider's pages in the popup.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Nango } from '@nangohq/node';
import type { Page } from 'playwright-core';
import { startServer, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { startUpstream } from './support/upstream.ts';
import { freePort } from './support/browserless.ts';
import { launchChromium, screenshotDir } from './support/browser.ts';
import { startReceiver, waitFor, received, type Receiver } from './support/webhooks.ts';
import { randomBytes } from 'node:crypto';

const sdkDir = join(dirname(createRequire(import.meta.url).resolve('@nangohq/frontend')));

/** A stand-in for the app's frontend: serves the SDK and a page that calls auth() on a button click. */
async function startAppPage() {
    return startUpstream((req, res) => {
        const path = req.url.split('?')[0]!;
        if (path.startsWith('/sdk/') && /^\/sdk\/[a-zA-Z]+\.js$/.test(path)) {
            res.writeHead(200, { 'content-type': 'text/javascript' });
            return void res.end(readFileSync(join(sdkDir, path.slice(5))));
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><html><body>
<button id="connect">Connect</button><pre id="out"></pre>
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
}

async function completeLogin(popup: Page, shot: string): Promise<void> {
    await popup.waitForSelector('input[name="login"]');
    await popup.fill('input[name="login"]', 'dana');
    await popup.fill('input[name="password"]', 'anything');
    await popup.screenshot({ path: join(screenshotDir, `${shot}-provider-login.png`) });
    await popup.click('button[type="submit"]');
    await popup.waitForSelector('button[type="submit"]'); // consent page
    await popup.click('button[type="submit"]');
}

describe('popup flow in Chromium with @nangohq/frontend', () => {
    let server: TestServer;
    let as: TestAuthServer;
    let app: Awaited<ReturnType<typeof startAppPage>>;
    let chromium: Awaited<ReturnType<typeof launchChromium>>;
    let nango: Nango;
    let publicUrl: string;
    let receiver: Receiver;
    const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;

    before(async () => {
        receiver = await startReceiver();
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
        server = await startServer({
            PORT: String(port),
            SWITCHBOARD_SERVER_URL: publicUrl,
            SWITCHBOARD_WEBHOOK_URL: receiver.url,
            SWITCHBOARD_WEBHOOK_SECRET: webhookSecret,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(providerYaml(as, 'test-oidc', ['openid', 'email', 'offline_access']))
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({
            provider: 'test-oidc',
            unique_key: 'oidc',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
        app = await startAppPage();
        chromium = await launchChromium();
    });
    after(async () => {
        await chromium?.close();
        await app?.close();
        await receiver?.close();
        await server?.stop();
        await as?.close();
        if (server) removeDir(server.dataDir);
    });

    async function run(token: string, key: string, drive: (popup: Page, authorizeUrl: () => URL) => Promise<void>) {
        const context = await chromium.browser.newContext();
        let authorize: URL | undefined;
        context.on('request', (r) => {
            if (r.url().startsWith(as.authorizationUrl)) authorize = new URL(r.url());
        });
        try {
            const page = await context.newPage();
            await page.goto(`${app.url}/?host=${encodeURIComponent(publicUrl)}&token=${token}&key=${key}`);
            const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
            await drive(popup, () => authorize!);
            await page.waitForFunction(() => (globalThis as unknown as { authResult?: unknown }).authResult !== undefined, undefined, { timeout: 30_000 });
            return await page.evaluate(() => (globalThis as unknown as { authResult: Record<string, unknown> }).authResult);
        } finally {
            await context.close();
        }
    }

    it('auth() resolves with the new connection, recorded under the session end user, and a signed auth webhook the SDK verifies', async () => {
        const token = (await nango.createConnectSession({ end_user: { id: 'browser-user', email: 'dana@example.com' }, allowed_integrations: ['oidc'] })).data
            .token;
        const result = await run(token, 'oidc', async (popup) => {
            await completeLogin(popup, 'popup');
            await popup.waitForURL(/\/oauth\/callback/);
            await popup.screenshot({ path: join(screenshotDir, 'popup-callback-success.png') }).catch(() => undefined); // it closes itself
        });
        assert.equal(result['ok'], true, JSON.stringify(result));
        assert.equal(result['providerConfigKey'], 'oidc');
        const conn = await nango.getConnection('oidc', String(result['connectionId']));
        assert.equal(conn.end_user?.id, 'browser-user');
        assert.ok(await as.isAccessTokenActive((conn.credentials as { access_token: string }).access_token));

        // The app's backend hears of it through a signed auth webhook its SDK accepts.
        const [hit] = await waitFor('the creation webhook', () => {
            const h = received(receiver, (b: { type?: string; connectionId?: string }) => b.type === 'auth' && b.connectionId === result['connectionId']);
            return h.length ? h : undefined;
        });
        const body = JSON.parse(hit!.body) as Record<string, unknown>;
        assert.equal(body['operation'], 'creation');
        assert.equal(body['success'], true);
        assert.equal(body['providerConfigKey'], 'oidc');
        assert.deepEqual(body['endUser'], { endUserId: 'browser-user', endUserEmail: 'dana@example.com', tags: {} });
        const headers = Object.fromEntries(Object.entries(hit!.headers).map(([k, v]) => [k, String(v)]));
        const verifier = new Nango({ host: server.url, secretKey: server.secretKey, webhookSigningKey: webhookSecret });
        assert.equal(verifier.verifyIncomingWebhookRequest(hit!.body, headers), true);
        assert.equal(verifier.verifyIncomingWebhookRequest(hit!.body.replace('creation', 'override'), headers), false);
    });

    it('auth() rejects with the error type when the end user refuses, and the page says why', async () => {
        const token = (await nango.createConnectSession({ end_user: { id: 'browser-user' } })).data.token;
        const result = await run(token, 'oidc', async (popup, authorizeUrl) => {
            await popup.waitForSelector('input[name="login"]');
            // Leave the provider with an error, as its "Cancel" does: back to the callback with the state.
            const state = authorizeUrl().searchParams.get('state')!;
            await popup.goto(`${publicUrl}/oauth/callback?state=${encodeURIComponent(state)}&error=access_denied&error_description=The+user+cancelled`);
            await popup.screenshot({ path: join(screenshotDir, 'popup-callback-error.png') });
        });
        assert.equal(result['ok'], false);
        assert.equal(result['type'], 'callback_err');
        assert.match(String(result['message']), /cancelled/);
        const [hit] = await waitFor('the failure webhook', () => {
            const h = received(receiver, (b: { success?: boolean; error?: { type: string } }) => b.success === false && b.error?.type === 'callback_err');
            return h.length ? h : undefined;
        });
        assert.equal((JSON.parse(hit!.body) as { operation: string }).operation, 'creation');
    });

    it('auth() rejects at once for an integration the session does not allow (no hanging SDK)', async () => {
        await nango.createIntegration({
            provider: 'test-oidc',
            unique_key: 'other',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
        const token = (await nango.createConnectSession({ end_user: { id: 'browser-user' }, allowed_integrations: ['oidc'] })).data.token;
        const result = await run(token, 'other', async (popup) => {
            await popup.waitForLoadState();
        });
        assert.equal(result['ok'], false);
        assert.equal(result['type'], 'integration_not_allowed');
    });
});
