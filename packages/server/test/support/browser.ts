import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where browser tests leave screenshots for people to look at (git-ignored). */
export const screenshotDir = new URL('../.screenshots/', import.meta.url).pathname;

/**
 * Debian's Chromium, headless, with no network of its own (the machine has none): never a downloaded browser.
 * Playwright gives each launch a fresh temporary profile.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
    mkdirSync(screenshotDir, { recursive: true });
    const browser = await chromium.launch({
        executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-quic'
        ]
    });
    return {
        browser,
        async close() {
            await browser.close();
        }
    };
}

/**
 * Takes a page's screenshot on the embedded backend only: suites that run on the embedded default and on PostgreSQL
 * keep one set of pictures, from the embedded run.
 */
export function screenshotsOn(backend: string): (page: Page, opts: { path: string; fullPage?: boolean }) => Promise<void> {
    return async (page, opts) => {
        if (backend === 'embedded') await page.screenshot(opts);
    };
}
