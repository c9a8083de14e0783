// Issue #16 item 1 in real Chromium: an operator signs in to the dashboard with the admin key, creates an
// integration from the catalogue, sees a connection an app created, runs a sync and reads its counts, replays a
// failed webhook delivery, and signs out. Screenshots of every page at 1,280 and 390 px, light and dark, land in
// test/.screenshots/dashboard-*.png for people to look at.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, storageEnv, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startReceiver, waitFor, api, type Receiver } from './support/webhooks.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';
import { deploy } from './support/functions.ts';
import { launchChromium, screenshotDir } from './support/browser.ts';

const KEY = 'items';
const CONN = 'tenant-1';
const widths = [
    { name: 'wide', width: 1280, height: 900 },
    { name: 'narrow', width: 390, height: 844 }
] as const;

// On the embedded default and on PostgreSQL; the screenshots come from the embedded run.
for (const backend of ['embedded', 'postgres'] as const)
    describe(`dashboard in Chromium: an operator’s session (${backend})`, () => {
        let store: Awaited<ReturnType<typeof storageEnv>> | undefined;
        let server: TestServer;
        let items: ItemsApi;
        let receiver: Receiver;
        let chromium: Awaited<ReturnType<typeof launchChromium>>;
        let context: BrowserContext;
        let page: Page;
        const apiKey = `key-${randomBytes(8).toString('hex')}`;

        /** Every page of the dashboard at both widths (and, for two of them, dark); full-page screenshots. */
        async function shoot(name: string, opts: { dark?: boolean } = {}): Promise<void> {
            if (backend !== 'embedded') return;
            for (const w of widths) {
                await page.setViewportSize({ width: w.width, height: w.height });
                await page.screenshot({ path: join(screenshotDir, `dashboard-${name}-${w.name}.png`), fullPage: true });
            }
            if (opts.dark) {
                await page.emulateMedia({ colorScheme: 'dark' });
                for (const w of widths) {
                    await page.setViewportSize({ width: w.width, height: w.height });
                    await page.screenshot({ path: join(screenshotDir, `dashboard-${name}-${w.name}-dark.png`), fullPage: true });
                }
                await page.emulateMedia({ colorScheme: 'light' });
            }
            await page.setViewportSize({ width: 1280, height: 900 });
        }

        before(async () => {
            items = await startItemsApi(apiKey);
            items.setCount(120);
            receiver = await startReceiver();
            // The app's webhook endpoint is down: every delivery fails, and with one attempt it is given up at once.
            receiver.respond(() => 503);
            const providers = writeProvidersFile(
                `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  categories:\n    - productivity\n  credentials:\n    apiKey:\n      type: string\n      title: API key\n      secret: true\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
            );
            store = await storageEnv(backend);
            server = await startServer({
                ...store.env,
                SWITCHBOARD_PROVIDERS: providers,
                SWITCHBOARD_WEBHOOK_URL: receiver.url,
                SWITCHBOARD_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
                SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS: '1',
                SWITCHBOARD_SCHEDULER_TICK_MS: '200',
                SWITCHBOARD_RUNNER_MEMORY_MB: '256'
            });
            // What the app did through the API: an integration, a deployed sync (not started), a connection.
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: KEY, provider: 'items-api' })).status, 200);
            const deployed = await deploy(server, [
                { type: 'sync', name: 'items', file: 'items-sync.cjs', providerConfigKey: KEY, models: ['Item'], runs: 'every day', autoStart: false },
                { type: 'action', name: 'get-item', file: 'get-item.cjs', providerConfigKey: KEY }
            ]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: KEY,
                connection_id: CONN,
                credentials: { type: 'API_KEY', apiKey },
                end_user: { id: 'user-42', email: 'dana@example.com', organization: { id: 'acme' } },
                tags: { tier: 'gold' },
                metadata: { plan: 'pro' }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            // A provider webhook the broker received (GitHub, signed), for the Webhooks page.
            const gh = await api(server, 'POST', '/integrations', {
                provider: 'github',
                unique_key: 'gh',
                credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', webhook_secret: 'gh-hook-secret' }
            });
            assert.equal(gh.status, 200, JSON.stringify(gh.body));
            const hookPath = new URL((await api(server, 'GET', '/integrations/gh?include=webhook')).body.data.webhook_url).pathname;
            const hookBody = JSON.stringify({ installation: { id: 7 } });
            const hook = await fetch(`${server.url}${hookPath}`, {
                method: 'POST',
                headers: {
                    'content-type': 'application/json',
                    'x-github-event': 'push',
                    'x-hub-signature-256': `sha256=${createHmac('sha256', 'gh-hook-secret').update(hookBody).digest('hex')}`
                },
                body: hookBody
            });
            assert.equal(hook.status, 200);
            chromium = await launchChromium();
            context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
            page = await context.newPage();
            page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
        });

        after(async () => {
            await chromium?.close();
            await server?.stop();
            await items?.close();
            await receiver?.close();
            if (server) removeDir(server.dataDir);
            await store?.drop();
        });

        it('refuses an app’s secret key, then signs in with the admin key', async () => {
            await page.goto(`${server.url}/dashboard/`);
            await page.waitForSelector('[data-testid="admin-key"]');
            await shoot('sign-in', { dark: true });
            await page.fill('[data-testid="admin-key"]', server.secretKey);
            await page.click('[data-testid="sign-in"]');
            await page.waitForSelector('[role="alert"]');
            assert.match((await page.textContent('[role="alert"]')) ?? '', /admin key/);
            assert.equal((await context.cookies()).length, 0, 'no session cookie for an app key');
            await page.fill('[data-testid="admin-key"]', server.adminKey);
            await page.click('[data-testid="sign-in"]');
            await page.waitForSelector('[data-testid="nav-integrations"]');
            const [cookie] = await context.cookies();
            assert.equal(cookie?.name, 'sb_dashboard');
            assert.equal(cookie?.httpOnly, true);
            assert.equal(cookie?.sameSite, 'Strict');
            assert.equal(cookie?.path, '/dashboard');
            assert.equal(
                await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie),
                '',
                'the session id is out of reach of scripts'
            );
        });

        it('creates an integration from the catalogue, with the callback URL to register', async () => {
            await page.waitForSelector('[data-testid="integration-items"]');
            await shoot('integrations', { dark: true });
            await page.click('[data-testid="new-integration"]');
            await page.fill('[data-testid="catalogue-search"]', 'github');
            await page.waitForSelector('[data-testid="provider-github"]');
            await shoot('catalogue');
            await page.click('[data-testid="provider-github"]');
            await page.waitForSelector('[data-testid="callback-url"]');
            assert.match((await page.textContent('[data-testid="callback-url"]')) ?? '', /\/oauth\/callback$/);
            await page.fill('[data-testid="unique-key"]', 'github-dash');
            await page.fill('[data-testid="client-id"]', 'gh-client');
            await page.fill('[data-testid="client-secret"]', 'gh-secret-value');
            await page.fill('[data-testid="scopes"]', 'repo,user');
            await shoot('integration-form');
            await page.click('[data-testid="save-integration"]');
            await page.waitForSelector('[data-testid="integration-github-dash"]');
            const made = await api(server, 'GET', '/integrations/github-dash?include=credentials');
            assert.equal(made.status, 200);
            assert.equal(made.body.data.credentials.client_id, 'gh-client');
            assert.equal(made.body.data.credentials.scopes, 'repo,user');
            // Secrets are write-only: the edit form never receives them.
            await page.click('[data-testid="integration-github-dash"] >> text=Edit');
            await page.waitForSelector('[data-testid="client-secret"]');
            assert.equal(await page.inputValue('[data-testid="client-secret"]'), '');
            assert.doesNotMatch(await page.content(), /gh-secret-value/);
            await page.keyboard.press('Escape');
        });

        it('shows the app’s connection with its end user, status and metadata', async () => {
            await page.click('[data-testid="nav-connections"]');
            await page.waitForSelector(`[data-testid="connection-${CONN}"]`);
            const row = (await page.textContent(`[data-testid="connection-${CONN}"]`)) ?? '';
            assert.match(row, /dana@example\.com/);
            assert.match(row, /Active/);
            await shoot('connections', { dark: true });
            await page.selectOption('[data-testid="filter-status"]', 'revoked');
            await page.waitForSelector('[data-testid="connections"]', { state: 'detached' });
            await page.selectOption('[data-testid="filter-status"]', '');
            await page.waitForSelector(`[data-testid="connection-${CONN}"]`);
        });

        it('makes a connect link; the end user connects through the Connect UI, and the connection appears', async () => {
            await page.click('[data-testid="new-connect-link"]');
            await page.selectOption('[data-testid="link-integration"]', KEY);
            await page.fill('[data-testid="link-end-user"]', 'user-77');
            await shoot('connect-link-form');
            await page.click('[data-testid="create-link"]');
            const link = (await page.textContent('[data-testid="connect-link"]')) ?? '';
            assert.match(link, /\/connect\/\?session_token=nango_connect_session_/);
            await page.keyboard.press('Escape');
            // The end user, in another tab: the Connect UI the link opens, the form the provider's API key needs.
            const endUser = await context.newPage();
            await endUser.goto(link);
            const chooser = endUser.locator(`[data-integration="${KEY}"]`);
            const field = endUser.getByLabel('API key');
            await chooser.or(field).first().waitFor();
            if (await chooser.isVisible()) await chooser.click();
            await field.fill(apiKey);
            await endUser.getByRole('button', { name: 'Connect' }).click();
            await endUser.locator('[data-testid=success]').waitFor();
            await endUser.close();
            const made = await waitFor('the connection made through the Connect UI', async () => {
                const r = await api(server, 'GET', '/connections?endUserId=user-77');
                return r.body.connections?.[0];
            });
            // Back in the dashboard: the operator reloads the list and sees it, active, with its end user.
            await page.fill('[data-testid="filter-organization"]', '');
            await page.click('[data-testid="nav-integrations"]');
            await page.click('[data-testid="nav-connections"]');
            const row = page.locator(`[data-testid="connection-${made.connection_id}"]`);
            await row.waitFor();
            assert.match((await row.textContent()) ?? '', /user-77/);
            assert.match((await row.textContent()) ?? '', /Active/);
            const stored = await api(server, 'GET', `/connections/${made.connection_id}?provider_config_key=${KEY}`);
            assert.equal(stored.body.credentials.apiKey, apiKey);
        });

        it('filters connections by organisation and tags', async () => {
            await page.fill('[data-testid="filter-organization"]', 'acme');
            // The unfiltered list already shows CONN: wait for the filtered answer (one row) rather than for CONN.
            const rows = page.locator('[data-testid="connections"] tbody tr');
            await waitFor(
                'the list filtered to one row',
                async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-testid')) === `connection-${CONN}`,
                10_000
            );
            assert.equal(await rows.count(), 1);
            await page.fill('[data-testid="filter-tags"]', 'tier:gold');
            await page.waitForSelector(`[data-testid="connection-${CONN}"]`);
            await shoot('connections-filtered');
            await page.fill('[data-testid="filter-tags"]', 'tier:silver');
            await page.waitForSelector('[data-testid="connections"]', { state: 'detached' });
            await page.fill('[data-testid="filter-tags"]', '');
            await page.fill('[data-testid="filter-organization"]', '');
            await page.waitForSelector(`[data-testid="connection-${CONN}"]`);
        });

        it('deletes a connection after asking, and makes a reconnect link for another', async () => {
            const second = await api(server, 'POST', '/connections', {
                provider_config_key: KEY,
                connection_id: 'tenant-2',
                credentials: { type: 'API_KEY', apiKey }
            });
            assert.equal(second.status, 201);
            await page.click('[data-testid="nav-integrations"]');
            await page.click('[data-testid="nav-connections"]');
            await page.waitForSelector('[data-testid="connection-tenant-2"]');
            page.once('dialog', (d) => void d.accept());
            await page.click('[data-testid="connection-tenant-2"] >> text=Delete');
            await page.waitForSelector('[data-testid="connection-tenant-2"]', { state: 'detached' });
            assert.equal((await api(server, 'GET', `/connections/tenant-2?provider_config_key=${KEY}`)).status, 404);
            await page.click(`[data-testid="connection-${CONN}"] >> text=Reconnect link`);
            await page.waitForSelector('[data-testid="reconnect-link"]');
            assert.match((await page.textContent('[data-testid="reconnect-link"]')) ?? '', /\/connect\/\?session_token=nango_connect_session_/);
            await shoot('reconnect-link');
            await page.keyboard.press('Escape');
        });

        it('runs the sync from the dashboard and shows the run with its counts', async () => {
            // From the connection the app made (the one made through the Connect UI has its own sync): its syncs.
            await page.click('[data-testid="nav-connections"]');
            await page.click(`[data-testid="syncs-of-${CONN}"]`);
            await page.waitForSelector('[data-testid="sync-items"]');
            assert.equal(await page.inputValue('[data-testid="sync-integration"]'), KEY);
            assert.equal(await page.inputValue('[data-testid="sync-connection"]'), CONN);
            // What is deployed for the integration, with its frequency and models.
            const deployedRow = (await page.textContent('[data-testid="deployed-functions"]')) ?? '';
            assert.match(deployedRow, /items/);
            assert.match(deployedRow, /Item/);
            assert.equal(await page.locator('[data-testid="sync-items"]').count(), 1);
            await page.click('[data-testid="sync-items"] [data-testid="trigger"]');
            const counts = await waitFor(
                'the sync run in the dashboard',
                async () => {
                    await page.click('[data-testid="reload-syncs"]');
                    // Status and counts read from the same render of the newest run's row (a run in flight shows partial counts).
                    const row = await page
                        .$eval('[data-testid="runs"] tbody tr', (tr) => ({
                            status: tr.querySelector('.db-badge')?.textContent,
                            counts: tr.querySelector('[data-testid="run-counts"]')?.textContent?.trim()
                        }))
                        .catch(() => undefined);
                    return row?.status === 'SUCCESS' ? row.counts : undefined;
                },
                60_000
            );
            assert.equal(counts, '120 / 0 / 0');
            await shoot('syncs', { dark: true });
            await page.click('[data-testid="sync-items"] [data-testid="resume"]');
            await page.waitForSelector('[data-testid="sync-items"] [data-testid="pause"]');
            const status = await api(server, 'GET', `/sync/status?provider_config_key=${KEY}&syncs=items&connection_id=${CONN}`);
            assert.notEqual(status.body.syncs[0].status, 'PAUSED', 'resumed through the dashboard');
            // Reset: a full resync, after asking; the new run is marked as one.
            page.once('dialog', (d) => void d.accept());
            await page.click('[data-testid="sync-items"] [data-testid="reset"]');
            await waitFor(
                'the full resync in the runs',
                async () => {
                    await page.click('[data-testid="reload-syncs"]');
                    const newest = page.locator('[data-testid="runs"] tbody tr').first();
                    const done =
                        ((await newest
                            .locator('.db-badge')
                            .textContent()
                            .catch(() => '')) ?? '') === 'SUCCESS';
                    return (done && (await newest.locator('[data-testid="run-reset"]').count()) > 0) || undefined;
                },
                60_000
            );
        });

        it('shows action runs with the sizes of their input and output', async () => {
            const headers = { 'connection-id': CONN, 'provider-config-key': KEY };
            assert.equal((await api(server, 'POST', '/action/trigger', { action_name: 'get-item', input: { id: 'item-1' } }, headers)).status, 200);
            assert.ok((await api(server, 'POST', '/action/trigger', { action_name: 'get-item', input: { id: 'nope' } }, headers)).status >= 400);
            await page.click('[data-testid="reload-syncs"]');
            await page.waitForSelector('[data-testid="action-runs"]');
            const rows = page.locator('[data-testid="action-runs"] tbody tr');
            await waitFor('both action runs', async () => {
                if ((await rows.count()) === 2) return true;
                await page.click('[data-testid="reload-syncs"]');
                return undefined;
            });
            assert.match((await rows.nth(1).locator('[data-testid="action-sizes"]').textContent()) ?? '', /^15 B \/ \d+ B$/);
            assert.notEqual(((await rows.nth(0).locator('[data-testid="action-error"]').textContent()) ?? '').trim(), '—');
            await page.locator('[data-testid="action-runs"]').scrollIntoViewIfNeeded();
            await shoot('action-runs');
        });

        it('browses the records the sync stored', async () => {
            await page.click('[data-testid="nav-records"]');
            await page.selectOption('form.db-filters select', KEY);
            await page.fill('form.db-filters label:nth-child(2) input', CONN);
            await page.fill('form.db-filters label:nth-child(3) input', 'Item');
            await page.click('form.db-filters button[type="submit"]');
            await page.waitForSelector('[data-testid="records"]');
            assert.equal(await page.locator('[data-testid="records"] tbody tr').count(), 25);
            await page.click('[data-testid="next-page"]');
            await waitFor('the second page', async () => ((await page.textContent('[data-testid="records"]')) ?? '').includes('item-') || undefined);
            await shoot('records');
        });

        it('replays a failed webhook delivery once the app’s endpoint is back', async () => {
            await waitFor('a delivery given up', async () => {
                const r = await api(server, 'GET', '/admin/webhooks/deliveries?status=dead');
                return r.body.data?.length > 0 || undefined;
            });
            receiver.respond(() => 200);
            await page.click('[data-testid="nav-webhooks"]');
            await page.selectOption('[data-testid="delivery-status"]', 'dead');
            await page.waitForSelector('[data-testid="deliveries"]');
            const inbound = (await page.textContent('[data-testid="inbound"]')) ?? '';
            assert.match(inbound, /gh/);
            assert.match(inbound, /push/);
            assert.match(inbound, /routed/);
            await shoot('webhooks', { dark: true });
            const before = receiver.requests.length;
            const first = page.locator('[data-testid="deliveries"] tbody tr').first();
            const id = ((await first.getAttribute('data-testid')) ?? '').replace('delivery-', '');
            await first.locator('[data-testid="replay"]').click();
            const delivered = await waitFor('the replayed delivery', async () => {
                const r = await api(server, 'GET', '/admin/webhooks/deliveries?status=delivered');
                return r.body.data.find((d: { id: number }) => String(d.id) === id);
            });
            assert.equal(delivered.status, 'delivered');
            assert.ok(receiver.requests.length > before, 'the app received the replayed webhook');
        });

        it('shows the audit trail, in French too', async () => {
            await page.click('[data-testid="nav-audit"]');
            await page.waitForSelector('[data-testid="audit"]');
            await shoot('audit');
            await page.selectOption('[data-testid="lang"]', 'fr');
            await page.waitForSelector('text=Journal d’audit');
            await shoot('audit-fr');
            await page.selectOption('[data-testid="lang"]', 'en');
        });

        it('shows this instance’s recent errors', async () => {
            await page.click('[data-testid="nav-errors"]');
            await page.waitForSelector('text=Each instance keeps its own 200');
            await shoot('errors');
        });

        it('a forged CSRF token from the page changes nothing', async () => {
            const answer = await page.evaluate(async () => {
                const res = await fetch('/dashboard/api/integrations/github-dash', {
                    method: 'DELETE',
                    headers: { 'switchboard-environment': 'dev', 'x-switchboard-csrf': 'forged' }
                });
                return res.status;
            });
            assert.equal(answer, 403);
            assert.equal((await api(server, 'GET', '/integrations/github-dash')).status, 200);
        });

        it('signs out: the session is gone on the server, and the page is back at sign-in', async () => {
            const [cookie] = await context.cookies();
            await page.click('[data-testid="sign-out"]');
            await page.waitForSelector('[data-testid="admin-key"]');
            const reuse = await fetch(`${server.url}/dashboard/api/session`, { headers: { cookie: `sb_dashboard=${cookie!.value}` } });
            assert.equal(reuse.status, 401, 'the old cookie no longer opens anything');
            await reuse.arrayBuffer();
            await page.reload();
            await page.waitForSelector('[data-testid="admin-key"]');
        });
    });
