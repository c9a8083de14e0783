/**
 * Sync frequencies in Nango's grammar (docs/scripts-compatibility.md, "Frequencies and scheduling"): `every 5 minutes`, `every hour`, `1h`,
 * `every half day`, … Minimum 30 seconds, maximum 31 days.
 */
const UNIT_SECONDS: Record<string, number> = {
    s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
    m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
    h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
    d: 86_400, day: 86_400, days: 86_400
};
const NAMED_SECONDS: Record<string, number> = {
    'half day': 43_200,
    'half hour': 1800,
    'quarter hour': 900,
    week: 604_800,
    month: 2_592_000
};
export const MIN_FREQUENCY_SECONDS = 30;
export const MAX_FREQUENCY_SECONDS = 31 * 86_400;

export type FrequencyResult = { ok: true; seconds: number } | { ok: false; reason: string };

export function parseFrequency(input: string): FrequencyResult {
    const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
    const body = text.startsWith('every ') ? text.slice(6) : text;
    let seconds: number | undefined = NAMED_SECONDS[body];
    if (seconds === undefined) {
        const m = /^(\d+)? ?([a-z]+)$/.exec(body);
        const unit = m ? UNIT_SECONDS[m[2]!] : undefined;
        if (m && unit !== undefined) seconds = (m[1] ? Number(m[1]) : 1) * unit;
    }
    if (seconds === undefined) return { ok: false, reason: `"${input}" is not a frequency (examples: "every 5 minutes", "every hour", "every day")` };
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
