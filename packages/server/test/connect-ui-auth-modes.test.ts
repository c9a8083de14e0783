// The Connect UI's forms for the auth modes of issue #15 item 2 and the schema fields it renders (enum as a
// select, docs_connect as the help link), in real Chromium through the real server, with screenshots.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { Nango } from '@nangohq/node';
import type { Page, FrameLocator } from 'playwright-core';
import { startServer, removeDir, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { freePort } from './support/browserless.ts';
import { screenshotDir, screenshotsOn } from './support/browser.ts';
import { launchBrowser, startAppServer, type AppServer, type TestBrowser } from './support/connect-ui-app.ts';

const shots = `${screenshotDir}connect-ui-modes-`;
mkdirSync(screenshotDir, { recursive: true });

declare const window: { events: Array<{ type: string; payload?: Record<string, unknown> }>; sdkLoaded?: boolean; openUI(opts: Record<string, unknown>): void };

// On the embedded default and on PostgreSQL; the screenshots come from the embedded run.
for (const backend of ['embedded', 'postgres'] as const)
    describe(`Connect UI forms for TWO_STEP, JWT, AWS_SIGV4 and enum fields (${backend})`, () => {
        let store: Awaited<ReturnType<typeof storageEnv>> | undefined;
        const shoot = screenshotsOn(backend);
        let server: TestServer;
        let up: Awaited<ReturnType<typeof startUpstream>>;
        let app: AppServer;
        let browser: TestBrowser;
        let nango: Nango;
        let publicUrl: string;

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            [up, app, browser] = await Promise.all([
                startUpstream((req: RecordedRequest, res) => {
                    const body = req.body ? (JSON.parse(req.body) as Record<string, string>) : {};
                    if (req.url === '/login')
                        return body['user'] === 'alice' && body['pass'] === 'pw' ? json(res, 200, { token: 'sess-1' }) : json(res, 401, { error: 'nope' });
                    json(res, 200, { ok: true });
                }),
                startAppServer(),
                launchBrowser()
            ]);
            store = await storageEnv(backend);
            server = await startServer({
                ...store.env,
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
session-api:
  display_name: Acme Sessions
  auth_mode: TWO_STEP
  docs: https://example.com/docs
  docs_connect: https://example.com/docs/connect-acme
  token_url: ${up.url}/login
  token_params:
    user: \${credentials.username}
    pass: \${credentials.password}
  token_response:
    token: token
  credentials:
    username:
      type: string
      title: Acme user
      description: The user you sign in to Acme with
      order: 1
    password:
      type: string
      title: Acme password
      description: Its password
      secret: true
      order: 2
  connection_config:
    region:
      type: string
      title: Data region
      description: Where your Acme account lives
      enum: [us, eu]
  proxy:
    base_url: ${up.url}
ghost-local:
  display_name: Ghost
  auth_mode: JWT
  signature:
    protocol: HMAC
    hmac_secret_encoding: hex
  token:
    signing_key: \${credentials.secret}
    header:
      alg: HS256
      kid: \${credentials.id}
  credentials:
    id:
      type: string
      title: Admin API key id
      description: Before the colon
    secret:
      type: string
      title: Admin API key secret
      description: After the colon
      secret: true
aws-local:
  display_name: Acme on AWS
  auth_mode: AWS_SIGV4
  proxy:
    base_url: ${up.url}
`)
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            for (const [provider, key] of [
                ['session-api', 'sess'],
                ['ghost-local', 'ghost'],
                ['aws-local', 'aws']
            ] as const)
                await nango.createIntegration({ provider, unique_key: key });
        });
        after(async () => {
            await browser?.close();
            await server?.stop();
            await Promise.all([up?.close(), app?.close()]);
            if (server) removeDir(server.dataDir);
            await store?.drop();
        });

        async function open(allowed: string[]): Promise<{ page: Page; ui: FrameLocator }> {
            const token = (await nango.createConnectSession({ end_user: { id: 'user-9' }, allowed_integrations: allowed })).data.token;
            const page = await browser.context.newPage();
            await page.goto(app.url);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), { baseURL: `${publicUrl}/connect`, apiURL: publicUrl, sessionToken: token });
            return { page, ui: page.frameLocator('#connect-ui') };
        }

        it('TWO_STEP: the provider’s credential fields in order, the enum as a select, docs_connect as the help link; then a connection', async () => {
            const { page, ui } = await open(['sess', 'ghost', 'aws']);
            await ui.locator('[data-integration="sess"]').click();
            const user = ui.getByLabel('Acme user');
            await user.waitFor();
            const labels = await ui.locator('label.sb-label').allInnerTexts();
            assert.deepEqual(
                labels.map((l) => l.trim()),
                ['Acme user', 'Acme password', 'Data region']
            );
            const region = ui.getByLabel('Data region');
            assert.equal(await region.evaluate((el) => (el as unknown as { tagName: string }).tagName), 'SELECT');
            assert.equal(await ui.getByRole('link', { name: 'Where do I find these?' }).getAttribute('href'), 'https://example.com/docs/connect-acme');
            await user.fill('alice');
            await ui.getByLabel('Acme password').fill('wrong');
            await region.selectOption('eu');
            await shoot(page, { path: `${shots}two-step-form.png` });
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=form-error]').waitFor();
            await ui.getByLabel('Acme password').fill('pw');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            const list = await nango.listConnections({ integrationId: 'sess' } as never);
            assert.equal(list.connections.length, 1);
            const stored = await nango.getConnection('sess', list.connections[0]!.connection_id);
            assert.equal((stored.credentials as unknown as Record<string, string>)['token'], 'sess-1');
            assert.equal(stored.connection_config['region'], 'eu');
            await page.close();
        });

        it('JWT and AWS_SIGV4 forms ask for their fields', async () => {
            const { page, ui } = await open(['ghost', 'aws']);
            await ui.locator('[data-integration="ghost"]').click();
            await ui.getByLabel('Admin API key id').waitFor();
            assert.equal(await ui.getByLabel('Admin API key secret').getAttribute('type'), 'password');
            await shoot(page, { path: `${shots}jwt-form.png` });
            await page.close();
            const second = await open(['aws', 'ghost']);
            await second.ui.locator('[data-integration="aws"]').click();
            for (const label of ['Access key ID', 'Secret access key', 'Region', 'Service']) await second.ui.getByLabel(label).waitFor();
            await second.page.screenshot({ path: `${shots}aws-form.png` });
            await second.page.close();
        });
    });
