// The one proxy relay (src/proxy/relay.ts) behind both doors: the fast door (node:http, taken by requests with
// only the required control headers) and the Fastify route (taken when `Retries` is sent). Issue #10 item 10:
// request bodies used to be buffered whole before the upstream request started, and only bodiless requests took
// the fast door. Bodies now stream upstream on both doors, an app that hangs up mid-upload stops the upstream
// request, and a body over SWITCHBOARD_BODY_LIMIT_BYTES is refused before anything reaches the provider.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { waitFor } from './support/webhooks.ts';

interface Seen {
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    bytes: number;
    sha256: string;
    /** The app's side went away before the whole body arrived. */
    aborted: boolean;
    complete: boolean;
    /** The connection of the provider's answer closed (the proxy gave up on it). */
    answerClosed: boolean;
}

interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

const LIMIT = 8 * 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A provider API on loopback that hashes every body as it streams in and answers per path. */
async function startHashingUpstream(): Promise<{ url: string; seen: Seen[]; server: Server }> {
    const seen: Seen[] = [];
    const big = Buffer.alloc(200_000, 'a');
    let flaky = 0;
    const server = createServer((req, res) => {
        const hash = createHash('sha256');
        const rec: Seen = {
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            bytes: 0,
            sha256: '',
            aborted: false,
            complete: false,
            answerClosed: false
        };
        res.once('close', () => (rec.answerClosed = true));
        seen.push(rec);
        if (rec.url.startsWith('/early')) {
            // Refuses before reading the body, as a provider checking its own size limit would.
            res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
            res.end('{"error":"too big for the provider"}');
        }
        req.on('data', (c: Buffer) => {
            rec.bytes += c.length;
            hash.update(c);
        });
        req.on('close', () => {
            if (!rec.complete) rec.aborted = true;
        });
        req.on('end', () => {
            rec.complete = true;
            rec.sha256 = hash.digest('hex');
            const path = rec.url.split('?')[0];
            const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
                res.writeHead(status, { 'content-type': 'application/json', ...headers });
                res.end(JSON.stringify(body));
            };
            switch (path) {
                case '/early':
                    return;
                case '/big':
                    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(big.length) });
                    return void res.end(big);
                case '/chunked':
                    res.writeHead(200, { 'content-type': 'text/plain' });
                    res.write('part one, ');
                    return void setTimeout(() => res.end('part two'), 5);
                case '/empty':
                    res.writeHead(204, { 'x-request-id': 'r-2' });
                    return void res.end();
                case '/err':
                    return json(404, { error: 'no such thing' }, { 'x-err': 'kept on errors', 'access-control-allow-origin': 'https://evil.example' });
                case '/truncated':
                    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
                    res.write('only ten b');
                    return void setTimeout(() => res.socket?.destroy(), 5);
                case '/flaky':
                    // Every other call is a 503 that asks for no wait.
                    if (flaky++ % 2 === 0) return json(503, { error: 'busy' }, { 'retry-after': '0' });
                    return json(200, { bytes: rec.bytes, sha256: rec.sha256 });
                case '/never':
                    return; // answers nothing: the app's side decides when it ends
                default:
                    return json(200, { bytes: rec.bytes, sha256: rec.sha256, type: req.headers['content-type'] ?? null });
            }
        });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function send(url: string, method: string, headers: Record<string, string>, body?: Buffer | Buffer[]): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const length = Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {};
        const req = request(url, { method, headers: { ...headers, ...length } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        // An array is sent in pieces without a Content-Length (chunked).
        if (Array.isArray(body)) for (const part of body) req.write(part);
        else if (body) req.write(body);
        req.end();
    });
}

async function closedPort(): Promise<number> {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    return port;
}

