// The proxy's `Decompress: true` (and a provider's `proxy.decompress`): the app gets the provider's body decoded
// (gzip, deflate, br) without Content-Encoding, on both doors; a body that does not decode is a 502. A slow app
// holds the decoder back: a compressed body that inflates a thousandfold (a "zip bomb" from a provider or an
// allow-listed Base-Url-Override) is never decoded ahead of what the app reads, so the server's memory does not
// grow with it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { startServer, storageEnv, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { api } from './support/webhooks.ts';

const TEXT = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `item ${i}` })) });
const BOMB_BYTES = 1024 * 1024 * 1024;

/** 1 GiB of zeros, gzip-compressed (about 1 MB). */
async function bomb(): Promise<Buffer> {
    const gz = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gz.on('data', (c: Buffer) => parts.push(c));
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < BOMB_BYTES / zeros.length; i++) if (!gz.write(zeros)) await once(gz, 'drain');
    gz.end();
    await once(gz, 'end');
    return Buffer.concat(parts);
}

const peakRss = (pid: number): number => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`proxy Decompress (${backend})`, () => {
        let server: TestServer;
        let upstream: Server;
        let drop: () => Promise<void>;
        let compressedBomb: Buffer;

        before(async () => {
            compressedBomb = await bomb();
            upstream = createServer((req, res) => {
                const body = Buffer.from(TEXT);
                const send = (encoding: string, data: Buffer) => {
                    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': String(data.length) });
                    res.end(data);
                };
                switch (req.url?.split('?')[0]) {
                    case '/gzip':
                        return send('gzip', gzipSync(body));
                    case '/deflate':
                        return send('deflate', deflateSync(body));
                    case '/br':
                        return send('br', brotliCompressSync(body));
                    case '/corrupt':
                        return send('gzip', Buffer.from('this is not gzip at all'));
                    case '/bomb':
                        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' });
                        return void res.end(compressedBomb);
                    default:
                        res.writeHead(404);
                        res.end();
                }
            });
            upstream.listen(0, '127.0.0.1');
            await once(upstream, 'listening');
            const { port } = upstream.address() as AddressInfo;
            const storage = await storageEnv(backend);
            drop = storage.drop;
            server = await startServer({
                ...storage.env,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `zipped:\n  display_name: Zipped\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:${port}\n`
                )
            });
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: 'z', provider: 'zipped' })).status, 200);
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: 'z',
                connection_id: 'c1',
                credentials: { type: 'API_KEY', apiKey: 'k' }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
        });

        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            upstream?.close();
            await drop?.();
        });

        const proxy = (path: string, extra: Record<string, string> = {}) =>
            fetch(`${server.url}/proxy${path}`, {
                headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'z', 'connection-id': 'c1', ...extra }
            });

        it('decodes gzip, deflate and br on both doors (Retries sends a request through the Fastify route)', async () => {
            for (const door of [{}, { retries: '0' }] as Array<Record<string, string>>) {
                for (const coding of ['gzip', 'deflate', 'br']) {
                    const res = await proxy(`/${coding}`, { decompress: 'true', 'accept-encoding': 'identity', ...door });
                    assert.equal(res.status, 200, coding);
                    assert.equal(res.headers.get('content-encoding'), null, coding);
                    assert.equal(await res.text(), TEXT, `${coding} ${JSON.stringify(door)}`);
                }
            }
        });

        it('without Decompress the encoded body passes through as the provider sent it', async () => {
            const res = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
                const req = request(
                    `${server.url}/proxy/gzip`,
                    { headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'z', 'connection-id': 'c1' } },
                    (r) => {
                        const parts: Buffer[] = [];
                        r.on('data', (c: Buffer) => parts.push(c));
                        r.on('end', () => resolve({ encoding: r.headers['content-encoding'], body: Buffer.concat(parts) }));
                    }
                );
                req.on('error', reject);
                req.end();
            });
            assert.equal(res.encoding, 'gzip');
            assert.deepEqual(res.body, gzipSync(Buffer.from(TEXT)));
        });

        it('a body that does not decode is a 502', async () => {
            const res = await proxy('/corrupt', { decompress: 'true' });
            assert.equal(res.status, 502);
            assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'upstream_unreachable');
        });

        it('an app that does not read holds the decoder back: a 1 GiB gzip bomb does not grow the server by what it inflates to', async () => {
            const peakBefore = peakRss(server.pid);
            const { hostname, port } = new URL(server.url);
            let received = 0;
            const req = request({
                host: hostname,
                port,
                path: '/proxy/bomb',
                headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'z', 'connection-id': 'c1', decompress: 'true' }
            });
            const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
                req.on('response', resolve);
                req.on('error', reject);
                req.end();
            });
            assert.equal(response.statusCode, 200);
            // Read a little, then stop reading while the provider keeps sending.
            response.on('data', (c: Buffer) => {
                received += c.length;
                if (received > 4 * 1024 * 1024) response.pause();
            });
            await new Promise((r) => setTimeout(r, 5000));
            const growth = peakRss(server.pid) - peakBefore;
            req.destroy();
            console.log(`bomb: app read ${received} bytes, server peak RSS +${Math.round(growth / 1048576)} MB`);
            assert.ok(received < 64 * 1024 * 1024, `the app read ${received} bytes`);
            // Without backpressure the decoder inflates the whole gigabyte into the response's buffer.
            assert.ok(growth < 96 * 1024 * 1024, `peak RSS grew by ${Math.round(growth / 1048576)} MB while the app was not reading`);
        });
    });
}
