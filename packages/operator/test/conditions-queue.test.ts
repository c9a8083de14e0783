import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameStatus, statusAfter } from '../src/conditions.ts';
import { WorkQueue } from '../src/queue.ts';
import { eventually } from './support/operator.ts';

test('backoff doubles from the base after each consecutive failure and stops at the cap', () => {
    const q = new WorkQueue(async () => 'done', { baseMs: 1000, maxMs: 300_000, resyncMs: 0 });
    assert.deepEqual(
        [1, 2, 3, 4, 5, 9, 10, 20].map((n) => q.backoff(n)),
        [1000, 2000, 4000, 8000, 16000, 256000, 300000, 300000]
    );
    q.stop();
});

test('a failing key is retried, a success resets its failures, and one key never runs twice at once', async () => {
    let running = 0;
    let overlap = false;
    const results: Array<'retry' | 'done'> = ['retry', 'retry', 'done'];
    const runs: string[] = [];
    const q = new WorkQueue(
        async (key) => {
            running++;
            if (running > 1) overlap = true;
            runs.push(key);
            await new Promise((r) => setTimeout(r, 20));
            running--;
            return results.shift() ?? 'done';
        },
        { baseMs: 10, maxMs: 40, resyncMs: 0 }
    );
    q.add('a');
    q.add('a'); // already due: not a second run
    await eventually('three runs', async () => (runs.length >= 3 ? true : undefined));
    q.add('a');
    q.add('a'); // while running: one more run after it, not two at once
    await eventually('the fourth run', async () => (runs.length >= 4 ? true : undefined));
    q.stop();
    assert.equal(overlap, false);
    assert.deepEqual(runs.slice(0, 3), ['a', 'a', 'a']);
});

test('conditions: lastTransitionTime only moves when a status flips; observedGeneration follows the spec', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const t2 = new Date('2026-01-01T00:01:00Z');
    const ok = statusAfter(undefined, { ok: true, reason: 'IntegrationCreated', message: 'created' }, 1, t1);
    assert.equal(ok.status, 'Created');
    assert.deepEqual(
        ok.conditions!.map((c) => [c.type, c.status, c.observedGeneration]),
        [
            ['Ready', 'True', 1],
            ['IntegrationCreated', 'True', 1],
            ['IntegrationCreationFailed', 'False', 1]
        ]
    );
    const again = statusAfter(ok, { ok: true, reason: 'IntegrationUpToDate', message: 'up to date' }, 2, t2);
    assert.equal(again.conditions![0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(again.conditions![0]!.observedGeneration, 2);
    const failed = statusAfter(again, { ok: false, reason: 'BrokerUnavailable', message: 'down' }, 2, t2);
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.error_message, 'down');
    assert.equal(failed.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, '2026-01-01T00:01:00Z');
    assert.equal(failed.conditions!.find((c) => c.type === 'IntegrationCreated')!.status, 'True');
    assert.equal(sameStatus(failed, statusAfter(failed, { ok: false, reason: 'BrokerUnavailable', message: 'down' }, 2, new Date())), true);
    assert.equal(sameStatus(failed, again), false);
});
