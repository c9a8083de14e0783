// The one backoff and Retry-After parser (issue #10 item 10: proxy/retry.ts and webhooks/retry-policy.ts parsed
// Retry-After two ways, with different caps, and only one read a provider's reset header). Pure functions: no timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, retry, retryAfterMs } from '../src/egress/retry.ts';
import { proxyRetryDelayMs } from '../src/proxy/retry.ts';
import { decide } from '../src/webhooks/retry-policy.ts';
import type { ProviderDefinition } from '../src/providers/schema.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('retryAfterMs', () => {
    it('reads delay-seconds and HTTP dates (RFC 9110 §10.2.3), a past date as 0', () => {
        assert.equal(retryAfterMs({ 'retry-after': '120' }, { now }), 120_000);
        assert.equal(retryAfterMs({ 'retry-after': ' 0 ' }, { now }), 0);
        assert.equal(retryAfterMs({ 'retry-after': ['3', '9'] }, { now }), 3000);
        assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, { now }), 30_000);
        assert.equal(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }, { now }), 0);
    });

    it('is undefined when absent or unreadable (negative, fractional, empty, junk), so the caller backs off', () => {
        for (const v of [undefined, '', '-5', '1.5', 'soon', '0x10', '1e3']) assert.equal(retryAfterMs({ 'retry-after': v }, { now }), undefined, String(v));
        assert.equal(retryAfterMs(undefined, { now }), undefined);
    });

    it("prefers a provider's after-header, then Retry-After, then its reset time (epoch seconds)", () => {
        const headers = { 'x-wait': '2.5', 'retry-after': '10', 'x-ratelimit-reset': String(now / 1000 + 60) };
        assert.equal(retryAfterMs(headers, { now, afterHeader: 'X-Wait', resetHeader: 'X-RateLimit-Reset' }), 2500);
        assert.equal(retryAfterMs({ ...headers, 'x-wait': 'junk' }, { now, afterHeader: 'x-wait', resetHeader: 'x-ratelimit-reset' }), 10_000);
        assert.equal(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 60) }, { now, resetHeader: 'x-ratelimit-reset' }), 60_000);
        assert.equal(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 - 60) }, { now, resetHeader: 'x-ratelimit-reset' }), 0);
        // Without the catalogue naming it, a reset header means nothing.
        assert.equal(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 60) }, { now }), undefined);
    });
});

describe('backoffMs', () => {
    it('doubles from the base and stops at the cap', () => {
        assert.deepEqual(
            [0, 1, 2, 3].map((a) => backoffMs(a, { baseMs: 500 })),
            [500, 1000, 2000, 4000]
        );
        assert.equal(backoffMs(10, { baseMs: 1000, maxMs: 30_000 }), 30_000);
    });

    it('spreads each wait over ±jitter', () => {
        assert.equal(backoffMs(2, { baseMs: 1000, jitter: 0.25, random: () => 0 }), 3000);
        assert.equal(backoffMs(2, { baseMs: 1000, jitter: 0.25, random: () => 1 }), 5000);
        assert.equal(backoffMs(2, { baseMs: 1000, jitter: 0.25, random: () => 0.5 }), 4000);
    });
});

describe('the callers use the one parser with their own caps', () => {
    const def = { proxy: { retry: { at: 'x-ratelimit-reset' } } } as unknown as ProviderDefinition;

    it('proxy: the upstream asks for at most 5 minutes, else its answer goes back to the app', () => {
        assert.equal(proxyRetryDelayMs(0, { 'retry-after': '300' }, def, now), 300_000);
        assert.equal(proxyRetryDelayMs(0, { 'retry-after': '301' }, def, now), undefined);
        assert.equal(proxyRetryDelayMs(0, { 'x-ratelimit-reset': String(now / 1000 + 7) }, def, now), 7000);
        assert.equal(proxyRetryDelayMs(2, {}, def, now), 4000);
    });

    it('webhooks: a receiver asking for more than a day is retried in a day; the reset header of a provider is not read', () => {
        const policy = { maxAttempts: 5, baseMs: 1000, now: () => now, random: () => 0.5 };
        const at = (r: ReturnType<typeof decide>) => (r.status === 'pending' ? r.nextAttemptAt!.getTime() - now : undefined);
        assert.equal(at(decide({ kind: 'response', status: 429, retryAfter: '172800', detail: '' }, 1, policy)), 24 * 60 * 60 * 1000);
        assert.equal(at(decide({ kind: 'response', status: 503, retryAfter: '7', detail: '' }, 1, policy)), 7000);
        assert.equal(at(decide({ kind: 'response', status: 503, detail: '' }, 3, policy)), 4000);
    });
});

describe('retry', () => {
    it('retries what delayMs asks for, returns the last value when the retries run out', async () => {
        const seen: number[] = [];
        const out = await retry(
            async (attempt) => {
                seen.push(attempt);
                return 503;
            },
            { retries: 2, delayMs: () => 0 }
        );
        assert.equal(out, 503);
        assert.deepEqual(seen, [0, 1, 2]);
    });

    it('stops at the first outcome delayMs does not want retried, and rethrows errors it does not retry', async () => {
        let n = 0;
        assert.equal(await retry(async () => ++n, { retries: 5, delayMs: (o) => (o.ok && o.value < 3 ? 0 : undefined) }), 3);
        await assert.rejects(
            retry(
                async () => {
                    throw new Error('boom');
                },
                { retries: 5, delayMs: () => undefined }
            ),
            /boom/
        );
        let m = 0;
        assert.equal(
            await retry(
                async () => {
                    if (++m < 3) throw new Error('flaky');
                    return 'ok';
                },
                { retries: 5, delayMs: (o) => (o.ok ? undefined : 0) }
            ),
            'ok'
        );
    });

    it('runs beforeRetry between attempts, and an abort while waiting throws the reason', async () => {
        const calls: string[] = [];
        await retry(
            async (a) => {
                calls.push(`try ${a}`);
                return a;
            },
            { retries: 1, delayMs: () => 0, beforeRetry: () => void calls.push('renew') }
        );
        assert.deepEqual(calls, ['try 0', 'renew', 'try 1']);
        const stop = new AbortController();
        const waiting = retry(async () => 1, {
            retries: 3,
            delayMs: () => {
                setImmediate(() => stop.abort(new Error('client gone')));
                return 600_000;
            },
            signal: stop.signal
        });
        await assert.rejects(waiting, /client gone/);
        // Aborted before a retry is due: no further attempt, the last value as it is.
        assert.equal(
            await retry(
                async () => {
                    stop.abort();
                    return 7;
                },
                { retries: 3, delayMs: () => 0, signal: stop.signal }
            ),
            7
        );
    });
});
