// MCP_OAUTH2 through the Connect UI in real Chromium: an integration created without credentials shows the OAuth
// popup; the popup's first load registers the client at the MCP server's authorization server (found from the
// server's 401 and metadata), the end user signs in on oidc-provider's pages, and the connection reaches the MCP
// server through the proxy. The HTTP-level flow, failure paths and both backends are in mcp-oauth2.test.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { freePort } from './support/browserless.ts';
import { screenshotDir, screenshotsOn } from './support/browser.ts';
import { launchBrowser, startAppServer, type AppServer, type TestBrowser } from './support/connect-ui-app.ts';
import { startMcpStandIn, type McpStandIn } from './support/remote-mcp.ts';

const shots = `${screenshotDir}connect-ui-mcp-`;
mkdirSync(screenshotDir, { recursive: true });

declare const window: { events: Array<{ type: string; payload?: Record<string, unknown> }>; sdkLoaded?: boolean; openUI(opts: Record<string, unknown>): void };

// On the embedded default and on PostgreSQL; the screenshots come from the embedded run.
for (const backend of ['embedded', 'postgres'] as const)
    describe(`Connect UI: MCP_OAUTH2 popup with dynamic client registration (${backend})`, () => {
        let store: Awaited<ReturnType<typeof storageEnv>> | undefined;
        const shoot = screenshotsOn(backend);
        let server: TestServer;
        let as: TestAuthServer;
        let refusing: TestAuthServer;
        let mcp: McpStandIn;
        let app: AppServer;
        let browser: TestBrowser;
        let nango: Nango;
        let publicUrl: string;

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            mcp = await startMcpStandIn(() => ({ as, refusing }));
            refusing = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback`, dynamicRegistration: { initialAccessToken: 'not-yours' } });
            as = await startAuthServer({
                redirectUri: `${publicUrl}/oauth/callback`,
                dynamicRegistration: {},
                resourceIndicator: { indicator: `${mcp.base}/mcp`, scope: 'mcp:tools' }
            });
            [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
            store = await storageEnv(backend);
            server = await startServer({
                ...store.env,
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`acme-mcp:
  display_name: Acme (MCP)
  auth_mode: MCP_OAUTH2
  categories: [mcp]
  mcp_server_url: ${mcp.base}/mcp
  proxy:
    base_url: ${mcp.base}
closed-mcp:
  display_name: Closed (MCP)
  auth_mode: MCP_OAUTH2
  mcp_server_url: ${mcp.base}/refusing/mcp
  proxy:
    base_url: ${mcp.base}
`)
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({ provider: 'acme-mcp', unique_key: 'acme-mcp' });
            await nango.createIntegration({ provider: 'closed-mcp', unique_key: 'closed-mcp' });
        });
        after(async () => {
            await browser?.close();
            await server?.stop();
            await Promise.all([as?.close(), refusing?.close(), mcp?.close(), app?.close()]);
            if (server) removeDir(server.dataDir);
            await store?.drop();
        });

        it('connects in the popup, then the proxy reaches the MCP server with the token', async () => {
            const token = (await nango.createConnectSession({ end_user: { id: 'user-3' }, allowed_integrations: ['acme-mcp'] })).data.token;
            const page = await browser.context.newPage();
            await page.goto(app.url);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), { baseURL: `${publicUrl}/connect`, apiURL: publicUrl, sessionToken: token });
            const ui = page.frameLocator('#connect-ui');
            // One allowed integration may open straight on its page; otherwise it is picked from the list.
            await ui.locator('[data-integration="acme-mcp"], button:has-text("Connect")').first().waitFor();
            if (await ui.locator('[data-integration="acme-mcp"]').count()) await ui.locator('[data-integration="acme-mcp"]').click();
            await ui.getByRole('button', { name: 'Connect' }).waitFor();
            await shoot(page, { path: `${shots}start.png` });
            assert.equal(as.counts.registered, 0, 'nothing registered before the end user starts');

            const popupPromise = browser.context.waitForEvent('page');
            await ui.getByRole('button', { name: 'Connect' }).click();
            const popup = await popupPromise;
            await popup.locator('input[name=login]').fill('dana');
            await popup.locator('input[name=password]').fill('anything');
            await popup.locator('button[type=submit]').click();
            await popup.locator('button[type=submit]').click();
            await ui.locator('[data-testid=success]').waitFor({ timeout: 20_000 });
            await shoot(page, { path: `${shots}success.png` });
            assert.equal(as.counts.registered, 1);

            const connect = (await page.evaluate(() => window.events)).find((e) => e.type === 'connect');
            const connectionId = String(connect?.payload?.['connectionId']);
            const res = await nango.proxy({ method: 'POST', endpoint: '/mcp', providerConfigKey: 'acme-mcp', connectionId, data: { jsonrpc: '2.0', id: 1 } });
            assert.equal(res.status, 200);
            const stored = await nango.getConnection('acme-mcp', connectionId);
            assert.equal(mcp.requests.at(-1)?.authorization, `Bearer ${(stored.credentials as { access_token: string }).access_token}`);
            await page.close();
        });

        it('a refused registration shows its reason in the Connect UI and stores nothing', async () => {
            const token = (await nango.createConnectSession({ end_user: { id: 'user-4' }, allowed_integrations: ['closed-mcp'] })).data.token;
            const page = await browser.context.newPage();
            await page.goto(app.url);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), { baseURL: `${publicUrl}/connect`, apiURL: publicUrl, sessionToken: token });
            const ui = page.frameLocator('#connect-ui');
            await ui.locator('[data-integration="closed-mcp"], button:has-text("Connect")').first().waitFor();
            if (await ui.locator('[data-integration="closed-mcp"]').count()) await ui.locator('[data-integration="closed-mcp"]').click();
            await ui.getByRole('button', { name: 'Connect' }).click();
            await page.waitForFunction(() => window.events.some((e) => e.type === 'error'), undefined, { timeout: 20_000 });
            const error = (await page.evaluate(() => window.events)).find((e) => e.type === 'error');
            assert.equal(error?.payload?.['errorType'], 'mcp_registration_failed');
            assert.match(String(error?.payload?.['errorMessage']), /refused to register Switchboard as an OAuth client: invalid_token/);
            await shoot(page, { path: `${shots}registration-refused.png` });
            assert.equal(refusing.counts.registered, 0);
            assert.equal((await nango.listConnections({ integrationId: 'closed-mcp' } as never)).connections.length, 0);
            await page.close();
        });
    });