describe('the proxy relay', () => {
    let upstream: Awaited<ReturnType<typeof startHashingUpstream>>;
    let server: TestServer;

    before(async () => {
        upstream = await startHashingUpstream();
        const dead = await closedPort();
        server = await startServer({
            SWITCHBOARD_LOG_LEVEL: 'info',
            SWITCHBOARD_BODY_LIMIT_BYTES: String(LIMIT),
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
relay-api:
  display_name: Relay API
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
            fetch(`${server.url}${path}`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
        for (const [provider, key] of [
            ['relay-api', 'relay'],
            ['dead-api', 'dead']
        ] as const) {
            assert.equal((await admin('/integrations', { provider, unique_key: key })).status, 200);
            assert.equal(
                (await admin('/connections', { provider_config_key: key, connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k-123' } })).status,
                201
            );
        }
    });
    after(async () => {
        await server?.stop();
        upstream?.server.closeAllConnections();
        await new Promise<void>((r) => (upstream ? upstream.server.close(() => r()) : r()));
        if (server) removeDir(server.dataDir);
    });

    // The fast door's request log lines for one URL (log lines reach the test asynchronously, so always by URL).
    // The log shows the path and redacts the query, so markers that must be told apart go in the path.
    const fastLines = (path: string) => {
        const p = path.split('?')[0];
        return server
            .output()
            .split('\n')
            .filter((l) => l.includes('"fastPath":true') && (l.includes(`"path":"${p}"`) || l.includes(`"path":"${p}?`))).length;
    };
    const base = () => ({ authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'relay', 'connection-id': 'c1' });
    // `Retries: 0` changes nothing about the request but sends it through the Fastify door.
    const doors = [
        { name: 'fast door', extra: {} as Record<string, string>, fast: true },
        { name: 'Fastify door', extra: { retries: '0' } as Record<string, string>, fast: false }
    ];
    const upstreamCall = (marker: string) => upstream.seen.find((r) => r.url.endsWith(marker));

    /** Sends through one door and checks (by the request log line) that it was that door; each path is sent once. */
    async function through(
        door: (typeof doors)[number],
        method: string,
        path: string,
        headers: Record<string, string>,
        body?: Buffer | Buffer[]
    ): Promise<Answer> {
        const answer = await send(`${server.url}${path}`, method, { ...headers, ...door.extra }, body);
        if (door.fast) await waitFor('the fast door log line', () => fastLines(path) > 0 || undefined, 5000);
        else assert.equal(fastLines(path), 0, `${method} ${path} went through the fast door`);
        return answer;
    }

    for (const door of doors) {
        it(`${door.name}: a 5 MB POST body arrives intact upstream (hash compared)`, async () => {
            const body = randomBytes(5 * 1024 * 1024);
            const marker = `/big-post-${door.fast ? 'fast' : 'fastify'}`;
            const a = await through(door, 'POST', `/proxy/upload${marker}`, { ...base(), 'content-type': 'application/octet-stream' }, body);
            assert.equal(a.status, 200, a.body.toString());
            const seen = upstreamCall(marker)!;
            assert.equal(seen.bytes, body.length);
            assert.equal(seen.sha256, sha(body));
            assert.equal(seen.headers['content-length'], String(body.length));
            assert.equal(seen.headers['x-api-key'], 'k-123');
            assert.deepEqual(JSON.parse(a.body.toString()), { bytes: body.length, sha256: sha(body), type: 'application/octet-stream' });
        });

        it(`${door.name}: a 5 MB body without a length (chunked) streams intact, and a 10 KB JSON body too`, async () => {
            const body = randomBytes(5 * 1024 * 1024);
            const parts = Array.from({ length: 80 }, (_, i) => body.subarray(i * 65_536, (i + 1) * 65_536));
            const marker = `/chunked-post-${door.fast ? 'fast' : 'fastify'}`;
            const a = await through(door, 'PUT', `/proxy/upload${marker}`, base(), parts);
            assert.equal(a.status, 200, a.body.toString());
            assert.equal(upstreamCall(marker)!.sha256, sha(body));
            const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, note: 'x'.repeat(20) })) }));
            const jmarker = `/json-${door.fast ? 'fast' : 'fastify'}`;
            const j = await through(door, 'PATCH', `/proxy/items${jmarker}`, { ...base(), 'content-type': 'application/json' }, json);
            assert.equal(j.status, 200);
            assert.equal(upstreamCall(jmarker)!.sha256, sha(json));
            assert.equal(upstreamCall(jmarker)!.headers['content-type'], 'application/json');
        });

        it(`${door.name}: an app that aborts mid-upload aborts the upstream request`, async () => {
            const marker = `?abort-upload-${door.fast ? 'fast' : 'fastify'}`;
            const req = request(`${server.url}/proxy/never${marker}`, {
                method: 'POST',
                headers: { ...base(), ...door.extra, 'content-length': String(4 * 1024 * 1024) }
            });
            req.on('error', () => undefined);
            req.write(randomBytes(1024 * 1024));
            // The body streams: the provider holds part of it while the app is still sending.
            await waitFor('part of the body upstream', () => ((upstreamCall(marker)?.bytes ?? 0) > 0 ? true : undefined), 10_000);
            req.destroy();
            await waitFor('the upstream request to be aborted', () => upstreamCall(marker)?.aborted || undefined, 10_000);
            assert.equal(upstreamCall(marker)!.complete, false);
        });

        it(`${door.name}: a body over SWITCHBOARD_BODY_LIMIT_BYTES is refused with 413 and nothing reaches the provider`, async () => {
            const marker = `/too-large-${door.fast ? 'fast' : 'fastify'}`;
            const a = await through(door, 'POST', `/proxy/upload${marker}`, { ...base(), 'content-type': 'application/octet-stream' }, randomBytes(LIMIT + 1));
            assert.equal(a.status, 413);
            assert.equal((JSON.parse(a.body.toString()) as { error: { code: string } }).error.code, 'payload_too_large');
            assert.equal(upstreamCall(marker), undefined, 'no request reached the provider');
            // Without a declared length the upload is cut off at the limit: the provider never gets a whole request.
            const cmarker = `?too-large-chunked-${door.fast ? 'fast' : 'fastify'}`;
            const parts = Array.from({ length: Math.ceil(LIMIT / 65_536) + 2 }, () => randomBytes(65_536));
            const c = await send(`${server.url}/proxy/upload${cmarker}`, 'POST', { ...base(), ...door.extra }, parts).catch((err: Error) => err);
            if (!(c instanceof Error)) assert.equal(c.status, 413);
            const seen = upstreamCall(cmarker);
            if (seen) await waitFor('the cut-off upload to end upstream', () => seen.aborted || undefined, 10_000);
            assert.ok(!seen?.complete, 'the provider never received a whole request');
        });
    }

    it('a small body is replayed by Retries; a streamed one is sent once and the answer passed back', async () => {
        const small = randomBytes(1024);
        const a = await send(`${server.url}/proxy/flaky?small`, 'POST', { ...base(), retries: '1' }, small);
        assert.equal(a.status, 200);
        const small2 = upstream.seen.filter((r) => r.url.endsWith('?small'));
        assert.equal(small2.length, 2);
        assert.ok(small2.every((r) => r.sha256 === sha(small)));
        const large = randomBytes(1024 * 1024);
        const b = await send(`${server.url}/proxy/flaky?large`, 'POST', { ...base(), retries: '1' }, large);
        assert.equal(b.status, 503);
        assert.equal(upstream.seen.filter((r) => r.url.endsWith('?large')).length, 1);
    });

    it('a provider that refuses a streamed body before reading it: its answer reaches the app, and the next request works', async () => {
        for (const door of doors) {
            const a = await send(
                `${server.url}/proxy/early?${door.fast ? 'fast' : 'fastify'}`,
                'POST',
                { ...base(), ...door.extra, 'content-type': 'application/octet-stream' },
                randomBytes(5 * 1024 * 1024)
            ).catch((err: Error) => err);
            // Either the provider's 413 is relayed, or (if the upload was still under way when it closed) a 502.
            if (!(a instanceof Error)) assert.ok(a.status === 413 || a.status === 502, String(a.status));
            const next = await through(door, 'POST', `/proxy/after-early-${door.fast ? 'fast' : 'fastify'}`, base(), Buffer.from('ok'));
            assert.equal(next.status, 200);
        }
    });

    // The answer side: the relay's decisions, once (both doors run the same relay object).
    it('answers: a large body streamed, a chunked one, 204 without a body, HEAD, an error with its headers', async () => {
        const door = doors[0]!;
        assert.equal((await through(door, 'GET', '/proxy/big', base())).body.length, 200_000);
        const chunked = await through(door, 'GET', '/proxy/chunked', base());
        assert.equal(chunked.body.toString(), 'part one, part two');
        const empty = await through(door, 'GET', '/proxy/empty', base());
        assert.equal(empty.status, 204);
        assert.equal(empty.headers['x-request-id'], 'r-2');
        const head = await through(door, 'HEAD', '/proxy/big?head', base());
        assert.equal(head.body.length, 0);
        const err = await through(door, 'GET', '/proxy/err', base());
        assert.equal(err.status, 404);
        assert.equal(err.headers['x-err'], 'kept on errors');
        assert.equal(err.headers['access-control-allow-origin'], '*');
    });

    it('answers: a provider that hangs up mid-body, or cannot be reached, is a 502 in the error envelope', async () => {
        const door = doors[0]!;
        const truncated = await through(door, 'GET', '/proxy/truncated', base());
        assert.equal(truncated.status, 502);
        assert.equal((JSON.parse(truncated.body.toString()) as { error: { code: string } }).error.code, 'upstream_unreachable');
        const dead = await through(door, 'GET', '/proxy/x', { ...base(), 'provider-config-key': 'dead' });
        assert.equal(dead.status, 502);
        assert.equal(dead.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(dead.headers['access-control-allow-origin'], '*');
    });

    it('an app that hangs up while waiting for the answer stops the upstream call on both doors', async () => {
        for (const door of doors) {
            const marker = `?hangup-${door.fast ? 'fast' : 'fastify'}`;
            const controller = new AbortController();
            const pending = fetch(`${server.url}/proxy/never${marker}`, { headers: { ...base(), ...door.extra }, signal: controller.signal }).catch(
                () => 'aborted'
            );
            await waitFor('the upstream request', () => upstreamCall(marker)?.complete || undefined, 5000);
            controller.abort();
            assert.equal(await pending, 'aborted');
            await waitFor('the upstream call to stop', () => upstreamCall(marker)?.answerClosed || undefined, 5000);
        }
    });
});
