// An example "app" page on its own loopback origin that embeds the Connect UI with the official
// @nangohq/frontend SDK (served from node_modules), and a browser context to drive it in Debian's Chromium.
import type { BrowserContext } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { createRequire } from 'node:module';
import { launchChromium } from './browser.ts';

export interface TestBrowser {
    context: BrowserContext;
    close(): Promise<void>;
}

/** A fresh Chromium (fresh temporary profile) with one context. */
export async function launchBrowser(opts: { locale?: string; colorScheme?: 'light' | 'dark' } = {}): Promise<TestBrowser> {
    const chromium = await launchChromium();
    const context = await chromium.browser.newContext({
        viewport: { width: 900, height: 720 },
        locale: opts.locale ?? 'en-US',
        colorScheme: opts.colorScheme ?? 'light'
    });
    return {
        context,
        async close() {
            await context.close();
            await chromium.close();
        }
    };
}

const sdkDir = join(createRequire(import.meta.url).resolve('@nangohq/frontend'), '..');

const appPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example app</title></head>
<body><h1>Example app</h1><p>Embeds the Connect UI with @nangohq/frontend.</p>
<script type="module">
import Nango from '/sdk/index.js';
window.events = [];
window.openUI = (opts) => {
    const nango = new Nango({ host: opts.apiURL });
    window.connectUI = nango.openConnectUI({ ...opts, onEvent: (event) => window.events.push(event) });
};
window.addSibling = (src) => {
    const frame = document.createElement('iframe');
    frame.id = 'sibling';
    frame.src = src;
    document.body.append(frame);
};
window.sdkLoaded = true;
</script></body></html>`;

// A page on another origin that tries to hand the Connect UI a session token (it must be ignored).
const siblingPage = `<!doctype html><html><body><script>
const token = new URLSearchParams(location.search).get('token');
parent.frames[0].postMessage({ type: 'session_token', sessionToken: token }, '*');
document.body.dataset.sent = 'yes';
</script></body></html>`;

export interface AppServer {
    /** http://127.0.0.1:port: the app's origin. */
    url: string;
    /** The same server as http://localhost:port: another origin. */
    otherOriginUrl: string;
    close(): Promise<void>;
}

/** Serves the example app page, a sibling page, and the SDK's ESM files from node_modules. */
export async function startAppServer(): Promise<AppServer> {
    const server: Server = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(appPage);
        if (path === '/sibling') return void res.writeHead(200, { 'content-type': 'text/html' }).end(siblingPage);
        if (path.startsWith('/sdk/')) {
            const file = normalize(join(sdkDir, path.slice('/sdk/'.length)));
            if (file.startsWith(sdkDir) && file.endsWith('.js')) {
                try {
                    return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
                } catch {
                    // fall through to 404
                }
            }
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
        url: `http://127.0.0.1:${port}`,
        otherOriginUrl: `http://localhost:${port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve()))
    };
}
