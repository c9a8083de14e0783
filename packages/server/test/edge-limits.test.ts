// Issue #10 items 5 and 6 (edge): authentication before the body, a small body limit where no key is needed, a
// request timeout that cuts off a trickling client, and a JSON depth limit. Before: six unauthenticated 74 MB
// bodies stalled /health at 1.75 GB RSS, and 5,000-level nested bodies answered 500. What must NOT happen is
// asserted: the server does not receive (nor hold in memory) a body it refused, and nothing is stored.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, writeProvidersFile, type TestServer } from './support/server.ts';
import { api } from './support/webhooks.ts';
import { jsonDeeperThan } from '../src/http/json-depth.ts';

const BODY = 74 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 'a');

/**
 * Bytes the server process has read through read(2) so far, sockets included (/proc/<pid>/io `rchar`). What the
 * client managed to write proves nothing: the loopback's kernel buffers take tens of megabytes the server never reads.
 */
function bytesRead(pid: number): number {
    return Number(/^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

// Six refused uploads may each be read up to the 1 MiB public limit (or Node's first buffers): far below one body.
const READ_BUDGET = 16 * 1024 * 1024;

interface Upload {
    status: number;
    /** Body bytes handed to the socket when the answer arrived. */
    sentAtAnswer: number;
    /** True when the server closed the connection before the client had sent the whole body. */
    cutOff: boolean;
    sent: number;
    /** Socket events with their time, for failure messages. */
    events: string[];
}

/**
 * Sends `total` body bytes (valid JSON, so only authentication can refuse it) as fast as the server takes them,
 * and stops at the first byte of the answer. `started` resolves once the first megabyte is out.
 */
function upload(
    server: TestServer,
    path: string,
    headers: Record<string, string>,
    total: number,
    opts: { chunked?: boolean; delayMs?: number; chunk?: Buffer; method?: string } = {}
): { started: Promise<void>; done: Promise<Upload> } {
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    const head = [
        `${opts.method ?? 'POST'} ${path} HTTP/1.1`,
        `host: ${hostname}`,
        'content-type: application/json',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)
    ];
    head.push(opts.chunked ? 'transfer-encoding: chunked' : `content-length: ${total}`);
    let sent = 0;
    let answer = '';
    let sentAtAnswer = -1;
    let onStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => (onStarted = r));
    const piece = (n: number): Buffer => {
        // `{"a":"aaa…a"}`: the quotes and braces at both ends keep the whole body valid JSON.
        const b = Buffer.from((opts.chunk ?? CHUNK).subarray(0, n));
        if (n >= 8 && sent === 0) b.write('{"a":"', 0);
        if (n >= 8 && sent + n === total) b.write('"}', n - 2);
        return opts.chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b;
    };
    const done = new Promise<Upload>((resolve) => {
        socket.on('data', (d: Buffer) => {
            if (sentAtAnswer < 0) sentAtAnswer = sent;
            answer += d.toString('latin1');
        });
        const t0 = Date.now();
        const events: string[] = [];
        socket.on('error', (e) => events.push(`${e.message}@${Date.now() - t0}`));
        socket.on('end', () => events.push(`end@${Date.now() - t0}`));
        socket.on('close', () => {
            onStarted();
            resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), sentAtAnswer, cutOff: sent < total, sent, events });
        });
    });
    const pump = (): void => {
        while (sentAtAnswer < 0 && !socket.destroyed && sent < total) {
            const n = Math.min((opts.chunk ?? CHUNK).length, total - sent);
            const ok = socket.write(piece(n));
            sent += n;
            if (sent >= 1024 * 1024) onStarted();
            if (sent === total) {
                if (opts.chunked) socket.write('0\r\n\r\n');
                onStarted();
            }
            if (opts.delayMs) {
                setTimeout(pump, opts.delayMs);
                return;
            }
            if (!ok) {
                socket.once('drain', pump);
                return;
            }
        }
        // Answered (or all sent): stop sending; a kept-alive connection is closed by us once answered.
        if (sentAtAnswer >= 0) socket.end();
    };
    socket.once('connect', () => {
        socket.write(`${head.join('\r\n')}\r\n\r\n`);
        pump();
    });
    socket.on('data', () => {
        if (!socket.writableEnded) socket.end();
    });
    return { started, done };
}

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`the edge: authentication before the body, limits and timeouts (${backend})`, () => {
        let server: TestServer;
        let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
        let sessionToken: string;

        before(async () => {
            const providers = writeProvidersFile(`items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:1\n`);
            const env: Record<string, string> = { SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_REQUEST_TIMEOUT_MS: '1000' };
            if (backend === 'postgres') {
                database = await createTestDatabase();
                env['SWITCHBOARD_DATABASE_URL'] = database.url;
                env['SWITCHBOARD_ENCRYPTION_KEY'] = testEncryptionKey();
            }
            server = await startServer(env);
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: 'items', provider: 'items-api' })).status, 200);
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: 'items',
                connection_id: 'c1',
                credentials: { type: 'API_KEY', apiKey: 'k' },
                metadata: { kept: true }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const session = await api(server, 'POST', '/connect/sessions', { end_user: { id: 'u1' } });
            assert.equal(session.status, 201, JSON.stringify(session.body));
            sessionToken = session.body.data.token;
        });

        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await database?.drop();
        });

        it('a large body with a missing or wrong key is answered 401 before it is received', async () => {
            const readBefore = bytesRead(server.pid);
            // Six at once, as in the probe: three wrong keys and three without a key, on admin routes.
            const uploads = [
                upload(server, '/integrations', { authorization: 'Bearer wrong-key' }, BODY),
                upload(server, '/connections/metadata', { authorization: 'Bearer wrong-key' }, BODY),
                upload(server, '/proxy/items', { authorization: 'Bearer wrong-key', 'provider-config-key': 'items', 'connection-id': 'c1' }, BODY),
                upload(server, '/integrations', {}, BODY),
                upload(server, '/connect/sessions', {}, BODY),
                upload(server, '/action/trigger', { 'provider-config-key': 'items', 'connection-id': 'c1' }, BODY)
            ];
            await Promise.all(uploads.map((u) => u.started));
            // The server keeps answering during the attack.
            const health = await fetch(`${server.url}/health`);
            assert.equal(health.status, 200);
            const results = await Promise.all(uploads.map((u) => u.done));
            for (const r of results) {
                assert.equal(r.status, 401, JSON.stringify(r));
                assert.equal(r.cutOff, true, 'the server closed the connection instead of receiving the rest');
            }
            const read = bytesRead(server.pid) - readBefore;
            assert.ok(read < READ_BUDGET, `the server read ${Math.round(read / 1048576)} MB of six refused ${BODY / 1048576} MB bodies`);
        });

        it('routes without a secret key take at most 1 MiB (413), also when the body is chunked, and /health still answers', async () => {
            const readBefore = bytesRead(server.pid);
            const uploads = [
                upload(server, `/api-auth/api-key/items?connect_session_token=${sessionToken}`, {}, BODY),
                upload(server, `/api-auth/basic/items?connect_session_token=${sessionToken}`, {}, BODY, { chunked: true }),
                upload(server, '/connect/session', { authorization: `Bearer ${sessionToken}` }, BODY, { chunked: true, method: 'DELETE' }),
                upload(server, '/webhook/00000000-0000-0000-0000-000000000000/items', {}, BODY),
                upload(server, '/no-such-route', {}, BODY),
                upload(server, '/no-such-route', {}, BODY, { chunked: true })
            ];
            await Promise.all(uploads.map((u) => u.started));
            const health = await fetch(`${server.url}/health`);
            assert.equal(health.status, 200);
            const results = await Promise.all(uploads.map((u) => u.done));
            assert.deepEqual(
                results.map((r) => r.status),
                [413, 413, 413, 413, 404, 404],
                JSON.stringify(results)
            );
            for (const r of results) assert.ok(r.cutOff, JSON.stringify(r));
            const read = bytesRead(server.pid) - readBefore;
            assert.ok(read < READ_BUDGET, `the server read ${Math.round(read / 1048576)} MB of six ${BODY / 1048576} MB bodies`);
            // Below the limit, the same public route reads the body as before.
            const small = await fetch(`${server.url}/api-auth/api-key/items?connect_session_token=${sessionToken}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ apiKey: 'x'.repeat(100) })
            });
            assert.notEqual(small.status, 413);
        });

        it('a client trickling its body (or its headers, on the proxy fast path) is cut off by the request timeout', async () => {
            const h = { authorization: `Bearer ${server.secretKey}` };
            const trickle = upload(server, '/integrations', h, 400, { chunk: Buffer.alloc(1, 'a'), delayMs: 100 });
            const publicTrickle = upload(server, '/webhook/00000000-0000-0000-0000-000000000000/items', {}, 400, { chunk: Buffer.alloc(1, 'a'), delayMs: 100 });
            const [authed, open] = await Promise.all([trickle.done, publicTrickle.done]);
            assert.equal(authed.status, 408, JSON.stringify(authed));
            assert.equal(authed.cutOff, true);
            assert.equal(open.status, 408, JSON.stringify(open));
            assert.equal(open.cutOff, true);

            // Headers one line at a time to /proxy (what the fast path serves): the same timeout applies.
            const { hostname, port } = new URL(server.url);
            const socket = connect(Number(port), hostname);
            const lines = [
                'GET /proxy/items HTTP/1.1',
                `host: ${hostname}`,
                `authorization: Bearer ${server.secretKey}`,
                'provider-config-key: items',
                'connection-id: c1',
                ...Array.from({ length: 200 }, (_, i) => `x-pad-${i}: ${i}`)
            ];
            let answer = '';
            let sentLines = 0;
            const closed = new Promise<void>((r) => socket.on('close', () => r()));
            socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
            socket.on('error', () => undefined);
            const timer = setInterval(() => {
                if (socket.destroyed || sentLines >= lines.length) return clearInterval(timer);
                socket.write(`${lines[sentLines++]}\r\n`);
            }, 50);
            await closed;
            clearInterval(timer);
            assert.match(answer, /^HTTP\/1\.1 408/);
            assert.ok(sentLines < lines.length, 'cut off before the headers were complete');
        });

        const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
        const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
        const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
            const res = await fetch(`${server.url}${path}`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json', ...headers },
                body
            });
            return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
        };

        it('JSON nested deeper than 100 levels is a 400 invalid_body on metadata, connect session and action bodies, and nothing changes', async () => {
            for (const depth of [101, 5000]) {
                const metadata = await post(
                    '/connections/metadata',
                    `{"provider_config_key":"items","connection_id":"c1","metadata":{"x":${deepObject(depth)}}}`
                );
                assert.equal(metadata.status, 400, JSON.stringify(metadata.body));
                assert.equal(metadata.body.error?.code, 'invalid_body');
                assert.match(metadata.body.error?.message ?? '', /100 levels/);
                const session = await post(
                    '/connect/sessions',
                    `{"end_user":{"id":"deep"},"integrations_config_defaults":{"items":{"connection_config":{"x":${deepObject(depth)}}}}}`
                );
                assert.equal(session.status, 400, JSON.stringify(session.body));
                assert.equal(session.body.error?.code, 'invalid_body');
                const action = await post('/action/trigger', `{"action_name":"anything","input":${deepArray(depth)}}`, {
                    'provider-config-key': 'items',
                    'connection-id': 'c1'
                });
                assert.equal(action.status, 400, JSON.stringify(action.body));
                assert.equal(action.body.error?.code, 'invalid_body');
            }
            const conn = await api(server, 'GET', '/connections/c1?provider_config_key=items');
            assert.deepEqual(conn.body.metadata, { kept: true }, 'metadata unchanged');
            // At the limit, and with brackets inside strings (which do not nest), bodies pass.
            const atLimit = await post(
                '/connections/metadata',
                `{"provider_config_key":"items","connection_id":"c1","metadata":{"x":${deepObject(98)},"s":"${'['.repeat(500)}"}}`
            );
            assert.equal(atLimit.status, 201, JSON.stringify(atLimit.body));
        });
    });
}

describe('jsonDeeperThan', () => {
    const deeper = (text: string, max: number) => jsonDeeperThan(Buffer.from(text), max);
    it('counts objects and arrays, not brackets inside strings, escaped quotes included', () => {
        assert.equal(deeper('[[[1]]]', 3), false);
        assert.equal(deeper('[[[[1]]]]', 3), true);
        assert.equal(deeper('{"a":{"b":[{}]}}', 4), false);
        assert.equal(deeper('{"a":{"b":[{}]}}', 3), true);
        assert.equal(deeper('["[[[[", "\\\\", "\\"[[[[", "é[[[["]', 1), false);
        assert.equal(deeper('["\\\\"' + ',[[[]]]]', 3), true);
    });
});
