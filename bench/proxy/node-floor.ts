// Optional reference target (BENCH_TARGETS=...,node-floor): the least a Node proxy built like Switchboard's hot
// path can cost on this machine. Same stack as packages/server/src/proxy/fast-path.ts (node:http in, one undici
// Agent out through its handler API, small bodies in one write) but no database, no vault, no request validation
// and no logging. The gap between this and nginx is the price of Node + undici; the gap between Switchboard and
// this is Switchboard's own per-request work.
//
// Protocol with the parent: prints one line `{"port":N}` on stdout once listening; exits when stdin closes,
// on SIGTERM, or on SIGINT.
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import { tuneHeapForBodies } from '../../packages/server/src/runtime/heap.ts';

// V8 counts the body buffers as the server's main.ts makes it count them (run with SERVER_NODE_FLAGS as well).
tuneHeapForBodies();

const upstream = process.env['BENCH_UPSTREAM_ORIGIN'];
const token = process.env['BENCH_UPSTREAM_TOKEN'] ?? 'k';
if (!upstream) throw new Error('BENCH_UPSTREAM_ORIGIN is required');

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
const copied = ['content-type', 'content-encoding'];

const server = createServer((req, res) => {
    let status = 502;
    const out: OutgoingHttpHeaders = {};
    const chunks: Buffer[] = [];
    // undici takes a handler for its controller API only when it has onRequestStart.
    const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart(_c, statusCode: number, headers: IncomingHttpHeaders) {
            status = statusCode;
            for (const name of copied) if (headers[name] !== undefined) out[name] = headers[name];
        },
        onResponseData(_c, chunk: Buffer) {
            chunks.push(chunk);
        },
        onResponseEnd() {
            const body = Buffer.concat(chunks);
            out['content-length'] = body.length;
            res.writeHead(status, out);
            res.end(body);
        },
        onResponseError() {
            res.writeHead(502);
            res.end();
        }
    };
    // A body (the POST scenarios) streams through as it arrives, with its declared length.
    const length = req.headers['content-length'];
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: req.headers['accept'] ?? '*/*' };
    if (length !== undefined) headers['content-length'] = length;
    const method = req.method === 'POST' ? 'POST' : 'GET';
    agent.dispatch({ origin: upstream, path: (req.url ?? '/').slice('/proxy'.length), method, headers, body: method === 'POST' ? req : null }, handler);
});

server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
