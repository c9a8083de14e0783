// The per-request child logger is created on first use only; Fastify's logger validation must not create it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, lazyChild } from '../src/log/logger.ts';

function capture() {
    const lines: string[] = [];
    const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
            lines.push(chunk.toString('utf8'));
            cb();
        }
    });
    return { lines, stream };
}

describe('lazyChild', () => {
    it('reading the log methods (as Fastify validates them) does not create the child', () => {
        const { stream } = capture();
        const parent = createLogger('info', stream);
        let created = 0;
        const child = parent.child.bind(parent);
        parent.child = ((...args: Parameters<typeof child>) => {
            created++;
            return child(...args);
        }) as typeof parent.child;
        const log = lazyChild(parent, { reqId: 'r1' }, {});
        for (const m of ['info', 'error', 'debug', 'fatal', 'warn', 'trace', 'child'] as const) assert.equal(typeof log[m], 'function');
        assert.equal(created, 0);
        log.info('one');
        log.warn('two');
        assert.equal(created, 1);
    });

    it('logs through the child with its bindings, and redacts secrets', () => {
        const { lines, stream } = capture();
        const log = lazyChild(createLogger('info', stream), { reqId: 'r2' }, {});
        log.info({ authorization: 'Bearer s3cret' }, 'hello');
        log.debug('below the level');
        assert.equal(lines.length, 1);
        const line = JSON.parse(lines[0]!);
        assert.equal(line.reqId, 'r2');
        assert.equal(line.msg, 'hello');
        assert.equal(line.authorization, '[redacted]');
        assert.equal(log.level, 'info');
        assert.equal(log.isLevelEnabled('debug'), false);
    });

    it('a grandchild carries both bindings', () => {
        const { lines, stream } = capture();
        const log = lazyChild(createLogger('info', stream), { reqId: 'r3' }, {});
        log.child({ flow: 'x' }).info('nested');
        const line = JSON.parse(lines[0]!);
        assert.equal(line.reqId, 'r3');
        assert.equal(line.flow, 'x');
    });
});
