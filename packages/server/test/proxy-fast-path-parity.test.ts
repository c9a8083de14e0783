// The proxy has two doors to one relay (src/proxy/relay.ts): the fast door (src/proxy/fast-path.ts) and the Fastify
// route. Past parsing they run the same code (the relay's own behaviour is tested in proxy-relay.test.ts), so what
// must agree is how each door reads a request: authentication, control headers, path and query, forwarded headers,
// body. Every case is sent twice: as is (the fast door takes it) and with `Retries: 0`, which changes nothing about
// the request but sends it through Fastify. The upstream echoes what it received; status, headers and body must
// match, and the log says which door served each.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
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

/** Sends the request; a string body goes with its length, an array of strings in pieces (chunked). */
function send(url: string, method: string, headers: Record<string, string>, body?: string | string[]): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const length = typeof body === 'string' ? { 'content-length': String(Buffer.byteLength(body)) } : {};
        const req = request(url, { method, headers: { ...headers, ...length } }, (res) => {
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
        for (const part of typeof body === 'string' ? [body] : (body ?? [])) req.write(part);
        req.end();
    });
}

describe('proxy fast path answers as the general route does', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let server: TestServer;

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const { host: _host, connection: _connection, ...seen } = req.headers as IncomingHttpHeaders;
            return json(res, 200, { method: req.method, url: req.url, headers: seen, body: req.body }, { 'x-request-id': 'r-1', 'set-cookie': 'a=1' });
        });
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
`)
        });
        const admin = (path: string, body: unknown) =>
            fetch(`${server.url}${path}`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
        for (const [provider, key] of [['parity-api', 'parity']] as const) {
            assert.equal((await admin('/integrations', { provider, unique_key: key })).status, 200);
            assert.equal(
                (await admin('/connections', { provider_config_key: key, connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k-123' } })).status,
                201
            );
        }
    });
    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    const fastLines = () =>
        server
            .output()
            .split('\n')
            .filter((l) => l.includes('"fastPath":true')).length;
    const auth = () => ({ authorization: `Bearer ${server.secretKey}` });
    const base = () => ({ ...auth(), 'provider-config-key': 'parity', 'connection-id': 'c1' });

    /** Sends the case both ways; returns the fast answer after checking it equals the general one. */
    async function both(
        method: string,
        path: string,
        headers: Record<string, string>,
        opts: { fast?: boolean; body?: string | string[] | undefined } = {}
    ): Promise<Answer> {
        const before = fastLines();
        const fast = await send(`${server.url}${path}`, method, headers, opts.body);
        await waitFor('the request log line', () => fastLines() >= before + (opts.fast === false ? 0 : 1) || undefined, 2000).catch(() => undefined);
        assert.equal(fastLines(), before + (opts.fast === false ? 0 : 1), `${method} ${path}: expected the ${opts.fast === false ? 'general' : 'fast'} path`);
        const general = await send(`${server.url}${path}`, method, { ...headers, retries: '0' }, opts.body);
        assert.equal(fastLines(), before + (opts.fast === false ? 0 : 1), `${method} ${path} with Retries: the general path`);
        assert.deepEqual(fast, general, `${method} ${path}: the two paths differ`);
        return fast;
    }

    const echo = (a: Answer) => JSON.parse(a.body) as { method: string; url: string; headers: Record<string, string>; body: string };

    it('path, query and the injected credential; response headers filtered the same way', async () => {
        const a = await both('GET', '/proxy/json?x=1&y=%20z', base());
        assert.equal(a.status, 200);
        assert.equal(echo(a).url, '/json?x=1&y=%20z');
        assert.equal(echo(a).headers['x-api-key'], 'k-123');
        assert.ok(a.headers.includes('x-request-id: r-1'));
        assert.ok(a.headers.includes('access-control-allow-origin: *'));
        assert.ok(!a.headers.some((h) => h.startsWith('set-cookie')));
    });

    it('HEAD, DELETE, /proxy alone and with only a query', async () => {
        assert.equal((await both('HEAD', '/proxy/json', base())).body, '');
        assert.equal(echo(await both('DELETE', '/proxy/json', base())).method, 'DELETE');
        assert.equal(echo(await both('GET', '/proxy', base())).url, '/');
        assert.equal(echo(await both('GET', '/proxy?only=query', base())).url, '/?only=query');
    });

    it('bodies take the fast door too, and arrive the same way: with a length, chunked, empty, without a content type', async () => {
        const json = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
        const a = await both('POST', '/proxy/echo', { ...base(), 'content-type': 'application/json' }, { body: json });
        assert.equal(echo(a).body, json);
        assert.equal(echo(a).headers['content-type'], 'application/json');
        assert.equal(echo(a).headers['content-length'], String(json.length));
        const chunked = await both('PUT', '/proxy/echo', { ...base(), 'content-type': 'text/plain' }, { body: ['part one, ', 'part two'] });
        assert.equal(echo(chunked).body, 'part one, part two');
        const empty = await both('PATCH', '/proxy/echo', { ...base(), 'content-length': '0' });
        assert.equal(echo(empty).body, '');
        const untyped = await both('POST', '/proxy/echo', base(), { body: 'raw bytes' });
        assert.equal(echo(untyped).body, 'raw bytes');
        assert.equal(echo(untyped).headers['content-type'], undefined);
    });

    it('what the official SDK sends takes the fast door too (it always adds an empty Base-Url-Override and a Nango-Activity-Log-Id)', async () => {
        const sdkHeaders = { ...base(), 'base-url-override': '', 'nango-activity-log-id': '' };
        const a = await both('GET', '/proxy/json?from=sdk-headers', sdkHeaders);
        assert.equal(a.status, 200);
        const before = fastLines();
        const nango = new Nango({ host: server.url, secretKey: server.secretKey });
        const res = await nango.post<{ body: string }>({ endpoint: '/json', providerConfigKey: 'parity', connectionId: 'c1', data: { a: 1 } });
        assert.equal(res.data.body, '{"a":1}');
        await waitFor('the request log line', () => fastLines() > before || undefined, 2000);
    });

    it('forwards Nango-Proxy-* headers and the content type, and nothing else of the app', async () => {
        const a = await both('GET', '/proxy/echo', {
            ...base(),
            'nango-proxy-x-custom': 'v',
            'content-type': 'text/plain',
            cookie: 'session=secret',
            'x-app': 'private'
        });
        const seen = echo(a);
        assert.equal(seen.headers['x-api-key'], 'k-123');
        assert.equal(seen.headers['x-custom'], 'v');
        assert.equal(seen.headers['content-type'], 'text/plain');
        assert.equal(seen.headers['cookie'], undefined);
        assert.equal(seen.headers['x-app'], undefined);
        assert.equal(seen.headers['authorization'], undefined);
    });

    it('auth and lookup failures give the same error envelope, and nothing reaches the provider', async () => {
        const cases: Array<[Record<string, string>, number, string]> = [
            [{ 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'missing_auth_header'],
            [{ authorization: 'Basic abc', 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'malformed_auth_header'],
            [{ authorization: 'Bearer not-the-key', 'provider-config-key': 'parity', 'connection-id': 'c1' }, 401, 'unknown_account'],
            [{ ...auth(), 'provider-config-key': 'nope', 'connection-id': 'c1' }, 404, 'unknown_provider_config'],
            [{ ...auth(), 'provider-config-key': 'parity', 'connection-id': 'nobody' }, 400, 'unknown_connection']
        ];
        const seen = upstream.requests.length;
        for (const [headers, status, code] of cases) {
            for (const body of [undefined, 'a body nobody may read']) {
                const a = await both(body ? 'POST' : 'GET', '/proxy/json', headers, { body });
                assert.equal(a.status, status, code);
                assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, code);
                assert.ok(a.headers.includes('content-type: application/json; charset=utf-8'));
            }
        }
        assert.equal(upstream.requests.length, seen);
    });

    it('what the fast door is unsure of goes to Fastify: a malformed escape, a missing control header, a WebDAV verb', async () => {
        const malformed = await both('GET', '/proxy/%zz', base(), { fast: false });
        assert.equal(malformed.status, 400);
        const before = fastLines();
        const missing = await send(`${server.url}/proxy/json`, 'GET', auth());
        assert.equal(missing.status, 400);
        const webdav = await send(`${server.url}/proxy/dav`, 'PROPFIND', base());
        assert.equal(echo(webdav).method, 'PROPFIND');
        assert.equal(fastLines(), before);
    });
});
