// The Connect UI (issue #3, part 3) in real Chromium: an app page on its own origin opens it with the official
// @nangohq/frontend SDK (openConnectUI) and every step goes through the real server process.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { Nango } from '@nangohq/node';
import type { Page, FrameLocator } from 'playwright-core';
import { startServer, removeDir, storageEnv, writeProvidersFile, type TestServer } from './support/server.ts';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { startUpstream, json } from './support/upstream.ts';
import { freePort } from './support/browserless.ts';
import { screenshotDir, screenshotsOn } from './support/browser.ts';
import { startReceiver, waitFor, received, type Receiver } from './support/webhooks.ts';
import { randomBytes } from 'node:crypto';
import { launchBrowser, startAppServer, type AppServer, type TestBrowser } from './support/connect-ui-app.ts';
import { deploy, onEventGroups } from './support/functions.ts';

const shots = `${screenshotDir}connect-ui-`;
mkdirSync(screenshotDir, { recursive: true });

interface UiEvent {
    type: string;
    payload?: Record<string, unknown>;
}
// What page.evaluate callbacks see in the browser (the server project has no DOM typings).
declare const window: {
    events: UiEvent[];
    sdkLoaded?: boolean;
    openUI(opts: Record<string, unknown>): void;
    addSibling(src: string): void;
    connectUI: { setSessionToken(token: string): void };
};
declare const document: { activeElement: unknown };
interface ImageLike {
    complete: boolean;
    naturalWidth: number;
}

const events = (page: Page) => page.evaluate(() => window.events);
const waitForEvent = (page: Page, type: string) => page.waitForFunction((t) => window.events.some((e) => e.type === t), type, { timeout: 15_000 });

