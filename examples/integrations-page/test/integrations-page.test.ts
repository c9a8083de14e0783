// The integrations-page example end to end (issue #12 item 7): a real Switchboard, oidc-provider as two OAuth providers,
// the example's own backend (`node src/main.ts`) and its page in Chromium. A tenant connects both integrations through
// the page; one grant is then revoked at the provider and the other's refresh token outlives its lifetime, and the page
// shows Revoked and Expired; the revoked one is reconnected, then disconnected. On the embedded default and PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Nango } from '@nangohq/node';
import type { BrowserContext, Page } from 'playwright-core';
import { removeDir, startServer, storageEnv, writeProvidersFile, type TestServer } from '../../../packages/server/test/support/server.ts';
import { startAuthServer, type TestAuthServer } from '../../../packages/server/test/support/oidc.ts';
import { launchChromium, screenshotDir } from '../../../packages/server/test/support/browser.ts';
import { freePort } from '../../../packages/server/test/support/browserless.ts';
import { waitFor } from '../../../packages/server/test/support/webhooks.ts';

const exampleDir = new URL('../', import.meta.url).pathname;

function providerEntry(name: string, displayName: string, as: TestAuthServer): string {
    return `${name}:
  display_name: ${displayName}
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  default_scopes: [openid, email]
  proxy:
    base_url: ${as.issuer}
`;
}

