import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Egress } from '../src/egress/egress.ts';
import { guardedLookup, isPublicAddress } from '../src/egress/address-policy.ts';
import { ApiError } from '../src/errors.ts';
import { startUpstream, json } from './support/upstream.ts';

describe('egress SSRF policy', () => {
    it('classifies addresses', () => {
        for (const a of [
            '127.0.0.1',
            '10.1.2.3',
            '172.16.0.1',
            '192.168.1.1',
            '169.254.169.254',
            '100.64.0.1',
            '0.0.0.0',
            '::1',
            'fc00::1',
            'fe80::1',
            '::ffff:127.0.0.1'
        ]) {
            assert.equal(isPublicAddress(a), false, a);
        }
        for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(isPublicAddress(a), true, a);
    });

    it('refuses loopback and private targets unless allowed, before any byte is sent', async () => {
        const upstream = await startUpstream((_req, res) => json(res, 200, { ok: true }));
        const strict = new Egress({ allowPrivate: false });
        const open = new Egress({ allowPrivate: true });
        try {
            for (const url of [upstream.url, upstream.url.replace('127.0.0.1', 'localhost'), 'http://[::1]:1/', 'http://169.254.169.254/latest/meta-data']) {
                await assert.rejects(
                    strict.fetch({ method: 'GET', url: new URL(url), headers: {} }),
                    (err: unknown) => err instanceof ApiError && err.code === 'egress_forbidden',
                    url
                );
            }
            await assert.rejects(
                strict.fetch({ method: 'GET', url: new URL('file:///etc/passwd'), headers: {} }),
                (err: unknown) => err instanceof ApiError && err.code === 'egress_forbidden'
            );
            assert.equal(upstream.requests.length, 0);
            const res = await open.fetch({ method: 'GET', url: new URL(upstream.url), headers: {} });
            assert.equal(res.status, 200);
        } finally {
            await strict.close();
            await open.close();
            await upstream.close();
        }
    });

    it('checks the address a name resolves to (DNS rebinding)', async () => {
        const lookup = guardedLookup(false);
        const err = await new Promise<Error | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
        assert.match(String(err?.message), /private address/);
    });

    it('maps unreachable upstreams to upstream_unreachable', async () => {
        const open = new Egress({ allowPrivate: true });
        try {
            await assert.rejects(
                open.fetch({ method: 'GET', url: new URL('http://127.0.0.1:1/'), headers: {} }),
                (err: unknown) => err instanceof ApiError && err.code === 'upstream_unreachable'
            );
        } finally {
            await open.close();
        }
    });
});

describe('egress timeouts', () => {
    it('ends a call whose body stalls longer than the timeout, and never cuts a slow body that keeps coming', async () => {
        const timers: NodeJS.Timeout[] = [];
        const upstream = await startUpstream((req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write('first;');
            if (req.url === '/stall') return; // nothing more, ever (closed with the server)
            // 8 chunks 150 ms apart: 1.2 s in all, each wait well under the 600 ms timeout.
            let n = 0;
            const next = () => {
                if (++n > 8) {
                    res.end('end');
                    return;
                }
                res.write(`${n};`);
                timers.push(setTimeout(next, 150));
            };
            timers.push(setTimeout(next, 150));
        });
        const egress = new Egress({ allowPrivate: true });
        try {
            const slow = await egress.fetch({ method: 'GET', url: new URL(`${upstream.url}/slow`), headers: {}, timeoutMs: 600 });
            assert.equal(slow.text, 'first;1;2;3;4;5;6;7;8;end');
            await assert.rejects(
                egress.fetch({ method: 'GET', url: new URL(`${upstream.url}/stall`), headers: {}, timeoutMs: 600 }),
                (err: unknown) => err instanceof ApiError && err.code === 'upstream_timeout'
            );
        } finally {
            for (const t of timers) clearTimeout(t);
            await egress.close();
            await upstream.close();
        }
    });
});
