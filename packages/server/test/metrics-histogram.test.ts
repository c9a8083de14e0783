import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../src/metrics/histogram.ts';

// FastHistogram replaces prom-client's Histogram on the per-request paths: Prometheus must see the same text.
test('FastHistogram exposes what prom-client Histogram exposes for the same observations', async () => {
    const buckets = [0.005, 0.01, 0.025, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const opts = { name: 'x_duration_seconds', help: 'help text', labelNames: ['method', 'status'] as const, buckets };
    const fast = new FastHistogram({ ...opts, registers: [ours] });
    const reference = new Histogram({ ...opts, labelNames: [...opts.labelNames], registers: [theirs] });
    const observations: Array<[{ method: string; status: string }, number]> = [
        [{ method: 'GET', status: '200' }, 0.001],
        [{ method: 'GET', status: '200' }, 0.005],
        [{ method: 'GET', status: '200' }, 0.0051],
        [{ method: 'POST', status: '502' }, 3],
        [{ method: 'GET', status: '404' }, 0.1],
        [{ method: 'GET', status: '200' }, 0.02]
    ];
    for (const [labels, value] of observations) {
        fast.observe(labels, value);
        reference.observe(labels, value);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.match(await ours.metrics(), /x_duration_seconds_bucket\{le="0.005",method="GET",status="200"\} 2/);
    assert.match(await ours.metrics(), /x_duration_seconds_count\{method="POST",status="502"\} 1/);

    fast.reset();
    reference.reset();
    assert.equal(await ours.metrics(), await theirs.metrics());
});

test('label values that would collide if joined naively stay separate series', async () => {
    const registry = new Registry();
    const h = new FastHistogram({ name: 'y_seconds', help: 'h', labelNames: ['a', 'b'] as const, buckets: [1], registers: [registry] });
    h.observe({ a: 'x', b: 'yz' }, 0.5);
    h.observe({ a: 'xy', b: 'z' }, 0.5);
    const text = await registry.metrics();
    assert.match(text, /y_seconds_count\{a="x",b="yz"\} 1/);
    assert.match(text, /y_seconds_count\{a="xy",b="z"\} 1/);
});
