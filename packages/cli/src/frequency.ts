import { CliError } from './errors.ts';

/**
 * Sync frequency grammar (nango-functions.md §6.1): optional `every `, optional integer, optional space, a unit,
 * or one of the named periods. Minimum 30 s, documented maximum 31 days.
 */
const UNIT_MS: Record<string, number> = {
    s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
    m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
    h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
    d: 86_400_000, day: 86_400_000, days: 86_400_000
};
const NAMED_MS: Record<string, number> = {
    month: 30 * 86_400_000,
    week: 7 * 86_400_000,
    'half day': 12 * 3_600_000,
    'half hour': 30 * 60_000,
    'quarter hour': 15 * 60_000
};
const GRAMMAR = /^(?:every )?(?:(\d+) ?)?(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/;
const MIN_MS = 30_000;
const MAX_MS = 31 * 86_400_000;

/** Milliseconds for a frequency string, or a CliError naming `where` when the grammar or bounds are violated. */
export function parseFrequency(value: string, where: string): number {
    const text = value.trim().toLowerCase();
    const named = NAMED_MS[text.replace(/^every /, '')];
    let ms: number;
    if (named !== undefined) {
        ms = named;
    } else {
        const m = GRAMMAR.exec(text);
        if (!m) throw new CliError('INVALID_FREQUENCY', `${where}: frequency "${value}" is not valid (expected e.g. "every hour", "every 5 minutes", "1d")`);
        ms = Number(m[1] ?? '1') * UNIT_MS[m[2]!]!;
    }
    if (ms < MIN_MS) throw new CliError('INVALID_FREQUENCY', `${where}: frequency "${value}" is below the 30 seconds minimum`);
    if (ms > MAX_MS) throw new CliError('INVALID_FREQUENCY', `${where}: frequency "${value}" is above the 31 days maximum`);
    return ms;
}
