/**
 * Sync frequencies in Nango's grammar (docs: `runs` / `frequency`): `every 5 minutes`, `every hour`, `1h`,
 * `every 2 weeks`, `every 1.5 hours`, `every half day`, … Minimum 30 seconds, maximum 31 days.
 *
 * Durations are read by `ms`, the parser Nango's own server uses, so every spelling a Nango script carries
 * (decimals, weeks, `1w`) means here what it means there; this module only maps the named forms and enforces
 * the bounds.
 */
import ms from 'ms';

/** Named forms Nango maps before handing the rest to `ms`. */
const NAMED: Record<string, string> = {
    'half day': '12h',
    'half hour': '30m',
    'quarter hour': '15m',
    month: '30d'
};
export const MIN_FREQUENCY_SECONDS = 30;
export const MAX_FREQUENCY_SECONDS = 31 * 86_400;

export type FrequencyResult = { ok: true; seconds: number } | { ok: false; reason: string };

export function parseFrequency(input: string): FrequencyResult {
    const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
    let body = text.startsWith('every ') ? text.slice(6) : text;
    body = NAMED[body] ?? body;
    // `every hour`, `every week`: a unit alone means one of it.
    if (/^[a-z]+$/.test(body)) body = `1 ${body}`;
    // A bare number would be milliseconds to `ms`; a frequency always names its unit.
    const millis = /[a-z]$/.test(body) ? ms(body as ms.StringValue) : undefined;
    if (millis === undefined || !Number.isFinite(millis))
        return { ok: false, reason: `"${input}" is not a frequency (examples: "every 5 minutes", "every hour", "every day")` };
    const seconds = millis / 1000;
    if (seconds < MIN_FREQUENCY_SECONDS) return { ok: false, reason: `"${input}" is shorter than the 30 second minimum` };
    if (seconds > MAX_FREQUENCY_SECONDS) return { ok: false, reason: `"${input}" is longer than the 31 day maximum` };
    return { ok: true, seconds };
}

/** The next slot on the grid that starts at `startsAt`, strictly after `now`: missed slots are skipped, never replayed. */
export function nextSlot(startsAt: Date, seconds: number, now: Date): Date {
    const period = seconds * 1000;
    const elapsed = now.getTime() - startsAt.getTime();
    const slots = elapsed < 0 ? 0 : Math.floor(elapsed / period) + 1;
    return new Date(startsAt.getTime() + slots * period);
}
