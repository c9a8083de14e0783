import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextSlot, parseFrequency } from '../src/functions/frequency.ts';

describe('sync frequency grammar', () => {
    // issue #10 item 11: Nango's scripts use these spellings, which the hand-written parser refused.
    it('accepts the spellings Nango parses: weeks, decimals, 1w', () => {
        assert.deepEqual(parseFrequency('every 2 weeks'), { ok: true, seconds: 1_209_600 });
        assert.deepEqual(parseFrequency('every 1.5 hours'), { ok: true, seconds: 5_400 });
        assert.deepEqual(parseFrequency('every 2.5h'), { ok: true, seconds: 9_000 });
        assert.deepEqual(parseFrequency('every 1w'), { ok: true, seconds: 604_800 });
    });

    it('keeps the named forms and the common spellings', () => {
        const cases: Array<[string, number]> = [
            ['every hour', 3_600],
            ['every 5 minutes', 300],
            ['every day', 86_400],
            ['every 6 hours', 21_600],
            ['every 1h', 3_600],
            ['1h', 3_600],
            ['every half day', 43_200],
            ['every half hour', 1_800],
            ['every quarter hour', 900],
            ['every week', 604_800],
            ['every month', 2_592_000],
            ['Every  30 Secs', 30],
            ['every minute', 60],
            ['every 2 hrs', 7_200]
        ];
        for (const [text, seconds] of cases) assert.deepEqual(parseFrequency(text), { ok: true, seconds }, text);
    });

    it('refuses what is not a frequency or is out of bounds, naming why', () => {
        for (const text of ['every banana', '', 'every', 'every 100000', 'every 5 parsecs']) {
            const r = parseFrequency(text);
            assert.equal(r.ok, false, text);
            assert.match((r as { reason: string }).reason, /is not a frequency/, text);
        }
        for (const text of ['every 29 seconds', 'every 10s', 'every -5m', 'every 0.4 minutes']) {
            assert.match((parseFrequency(text) as { reason: string }).reason, /30 second minimum/, text);
        }
        for (const text of ['every 32 days', 'every 5 weeks', 'every 1y']) {
            assert.match((parseFrequency(text) as { reason: string }).reason, /31 day maximum/, text);
        }
    });

    it('places the next slot on the grid after now', () => {
        const start = new Date('2026-01-01T00:00:00Z');
        assert.equal(nextSlot(start, 5_400, new Date('2026-01-01T02:00:00Z')).toISOString(), '2026-01-01T03:00:00.000Z');
    });
});
