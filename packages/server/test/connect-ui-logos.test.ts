// Provider logos in the Connect UI (issue #15 item 4), in real Chromium: brand icons from Simple Icons where
// published, the server's monogram otherwise, both loaded under the Connect UI's content security policy.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import type { Page } from 'playwright-core';
import { startServer, removeDir, type TestServer } from './support/server.ts';
import { freePort } from './support/browserless.ts';
import { screenshotDir } from './support/browser.ts';
import { launchBrowser, startAppServer, type AppServer, type TestBrowser } from './support/connect-ui-app.ts';

declare const window: { sdkLoaded?: boolean; openUI(opts: Record<string, unknown>): void };
interface ImageLike {
    complete: boolean;
    naturalWidth: number;
    currentSrc: string;
}

// Brand icons (stripe … notion) and entries Simple Icons has no icon for (salesforce, microsoft-teams).
const PROVIDERS = ['stripe', 'hubspot', 'github', 'notion', 'zendesk', 'shopify', 'salesforce', 'microsoft-teams'];

describe('Connect UI logos in Chromium', () => {
    let server: TestServer;
    let app: AppServer;
    let browser: TestBrowser;
    let publicUrl: string;
    let nango: Nango;

    before(async () => {
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
        server = await startServer({ PORT: String(port), SWITCHBOARD_SERVER_URL: publicUrl });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        for (const provider of PROVIDERS) {
            const oauth = ['hubspot', 'github', 'notion', 'zendesk', 'shopify', 'salesforce', 'microsoft-teams'].includes(provider);
            await nango.createIntegration({
                provider,
                unique_key: provider,
                ...(oauth ? { credentials: { type: 'OAUTH2' as const, client_id: 'id', client_secret: 'secret' } } : {})
            });
        }
    });
    after(async () => {
        await browser?.close();
        await server?.stop();
        await app?.close();
        if (server) removeDir(server.dataDir);
    });

    async function open(theme: 'light' | 'dark'): Promise<Page> {
        const token = (await nango.createConnectSession({ end_user: { id: 'logo-user' }, allowed_integrations: PROVIDERS })).data.token;
        const page = await browser.context.newPage();
        await page.goto(app.url);
        await page.waitForFunction(() => window.sdkLoaded === true);
        await page.evaluate((o) => window.openUI(o), { baseURL: `${publicUrl}/connect`, apiURL: publicUrl, sessionToken: token, themeOverride: theme });
        return page;
    }

    it('lists every integration with a logo that loads: the brand icon, or the monogram', async () => {
        for (const theme of ['light', 'dark'] as const) {
            const page = await open(theme);
            const ui = page.frameLocator('#connect-ui');
            await ui.locator('[data-integration]').first().waitFor();
            for (const provider of PROVIDERS) {
                const img = ui.locator(`[data-integration="${provider}"] img`);
                await img.waitFor();
                const state = await img.evaluate((el) => {
                    const i = el as unknown as ImageLike;
                    return { complete: i.complete, naturalWidth: i.naturalWidth, src: i.currentSrc };
                });
                assert.ok(state.complete && state.naturalWidth > 0, `${provider}: the logo loaded`);
                assert.equal(state.src, `${publicUrl}/images/template-logos/${provider}.svg`);
            }
            await page.screenshot({ path: `${screenshotDir}connect-ui-logos-${theme}.png` });
            await page.close();
        }
        // What the images are: a Simple Icons path for Stripe, the monogram for Salesforce.
        const stripe = await (await fetch(`${publicUrl}/images/template-logos/stripe.svg`)).text();
        assert.match(stripe, /<title>Stripe<\/title>.*<path /);
        const salesforce = await (await fetch(`${publicUrl}/images/template-logos/salesforce.svg`)).text();
        assert.match(salesforce, /<text[^>]*>S<\/text>/);
    });
});
