// Preloaded (`node --import`) into a process a test does not control, such as the official nango CLI: every TCP
// connection to a host other than loopback fails at once and is reported on stderr with LOOPBACK_ONLY_MARK, so a
// test can assert the process needed no network besides the server under test. Every client in Node (http, https,
// tls, fetch/undici) ends in net.Socket.prototype.connect, before any DNS lookup.
import net from 'node:net';

export const LOOPBACK_ONLY_MARK = 'loopback-only: refused';

function isLoopback(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
    // Called as connect(options[, cb]), connect(port[, host][, cb]), connect(path[, cb]), or by net.connect with
    // its normalised [options, cb] array.
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const opts = (typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }) as {
        host?: string;
        port?: unknown;
        path?: string;
    };
    const host = opts.host ?? 'localhost';
    if (!opts.path && typeof first !== 'string' && !isLoopback(host)) {
        process.stderr.write(`${LOOPBACK_ONLY_MARK} ${host}:${String(opts.port)}\n`);
        const err = Object.assign(new Error(`${LOOPBACK_ONLY_MARK} ${host}`), { code: 'ECONNREFUSED' });
        process.nextTick(() => this.destroy(err));
        return this;
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
