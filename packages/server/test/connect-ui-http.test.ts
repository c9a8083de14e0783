// How /connect/ is served: headers, files, SPA fallback, the 503 without a build, the frame-ancestors setting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import Fastify from 'fastify';
import { startServer, removeDir, type TestServer } from './support/server.ts';
import { registerConnectUi } from '../src/connect-ui/routes.ts';
import { loadConfig, ConfigError } from '../src/config/config.ts';
import { connectUiCsp } from '../src/connect-ui/headers.ts';
import { ApiError } from '../src/errors.ts';

/** A raw GET, so paths like /connect/%2e%2e/ reach the server unnormalised. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
    });
}

describe('GET /connect/', () => {
    let server: TestServer;
    before(async () => {
        server = await startServer();
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('serves the app with a strict CSP, no referrer and no caching of the page', async () => {
        const res = await fetch(`${server.url}/connect/?apiURL=x`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        const csp = res.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.match(csp, /style-src 'self'(;|$)/);
        assert.match(csp, /base-uri 'none'/);
        // Loopback server URL and nothing configured: local pages of any port may embed it.
        assert.match(csp, /frame-ancestors 'self' http:\/\/localhost:\* http:\/\/127\.0\.0\.1:\*/);
        assert.doesNotMatch(csp, /https?:\/\/(?!localhost|127\.0\.0\.1|\[::1\])/, 'no third-party origin');
        const html = await res.text();
        assert.match(html, /<div id="root"><\/div>/);
        assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');

        const asset = /src="(\/connect\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        assert.ok(asset);
        const js = await fetch(`${server.url}${asset}`);
        assert.equal(js.status, 200);
        assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
        assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    });

    it('falls back to index.html for app paths, 404s unknown files, keeps API paths JSON', async () => {
        const deep = await fetch(`${server.url}/connect/integrations/stripe`);
        assert.equal(deep.status, 200);
        assert.match(await deep.text(), /<div id="root">/);

        const missing = await fetch(`${server.url}/connect/assets/nope-123.js`);
        assert.equal(missing.status, 404);
        assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');

        const traversal = await rawGet(server.url, '/connect/%2e%2e/%2e%2e/package.json');
        assert.notEqual(traversal.status, 200);
        assert.doesNotMatch(traversal.body, /"name"/);

        const redirect = await fetch(`${server.url}/connect?session_token=abc`, { redirect: 'manual' });
        assert.equal(redirect.status, 308);
        assert.equal(redirect.headers.get('location'), '/connect/?session_token=abc');

        // GET /connect/session is still the API; other verbs' paths stay JSON 404s.
        assert.equal((await fetch(`${server.url}/connect/session`)).status, 401);
        const sessions = await fetch(`${server.url}/connect/sessions`);
        assert.equal(sessions.status, 404);
        assert.equal(((await sessions.json()) as { error: { code: string } }).error.code, 'route_not_found');
    });
});

describe('Connect UI without a build', () => {
    it('answers 503 connect_ui_not_built instead of crashing', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sb-no-ui-'));
        const app = Fastify();
        app.setErrorHandler(async (err, _req, reply) =>
            err instanceof ApiError ? reply.code(err.status).send(err.toJSON()) : reply.code(500).send({ error: { code: 'unexpected' } })
        );
        await registerConnectUi(app, { dir, serverUrl: () => 'http://localhost:3003', frameAncestors: undefined });
        try {
            const res = await app.inject({ method: 'GET', url: '/connect/' });
            assert.equal(res.statusCode, 503);
            assert.equal(res.json<{ error: { code: string } }>().error.code, 'connect_ui_not_built');
            assert.equal(res.headers['referrer-policy'], 'no-referrer');
        } finally {
            await app.close();
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe('SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS', () => {
    it('accepts https origins and loopback http, refuses paths, wildcards and plain http elsewhere', () => {
        const ok = loadConfig({ SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS: 'https://app.example.com, https://*.example.org:8443,http://localhost:5173' });
        assert.deepEqual(ok.connectUiFrameAncestors, ['https://app.example.com', 'https://*.example.org:8443', 'http://localhost:5173']);
        for (const bad of ['*', 'https://app.example.com/path', 'http://app.example.com', "'unsafe-inline'", 'app.example.com', 'https://a.com;script-src *']) {
            assert.throws(
                () => loadConfig({ SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS: bad }),
                (e: unknown) => e instanceof ConfigError && /SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS/.test(e.message),
                bad
            );
        }
    });

    it('defaults to the server itself only when the server URL is not loopback', () => {
        assert.match(connectUiCsp('https://switchboard.example.com', undefined), /frame-ancestors 'self'$/);
        assert.match(connectUiCsp('https://switchboard.example.com', ['https://app.example.com']), /frame-ancestors 'self' https:\/\/app\.example\.com$/);
        assert.match(
            connectUiCsp('https://switchboard.example.com', undefined),
            /connect-src 'self' https:\/\/switchboard\.example\.com wss:\/\/switchboard\.example\.com/
        );
    });
});