/** Runs the example as its README says, and resolves with the URL it prints. */
async function startExample(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
    const child: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
        cwd: exampleDir,
        env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
            out += chunk.toString();
            const m = /integrations page on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m) resolve(m[1]!);
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the example exited with ${code}:\n${out}`)));
    });
    child.removeAllListeners('exit');
    return {
        url,
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once('exit', () => resolve());
                child.kill('SIGTERM');
            })
    };
}

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`integrations-page example (${backend})`, () => {
        let server: TestServer;
        let crm: TestAuthServer;
        // Refresh tokens of 3 s, announced in its token responses (access tokens of an hour, so nothing refreshes unasked).
        let calendar: TestAuthServer;
        let example: Awaited<ReturnType<typeof startExample>>;
        let chromium: Awaited<ReturnType<typeof launchChromium>>;
        let context: BrowserContext;
        let page: Page;
        let nango: Nango;
        let drop: (() => Promise<void>) | undefined;

        const status = (key: string) => page.locator(`li[data-key="${key}"] .status`);
        const button = (key: string, label: string) => page.locator(`li[data-key="${key}"]`).getByRole('button', { name: label, exact: true });
        const buttons = (key: string) => page.locator(`li[data-key="${key}"] button`).allInnerTexts();
        const showsStatus = (key: string, label: string) =>
            page.locator(`li[data-key="${key}"] .status`, { hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: 30_000 });
        const shot = (name: string) => page.screenshot({ path: join(screenshotDir, `example-integrations-page-${backend}-${name}.png`) });

        /** Clicks the row's Connect or Reconnect and goes through oidc-provider's login and consent pages in the popup. */
        async function connectThroughPage(key: string, label: 'Connect' | 'Reconnect', login: string) {
            const [popup] = await Promise.all([context.waitForEvent('page'), button(key, label).click()]);
            await popup.waitForSelector('input[name="login"]');
            await popup.fill('input[name="login"]', login);
            await popup.fill('input[name="password"]', 'anything');
            await popup.click('button[type="submit"]');
            await popup.waitForSelector('button[type="submit"]'); // consent
            await popup.click('button[type="submit"]');
        }

        before(async () => {
            const port = await freePort();
            const serverUrl = `http://127.0.0.1:${port}`;
            crm = await startAuthServer({ redirectUri: `${serverUrl}/oauth/callback` });
            calendar = await startAuthServer({ redirectUri: `${serverUrl}/oauth/callback`, refreshTokenTtlSeconds: 3 });
            const env: Record<string, string> = {
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: serverUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    providerEntry('acme-crm', 'Acme CRM', crm) + providerEntry('acme-calendar', 'Acme Calendar', calendar)
                )
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });

            // The operator's setup: two integrations, and public-key auth switched on with the HMAC required.
            await nango.createIntegration({
                provider: 'acme-crm',
                unique_key: 'crm',
                credentials: { type: 'OAUTH2', client_id: crm.clientId, client_secret: crm.clientSecret }
            });
            await nango.createIntegration({
                provider: 'acme-calendar',
                unique_key: 'calendar',
                credentials: { type: 'OAUTH2', client_id: calendar.clientId, client_secret: calendar.clientSecret }
            });
            const res = await fetch(`${server.url}/environment/public-key-auth`, {
                method: 'PATCH',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ enabled: true, hmac_required: true })
            });
            assert.equal(res.status, 200);
            const keys = ((await res.json()) as { data: { public_key: string; hmac_key: string } }).data;

            example = await startExample({
                NANGO_HOST: server.url,
                NANGO_SECRET_KEY: server.secretKey,
                NANGO_PUBLIC_KEY: keys.public_key,
                NANGO_HMAC_KEY: keys.hmac_key
            });
            chromium = await launchChromium();
            context = await chromium.browser.newContext({ viewport: { width: 800, height: 420 } });
            page = await context.newPage();
        });
        after(async () => {
            await chromium?.close();
            await example?.stop();
            await server?.stop();
            await crm?.close();
            await calendar?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('refuses the API without a tenant, and a malformed tenant at sign-in', async () => {
            assert.equal((await fetch(`${example.url}/api/integrations`)).status, 401);
            assert.equal((await fetch(`${example.url}/api/integrations/crm`, { method: 'DELETE' })).status, 401);
            assert.equal((await fetch(`${example.url}/login?tenant=${encodeURIComponent('acme; evil=1')}`, { redirect: 'manual' })).status, 400);
            assert.deepEqual((await nango.listConnections()).connections, []);
        });

        it('a tenant connects both integrations through the page, under the ids <tenant>:<integration>', async () => {
            await page.goto(`${example.url}/login?tenant=acme`);
            await showsStatus('crm', 'Not connected');
            await showsStatus('calendar', 'Not connected');
            await shot('1-empty');

            await connectThroughPage('crm', 'Connect', 'dana');
            await showsStatus('crm', 'Connected');
            await connectThroughPage('calendar', 'Connect', 'dana');
            await showsStatus('calendar', 'Connected');
            await shot('2-connected');

            const ids = (await nango.listConnections()).connections.map((c) => `${c.provider_config_key}/${c.connection_id}`).sort();
            assert.deepEqual(ids, ['calendar/acme:calendar', 'crm/acme:crm']);
            const me = await nango.get<{ sub: string }>({ endpoint: '/me', providerConfigKey: 'crm', connectionId: 'acme:crm' });
            assert.equal(me.data.sub, 'dana');
        });

        it("another tenant sees none of acme's connections and cannot disconnect them", async () => {
            const other = await chromium.browser.newContext();
            try {
                const otherPage = await other.newPage();
                await otherPage.goto(`${example.url}/login?tenant=globex`);
                await otherPage.locator('li[data-key="crm"] .status', { hasText: /^Not connected$/ }).waitFor({ timeout: 30_000 });
                assert.equal(await otherPage.locator('li[data-key="calendar"] .status').innerText(), 'Not connected');
                // Its disconnect can only name its own connection id: acme's stays.
                const cookie = (await other.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
                const res = await fetch(`${example.url}/api/integrations/crm`, { method: 'DELETE', headers: { cookie } });
                assert.equal(res.status, 404);
                assert.equal((await nango.listConnections()).connections.length, 2);
            } finally {
                await other.close();
            }
        });

        it('shows Revoked after the grant is withdrawn at the provider, and Expired after the refresh token outlives its lifetime', async () => {
            // The end user withdraws access at the CRM (RFC 7009 revocation of the refresh token ends the whole grant).
            const crmConnection = await nango.getConnection('crm', 'acme:crm', false, true);
            const refreshToken = (crmConnection.credentials as { refresh_token: string }).refresh_token;
            const revoked = await fetch(crm.revocationUrl, {
                method: 'POST',
                headers: {
                    authorization: `Basic ${Buffer.from(`${crm.clientId}:${encodeURIComponent(crm.clientSecret)}`).toString('base64')}`,
                    'content-type': 'application/x-www-form-urlencoded'
                },
                body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' })
            });
            assert.equal(revoked.status, 200);
            // The app's next proxied call gets a 401, Switchboard's one refresh is refused: the connection is revoked.
            await assert.rejects(nango.get({ endpoint: '/me', providerConfigKey: 'crm', connectionId: 'acme:crm' }));

            // The calendar's refresh token lives 3 s; once it is dead, the next refresh (here one the app forces) is
            // refused, and the lifetime the provider announced tells Switchboard the grant ran out: expired.
            const calendarConnection = await nango.getConnection('calendar', 'acme:calendar', false, true);
            const calendarRefreshToken = (calendarConnection.credentials as { refresh_token: string }).refresh_token;
            await waitFor('the calendar refresh token to expire', async () => !(await calendar.isRefreshTokenActive(calendarRefreshToken)));
            await assert.rejects(nango.getConnection('calendar', 'acme:calendar', true));

            await page.reload();
            await showsStatus('crm', 'Revoked');
            await showsStatus('calendar', 'Expired');
            assert.deepEqual(await buttons('crm'), ['Reconnect', 'Disconnect']);
            assert.deepEqual(await buttons('calendar'), ['Reconnect', 'Disconnect']);
            await shot('3-revoked-expired');
        });

        it('reconnects the revoked integration under the same id, then disconnects both', async () => {
            await connectThroughPage('crm', 'Reconnect', 'dana');
            await showsStatus('crm', 'Connected');
            assert.equal(await status('calendar').innerText(), 'Expired');
            const me = await nango.get<{ sub: string }>({ endpoint: '/me', providerConfigKey: 'crm', connectionId: 'acme:crm' });
            assert.equal(me.data.sub, 'dana');

            assert.deepEqual(await buttons('crm'), ['Disconnect']);

            await button('crm', 'Disconnect').click();
            await showsStatus('crm', 'Not connected');
            assert.deepEqual(
                (await nango.listConnections()).connections.map((c) => c.connection_id),
                ['acme:calendar']
            );
            await button('calendar', 'Disconnect').click();
            await showsStatus('calendar', 'Not connected');
            await shot('4-disconnected');
            assert.deepEqual(await buttons('crm'), ['Connect']);
            assert.deepEqual((await nango.listConnections()).connections, []);
        });
    });
}
