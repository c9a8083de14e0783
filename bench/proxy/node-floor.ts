// Optional reference target (BENCH_TARGETS=...,node-floor): the least a Node proxy built like Switchboard can
// cost on this machine. Same stack as Switchboard's hot path (Fastify in, one undici Agent out, body streamed
// back, the provider credential injected) but no database, no vault, no request validation, no logging. The gap
// between this and nginx is the price of Node + Fastify + undici; the gap between Switchboard and this is
// Switchboard's own per-request work.
//
// Protocol with the parent: prints one line `{"port":N}` on stdout once listening; exits when stdin closes,
// on SIGTERM, or on SIGINT.
import Fastify from 'fastify';
import { Agent } from 'undici';

const upstream = process.env['BENCH_UPSTREAM_ORIGIN'];
const token = process.env['BENCH_UPSTREAM_TOKEN'] ?? 'k';
if (!upstream) throw new Error('BENCH_UPSTREAM_ORIGIN is required');

const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false });
const copied = ['content-type', 'content-length', 'content-encoding'];

app.get('/proxy/*', async (req, reply) => {
    const res = await agent.request({
        origin: upstream,
        path: req.url.slice('/proxy'.length),
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: req.headers['accept'] ?? '*/*' }
    });
    reply.code(res.statusCode);
    for (const name of copied) {
        const v = res.headers[name];
        if (v !== undefined) reply.header(name, v);
    }
    return reply.send(res.body);
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);

const stop = () => {
    void app.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
