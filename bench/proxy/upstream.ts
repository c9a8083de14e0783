// The loopback upstream of the proxy benchmark, run as its own process so it never shares an event loop with
// the load generator. It answers every path with the same small JSON body (keep-alive on), and answers 401
// unless the request carries `Authorization: Bearer <BENCH_UPSTREAM_TOKEN>`, so a proxy that fails to inject
// the provider credential shows up as non-2xx instead of as a fast benchmark.
//
// Protocol with the parent: prints one line `{"port":N}` on stdout once listening; exits when stdin closes
// (the parent died or is done), on SIGTERM, or on SIGINT.
import { createServer } from 'node:http';

const token = process.env['BENCH_UPSTREAM_TOKEN'] ?? 'k';
const expected = `Bearer ${token}`;

// ~200 bytes, like a small list endpoint of a provider API.
const payload = {
    items: [
        { id: 'itm_0001', name: 'First item', status: 'active', updated_at: '2024-01-01T00:00:00Z' },
        { id: 'itm_0002', name: 'Second item', status: 'archived', updated_at: '2024-01-02T00:00:00Z' }
    ],
    next_cursor: null
};
const body = Buffer.from(JSON.stringify(payload));
const denied = Buffer.from('{"error":"unauthorized"}');

const server = createServer((req, res) => {
    // Drain any request body before answering, so keep-alive is never broken by unread bytes.
    req.resume();
    req.on('end', () => {
        if (req.headers['authorization'] !== expected) {
            res.writeHead(401, { 'content-type': 'application/json', 'content-length': denied.length });
            res.end(denied);
            return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
    });
});
// Long keep-alive so neither nginx's nor Switchboard's pooled upstream connections are closed mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;

server.listen(Number(process.env['BENCH_UPSTREAM_PORT'] ?? 0), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ port, bodyBytes: body.length })}\n`);
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
