// The proxy's fast path (src/proxy/fast-path.ts) must answer exactly as the general Fastify route does. Every case
// is sent twice: as is (the fast path takes it) and with `Retries: 0`, which changes nothing about the request but
// sends it through Fastify. Status, headers and body must match, and the log says which path served each.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { waitFor } from './support/webhooks.ts';
import { Nango } from '@nangohq/node';

interface Answer {
    status: number;
    headers: string[];
    body: string;
}

// Per-response or per-connection: not part of what the two paths must agree on.
const volatile = new Set(['date', 'keep-alive', 'connection']);

function send(url: string, method: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const req = request(url, { method, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
                const pairs: string[] = [];
                for (let i = 0; i < res.rawHeaders.length; i += 2) {
                    const name = res.rawHeaders[i]!.toLowerCase();
                    if (!volatile.has(name)) pairs.push(`${name}: ${res.rawHeaders[i + 1]}`);
                }
                resolve({ status: res.statusCode ?? 0, headers: pairs.sort(), body: Buffer.concat(chunks).toString('utf8') });
            });
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    });
}

async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    return port;
}

describe('proxy fast path answers as the general route does', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let server: TestServer;
    const aborted: string[] = [];
    const big = 'a'.repeat(200_000);

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const path = req.url.split('?')[0];
            switch (path) {
                case '/json':
                    return json(res, 200, { ok: true, url: req.url }, { 'x-request-id': 'r-1', 'set-cookie': 'a=1', 'x-other': 'dropped on success' });
                case '/no-type':
                    res.writeHead(200, { 'content-length': '3' });
                    return void res.end('abc');
                case '/big':
                    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(big.length) });
                    return void res.end(big);
                case '/chunked':
                    res.writeHead(200, { 'content-type': 'text/plain' });
                    res.write('part one, ');
                    return void setTimeout(() => res.end('part two'), 5);
                case '/err':
                    return json(res, 404, { error: 'no such thing' }, { 'x-err': 'kept on errors', 'access-control-allow-origin': 'https://evil.example', 'retry-after': '3' });
                case '/big-err':
                    res.writeHead(500, { 'content-type': 'text/plain', 'x-err': 'big' });
                    return void res.end(big);
                case '/truncated':
                    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
                    res.write('only ten b');
                    return void setTimeout(() => res.socket?.destroy(), 5);
                case '/empty':
                    res.writeHead(204, { 'x-request-id': 'r-2' });
                    return void res.end();
                case '/echo': {
                    const { host: _host, connection: _connection, ...seen } = req.headers as IncomingHttpHeaders;
                    return json(res, 200, { method: req.method, url: req.url, headers: seen });
                }
                case '/slow':
                    res.once('close', () => aborted.push(req.url));
                    return;
                default:
                    return json(res, 200, { path: req.url });
            }
        });
        const dead = await closedPort();
        server = await startServer({
            SWITCHBOARD_LOG_LEVEL: 'info',
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
parity-api:
  display_name: Parity API
  auth_mode: API_KEY
  proxy:
    base_url: ${upstream.url}
    headers:
      x-api-key: \${apiKey}
dead-api:
  display_name: Dead API
  auth_mode: API_KEY
  proxy:
    base_url: http://127.0.0.1:${dead}
`)
        });
        const admin = (path: string, body: unknown) =>
            fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        for (const [provider, key] of [['parity-api', 'parity'], ['dead-api', 'dead']] as const) {
            assert.equal((await admin('/integrations', { provider, unique_key: key })).status, 200);
            assert.equal((await admin('/connections', { provider_config_key: key, connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k-123' } })).status, 201);
        }
    });
    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    const fastLines = () => server.output().split('\n').filter((l) => l.includes('"fastPath":true')).length;
    const auth = () => ({ authorization: `Bearer ${server.secretKey}` });
    const base = () => ({ ...auth(), 'provider-config-key': 'parity', 'connection-id': 'c1' });

    /** Sends the case both ways; returns the fast answer after checking it equals the general one. */
    async function both(method: string, path: string, headers: Record<string, string>, opts: { fast?: boolean } = {}): Promise<Answer> {
        const before = fastLines();
        const fast = await send(`${server.url}${path}`, method, headers);
        await waitFor('the request log line', () => fastLines() >= before + (opts.fast === false ? 0 : 1) || undefined, 2000).catch(() => undefined);
        assert.equal(fastLines(), before + (opts.fast === false ? 0 : 1), `${method} ${path}: expected the ${opts.fast === false ? 'general' : 'fast'} path`);
        const general = await send(`${server.url}${path}`, method, { ...headers, retries: '0' });
        assert.equal(fastLines(), before + (opts.fast === false ? 0 : 1), `${method} ${path} with Retries: the general path`);
        assert.deepEqual(fast, general, `${method} ${path}: the two paths differ`);
        return fast;
    }

    it('success: JSON with filtered headers, the credential injected, the query kept', async () => {
        const a = await both('GET', '/proxy/json?x=1&y=%20z', base());
        assert.equal(a.status, 200);
        assert.deepEqual(JSON.parse(a.body), { ok: true, url: '/json?x=1&y=%20z' });
        assert.ok(a.headers.includes('x-request-id: r-1'));
        assert.ok(a.headers.includes('access-control-allow-origin: *'));
        assert.ok(!a.headers.some((h) => h.startsWith('set-cookie') || h.startsWith('x-other')));
    });

    it('success without a content type, a large body, a chunked body, and no content', async () => {
        assert.equal((await both('GET', '/proxy/no-type', base())).body, 'abc');
        const large = await both('GET', '/proxy/big', base());
        assert.equal(large.body.length, big.length);
        assert.equal((await both('GET', '/proxy/chunked', base())).body, 'part one, part two');
        const empty = await both('GET', '/proxy/empty', base());
        assert.equal(empty.status, 204);
        assert.equal(empty.body, '');
    });

    it('upstream errors pass through with their headers, small and large', async () => {
        const e = await both('GET', '/proxy/err', base());
        assert.equal(e.status, 404);
        assert.ok(e.headers.includes('x-err: kept on errors'));
        assert.ok(e.headers.includes('retry-after: 3'));
        assert.ok(e.headers.includes('access-control-allow-origin: *'));
        const large = await both('GET', '/proxy/big-err', base());
        assert.equal(large.status, 500);
        assert.equal(large.body.length, big.length);
    });

    it('HEAD and DELETE; /proxy alone and with only a query', async () => {
        const head = await both('HEAD', '/proxy/json', base());
        assert.equal(head.body, '');
        assert.equal(JSON.parse((await both('DELETE', '/proxy/json', base())).body).ok, true);
        assert.equal(JSON.parse((await both('GET', '/proxy', base())).body).path, '/');
        assert.equal(JSON.parse((await both('GET', '/proxy?only=query', base())).body).path, '/?only=query');
    });

    it("what the official SDK sends takes the fast path too (it always adds an empty Base-Url-Override and a Nango-Activity-Log-Id)", async () => {
        const sdkHeaders = { ...base(), 'base-url-override': '', 'nango-activity-log-id': '' };
        const a = await both('GET', '/proxy/json?from=sdk-headers', sdkHeaders);
        assert.equal(a.status, 200);
        const before = fastLines();
        const nango = new Nango({ host: server.url, secretKey: server.secretKey });
        const res = await nango.get<{ ok: boolean }>({ endpoint: '/json', providerConfigKey: 'parity', connectionId: 'c1' });
        assert.equal(res.data.ok, true);
        await waitFor('the request log line', () => fastLines() > before || undefined, 2000);
    });

    it('forwards Nango-Proxy-* headers and the content type, and nothing else of the app', async () => {
        const a = await both('GET', '/proxy/echo', { ...base(), 'nango-proxy-x-custom': 'v', 'content-type': 'text/plain', cookie: 'session=secret', 'x-app': 'private' });
        const seen = JSON.parse(a.body) as { headers: Record<string, string> };
        assert.equal(seen.headers['x-api-key'], 'k-123');
        assert.equal(seen.headers['x-custom'], 'v');
        assert.equal(seen.headers['content-type'], 'text/plain');
        assert.equal(seen.headers['cookie'], undefined);
        assert.equal(seen.headers['x-app'], undefined);
        assert.equal(seen.headers['authorization'], undefined);
    });

    it('auth and lookup failures give the same error envelope', async () => {
        const cases: Array<[Record<string, string>, number, string]> = [
            [{ 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'missing_auth_header'],
            [{ authorization: 'Basic abc', 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'malformed_auth_header'],
            [{ authorization: 'Bearer not-the-key', 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'unknown_account'],
            [{ ...auth(), 'provider-config-key': 'nope', 'connection-id': 'c1' }, 404, 'unknown_provider_config'],
            [{ ...auth(), 'provider-config-key': 'parity', 'connection-id': 'nobody' }, 400, 'unknown_connection']
        ];
        for (const [headers, status, code] of cases) {
            const a = await both('GET', '/proxy/json', headers);
            assert.equal(a.status, status, code);
            assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, code);
            assert.ok(a.headers.includes('content-type: application/json; charset=utf-8'));
        }
    });

    it('an unreachable provider is the same 5xx error', async () => {
        const a = await both('GET', '/proxy/json', { ...auth(), 'provider-config-key': 'dead', 'connection-id': 'c1' });
        assert.ok(a.status >= 500, String(a.status));
        assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'upstream_unreachable');
    });

    it('an upstream that hangs up mid-body is the same 5xx error', async () => {
        const a = await both('GET', '/proxy/truncated', base());
        assert.equal(a.status, 502);
        assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'upstream_unreachable');
    });

    it('what the fast path is unsure of goes to Fastify: a malformed escape, a body, a missing control header', async () => {
        const malformed = await both('GET', '/proxy/%zz', base(), { fast: false });
        assert.equal(malformed.status, 400);
        const before = fastLines();
        const post = await send(`${server.url}/proxy/echo`, 'POST', { ...base(), 'content-type': 'application/json' });
        assert.equal(post.status, 200);
        const missing = await send(`${server.url}/proxy/json`, 'GET', auth());
        assert.equal(missing.status, 400);
        assert.equal(fastLines(), before);
    });

    it('an app that hangs up stops the upstream call on both paths', async () => {
        for (const extra of [{}, { retries: '0' }]) {
            const controller = new AbortController();
            const marker = `/slow?${Object.keys(extra).length ? 'general' : 'fast'}`;
            const pending = fetch(`${server.url}/proxy${marker}`, { headers: { ...base(), ...extra }, signal: controller.signal }).catch(() => 'aborted');
            await waitFor('the upstream request', () => upstream.requests.some((r) => r.url === marker), 5000);
            controller.abort();
            assert.equal(await pending, 'aborted');
            await waitFor('the upstream call to stop', () => aborted.includes(marker), 5000);
        }
    });
});