// On the embedded default and on PostgreSQL; the screenshots come from the embedded run.
for (const backend of ['embedded', 'postgres'] as const)
    describe(`Connect UI in Chromium (${backend})`, () => {
        let store: Awaited<ReturnType<typeof storageEnv>> | undefined;
        let server: TestServer;
        let as: TestAuthServer;
        let upstream: Awaited<ReturnType<typeof startUpstream>>;
        let app: AppServer;
        let browser: TestBrowser;
        let nango: Nango;
        let publicUrl: string;
        let receiver: Receiver;
        const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
        const cspViolations: string[] = [];
        const shoot = screenshotsOn(backend);

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            [as, upstream, app, browser] = await Promise.all([
                startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` }),
                startUpstream((req, res) =>
                    req.headers['authorization'] === 'Bearer tk_good' ? json(res, 200, { ok: true }) : json(res, 401, { error: 'bad key' })
                ),
                startAppServer(),
                launchBrowser()
            ]);
            receiver = await startReceiver();
            store = await storageEnv(backend);
            server = await startServer({
                ...store.env,
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_WEBHOOK_URL: receiver.url,
                SWITCHBOARD_WEBHOOK_SECRET: webhookSecret,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`${providerYaml(as)}
test-apikey:
  display_name: Acme Tickets
  auth_mode: API_KEY
  docs: https://example.com/docs/api-keys
  credentials:
    apiKey:
      type: string
      title: API token
      description: Create one under Settings → API.
      example: tk_...
      pattern: ^tk_[a-z]+$
      secret: true
  proxy:
    base_url: ${upstream.url}
    headers:
      Authorization: Bearer \${apiKey}
    verification:
      method: GET
      endpoints: [/verify]
`)
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                display_name: 'Acme Calendar',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret, scopes: 'openid,email' }
            });
            await nango.createIntegration({ provider: 'test-apikey', unique_key: 'tickets' });
            await nango.createIntegration({ provider: 'stripe', unique_key: 'stripe' });
            await nango.createIntegration({ provider: 'twilio', unique_key: 'twilio' });
            await nango.createIntegration({ provider: 'hacker-news', unique_key: 'hn' });
        });
        after(async () => {
            await browser?.close();
            await server?.stop();
            await receiver?.close();
            await Promise.all([as?.close(), upstream?.close(), app?.close()]);
            if (server) removeDir(server.dataDir);
            await store?.drop();
        });

        const session = async (allowed: string[], extra: Record<string, unknown> = {}) =>
            (await nango.createConnectSession({ end_user: { id: 'user-7', email: 'u7@example.com' }, allowed_integrations: allowed, ...extra })).data.token;

        /** Opens the app page and the Connect UI in it, as an app would. */
        async function open(sessionToken: string | undefined, opts: { lang?: string; themeOverride?: string } = {}): Promise<{ page: Page; ui: FrameLocator }> {
            const page = await browser.context.newPage();
            page.on('console', (m) => {
                if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
            });
            await page.goto(app.url);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), {
                baseURL: `${publicUrl}/connect`,
                apiURL: publicUrl,
                ...(sessionToken ? { sessionToken } : {}),
                ...opts
            });
            return { page, ui: page.frameLocator('#connect-ui') };
        }

        const listed = (ui: FrameLocator) => ui.locator('[data-integration]').evaluateAll((els) => els.map((e) => e.getAttribute('data-integration')));

        it('lists exactly the session’s allowed integrations, with logos, after the ready/session_token handshake', async () => {
            const { page, ui } = await open(await session(['tickets', 'oidc', 'stripe']));
            await ui.locator('[data-integration]').first().waitFor();
            assert.deepEqual((await listed(ui)).sort(), ['oidc', 'stripe', 'tickets']);
            assert.equal(await ui.locator('[data-integration="oidc"]').innerText(), 'Acme Calendar');
            const logo = ui.locator('[data-integration="stripe"] img');
            await logo.waitFor();
            assert.ok(
                await logo.evaluate((img) => (img as unknown as ImageLike).complete && (img as unknown as ImageLike).naturalWidth > 0),
                'logo loaded under the CSP'
            );
            assert.deepEqual((await events(page))[0], { type: 'ready' });
            assert.equal(await ui.locator('html').getAttribute('lang'), 'en');
            await shoot(page, { path: `${shots}list-light-en.png` });
            await page.close();
        });

        it('speaks French and dark theme from openConnectUI lang/themeOverride', async () => {
            const { page, ui } = await open(await session(['tickets', 'oidc', 'stripe', 'twilio']), { lang: 'fr', themeOverride: 'dark' });
            await ui.locator('[data-integration]').first().waitFor();
            assert.equal(await ui.locator('html').getAttribute('lang'), 'fr');
            assert.equal(await ui.locator('html').getAttribute('data-theme'), 'dark');
            assert.equal(await ui.locator('h1').innerText(), 'Connecter une application');
            await shoot(page, { path: `${shots}list-dark-fr.png` });
            await ui.locator('[data-integration="tickets"]').click();
            await ui.locator('button[type=submit]').click();
            await ui.getByText('Ce champ est obligatoire.').waitFor();
            await shoot(page, { path: `${shots}form-dark-fr.png` });
            await page.close();
        });

        it('an unknown or expired session shows the error screen and posts an error event; close posts close', async () => {
            const { page, ui } = await open(`nango_connect_session_${'0'.repeat(64)}`);
            await ui.locator('[data-testid=error]').waitFor();
            assert.equal(await ui.locator('[data-testid=error]').getAttribute('data-error-code'), 'unknown_connect_session_token');
            assert.match(await ui.locator('[role=alert]').innerText(), /expired or is no longer valid/);
            await waitForEvent(page, 'error');
            const error = (await events(page)).find((e) => e.type === 'error');
            assert.equal(error?.payload?.['errorType'], 'unknown_connect_session_token');
            assert.equal(typeof error?.payload?.['errorMessage'], 'string');
            await shoot(page, { path: `${shots}error-light-en.png` });

            await ui.getByRole('button', { name: 'Close' }).last().click();
            await waitForEvent(page, 'close');
            assert.equal(await page.locator('#connect-ui').count(), 0, 'the SDK removed the iframe');
            await page.close();
        });

        it('connects an API key through the iframe: validation, provider refusal, then a connection and a connect event', async () => {
            const { page, ui } = await open(await session(['tickets', 'stripe']));
            await ui.locator('[data-integration="tickets"]').click();
            const input = ui.getByLabel('API token');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.getByText('This field is required.').waitFor();
            assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'focus moves to the invalid field');
            await input.fill('not a token');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.getByText('This value does not have the expected format.').waitFor();
            await shoot(page, { path: `${shots}form-light-en.png` });

            await input.fill('tk_bad');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=form-error]').waitFor();
            assert.match(await ui.locator('[data-testid=form-error]').innerText(), /Acme Tickets refused these credentials/);
            await waitForEvent(page, 'error');
            assert.equal((await events(page)).find((e) => e.type === 'error')?.payload?.['errorType'], 'connection_test_failed');

            await input.fill('tk_good');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            await waitForEvent(page, 'connect');
            const connect = (await events(page)).find((e) => e.type === 'connect');
            assert.equal(connect?.payload?.['providerConfigKey'], 'tickets');
            assert.equal(connect?.payload?.['isPending'], false);
            const connectionId = String(connect?.payload?.['connectionId']);
            const stored = await nango.getConnection('tickets', connectionId);
            assert.equal((stored.credentials as { apiKey?: string }).apiKey, 'tk_good');
            assert.equal(stored.end_user?.id, 'user-7');
            await shoot(page, { path: `${shots}success-light-en.png` });
            await page.close();
        });

        it('connects a provider that needs no credentials (auth mode NONE) through POST /auth/unauthenticated (issue #12 item 1)', async () => {
            const { page, ui } = await open(await session(['hn', 'stripe']));
            await ui.locator('[data-integration="hn"]').click();
            await ui.getByText('needs no credentials').waitFor();
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            await waitForEvent(page, 'connect');
            const connect = (await events(page)).find((e) => e.type === 'connect');
            assert.equal(connect?.payload?.['providerConfigKey'], 'hn');
            const stored = await nango.getConnection('hn', String(connect?.payload?.['connectionId']));
            assert.deepEqual(stored.credentials, { type: 'NONE' });
            assert.equal(stored.end_user?.id, 'user-7');
            await page.close();
        });

        it('runs OAuth in a popup from inside the iframe; the app gets a signed auth webhook its SDK verifies', async () => {
            const { page, ui } = await open(await session(['oidc', 'tickets']));
            await ui.locator('[data-integration="oidc"]').click();
            const popupPromise = browser.context.waitForEvent('page');
            await ui.getByRole('button', { name: 'Connect' }).click();
            const popup = await popupPromise;
            await ui.getByText('Finish signing in to Acme Calendar').waitFor();
            await shoot(page, { path: `${shots}popup-light-en.png` });
            await popup.locator('input[name=login]').fill('carol');
            await popup.locator('input[name=password]').fill('anything');
            await popup.locator('button[type=submit]').click();
            await popup.locator('button[type=submit]').click();
            await ui.locator('[data-testid=success]').waitFor({ timeout: 20_000 });
            const connect = (await events(page)).find((e) => e.type === 'connect');
            assert.equal(connect?.payload?.['providerConfigKey'], 'oidc');
            const stored = await nango.getConnection('oidc', String(connect?.payload?.['connectionId']));
            assert.equal(stored.end_user?.id, 'user-7');
            const [hit] = await waitFor('the creation webhook', () => {
                const h = received(
                    receiver,
                    (b: { type?: string; connectionId?: string }) => b.type === 'auth' && b.connectionId === connect?.payload?.['connectionId']
                );
                return h.length ? h : undefined;
            });
            const headers = Object.fromEntries(Object.entries(hit!.headers).map(([k, v]) => [k, String(v)]));
            assert.equal(
                new Nango({ host: server.url, secretKey: server.secretKey, webhookSigningKey: webhookSecret }).verifyIncomingWebhookRequest(hit!.body, headers),
                true
            );
            assert.equal((JSON.parse(hit!.body) as { endUser: { endUserId: string } }).endUser.endUserId, 'user-7');
            await page.close();
        });

        it('a reconnect session goes straight to its one integration', async () => {
            const res = await fetch(`${server.url}/connections`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ provider_config_key: 'tickets', connection_id: 'conn-re', credentials: { type: 'API_KEY', apiKey: 'tk_old' } })
            });
            assert.ok(res.ok);
            const token = (await nango.createReconnectSession({ connection_id: 'conn-re', integration_id: 'tickets' })).data.token;
            const { page, ui } = await open(token);
            await ui.getByRole('heading', { name: 'Reconnect to Acme Tickets' }).waitFor();
            assert.equal(await ui.getByRole('button', { name: 'Back' }).count(), 0);
            await ui.getByLabel('API token').fill('tk_good');
            await ui.getByRole('button', { name: 'Reconnect' }).click();
            await waitForEvent(page, 'connect');
            assert.equal((await events(page)).find((e) => e.type === 'connect')?.payload?.['connectionId'], 'conn-re');
            await page.close();
        });

        it('works from the keyboard: Tab to an integration, Enter opens it, Escape closes', async () => {
            const { page, ui } = await open(await session(['tickets', 'stripe']));
            await ui.locator('[data-integration]').first().waitFor();
            assert.equal(await ui.locator('h1').evaluate((h) => h === document.activeElement), true, 'the heading has focus');
            await page.keyboard.press('Tab');
            assert.equal(await ui.locator('[data-integration="tickets"]').evaluate((b) => b === document.activeElement), true);
            await page.keyboard.press('Enter');
            await ui.getByRole('heading', { name: 'Connect to Acme Tickets' }).waitFor();
            await page.keyboard.press('Escape');
            await waitForEvent(page, 'close');
            await page.close();
        });

        it('ignores a session token posted by another origin, accepts the app’s (docs/security.md, item 19)', async () => {
            const token = await session(['tickets', 'stripe']);
            const { page, ui } = await open(undefined);
            await waitForEvent(page, 'ready');
            await page.evaluate((src) => window.addSibling(src), `${app.otherOriginUrl}/sibling?token=${token}`);
            await page.frameLocator('#sibling').locator('body[data-sent=yes]').waitFor({ state: 'attached' });
            await page.waitForTimeout(500);
            assert.equal(await ui.locator('[data-integration]').count(), 0, 'the foreign token was not used');
            await ui.getByText('Waiting for the connect session').waitFor();

            await page.evaluate((t) => window.connectUI.setSessionToken(t), token);
            await ui.locator('[data-integration]').first().waitFor();
            assert.deepEqual((await listed(ui)).sort(), ['stripe', 'tickets']);
            await page.close();
        });

        it('a validate-connection script that rejects the account: the form says so with the script’s message, nothing is stored', async () => {
            const deployed = await deploy(server, [], {
                onEventScriptsByProvider: onEventGroups([{ name: 'no-plan', file: 'no-plan.cjs', providerConfigKey: 'tickets', event: 'validate-connection' }])
            });
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            const before = (await nango.listConnections()).connections.length;
            const { page, ui } = await open(await session(['tickets']));
            await ui.getByLabel('API token').fill('tk_good');
            await ui.getByRole('button', { name: 'Connect' }).click();
            const alert = ui.locator('[data-testid=form-error]');
            await alert.waitFor();
            const text = await alert.innerText();
            assert.match(text, /The details you entered are not valid for Acme Tickets/);
            assert.match(text, /This Acme account has no active plan\./);
            await waitForEvent(page, 'error');
            assert.equal((await events(page)).find((e) => e.type === 'error')?.payload?.['errorType'], 'connection_validation_failed');
            await shoot(page, { path: `${shots}validation-rejected-light-en.png` });
            assert.equal((await nango.listConnections()).connections.length, before, 'nothing stored');
            await page.close();
            // Later tests connect to tickets again.
            assert.equal((await deploy(server, [], { onEventScriptsByProvider: [], reconcile: true })).status, 200);
        });

        it('ran without a CSP violation', () => {
            assert.deepEqual(cspViolations, []);
        });
    });

describe('Connect UI framing allowlist (docs/security.md, item 20)', () => {
    let server: TestServer;
    let app: AppServer;
    let browser: TestBrowser;

    before(async () => {
        [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
        // Only the app's "other" origin may frame the UI; the app page itself is not listed.
        server = await startServer({ SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS: `${app.otherOriginUrl}, https://app.example.com` });
    });
    after(async () => {
        await browser?.close();
        await server?.stop();
        await app?.close();
        if (server) removeDir(server.dataDir);
    });

    async function readyFrom(appUrl: string): Promise<boolean> {
        const page = await browser.context.newPage();
        try {
            await page.goto(appUrl);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), { baseURL: `${server.url}/connect`, apiURL: server.url });
            return await page
                .waitForFunction(() => window.events.some((e) => e.type === 'ready'), undefined, { timeout: 4000 })
                .then(
                    () => true,
                    () => false
                );
        } finally {
            await page.close();
        }
    }

    it('sends the configured origins in frame-ancestors', async () => {
        const res = await fetch(`${server.url}/connect/`);
        assert.match(res.headers.get('content-security-policy') ?? '', new RegExp(`frame-ancestors 'self' ${app.otherOriginUrl} https://app.example.com(;|$)`));
    });

    it('a listed origin can embed the UI, an unlisted one cannot', async () => {
        assert.equal(await readyFrom(app.otherOriginUrl), true);
        assert.equal(await readyFrom(app.url), false);
    });
});
