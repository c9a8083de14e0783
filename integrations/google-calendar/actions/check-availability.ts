/**
 * Busy intervals of one or more calendars in a time window (freeBusy.query,
 * https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query).
 */
import { createAction } from 'nango';
import { z } from 'zod';
import { parseInput, providerError } from '../../shared/action-errors.js';

const CheckAvailabilityInput = z
    .object({
        timeMin: z.iso.datetime({ offset: true }),
        timeMax: z.iso.datetime({ offset: true }),
        calendarIds: z.array(z.string().min(1)).min(1).max(50).default(['primary']),
        timeZone: z.string().optional()
    })
    .refine((i) => Date.parse(i.timeMin) < Date.parse(i.timeMax), { message: 'timeMin must be before timeMax', path: ['timeMax'] });

const Interval = z.object({ start: z.string(), end: z.string() });
const CalendarAvailability = z.object({
    calendarId: z.string(),
    busy: z.array(Interval),
    /** Google's per-calendar errors, e.g. reason notFound for an unknown or unshared calendar. */
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string() })).optional()
});
const CheckAvailabilityOutput = z.object({
    timeMin: z.string(),
    timeMax: z.string(),
    /** True when every calendar answered and none is busy in the window. */
    available: z.boolean(),
    calendars: z.array(CalendarAvailability)
});
type CalendarAvailability = z.infer<typeof CalendarAvailability>;

interface FreeBusyResponse {
    timeMin: string;
    timeMax: string;
    calendars?: Record<string, { busy?: Array<{ start: string; end: string }>; errors?: Array<{ domain?: string; reason: string }> }>;
}

export default createAction({
    description: 'Checks free/busy availability of Google calendars in a time window',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.freebusy'],
    input: CheckAvailabilityInput,
    output: CheckAvailabilityOutput,
    annotations: { title: 'Check calendar availability', readOnlyHint: true, idempotentHint: true, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, CheckAvailabilityInput, rawInput);
        let data: FreeBusyResponse;
        try {
            const res = await nango.post<FreeBusyResponse>({
                endpoint: '/calendar/v3/freeBusy',
                data: {
                    timeMin: input.timeMin,
                    timeMax: input.timeMax,
                    items: input.calendarIds.map((id) => ({ id })),
                    ...(input.timeZone ? { timeZone: input.timeZone } : {})
                },
                // A query: safe to retry.
                retries: 3
            });
            data = res.data;
        } catch (err) {
            throw providerError(nango, err, 'freeBusy.query');
        }
        const calendars: CalendarAvailability[] = input.calendarIds.map((calendarId) => {
            const c = data.calendars?.[calendarId];
            return { calendarId, busy: c?.busy ?? [], ...(c?.errors?.length ? { errors: c.errors } : {}) };
        });
        return {
            timeMin: data.timeMin,
            timeMax: data.timeMax,
            available: calendars.every((c) => c.busy.length === 0 && !c.errors),
            calendars
        };
    }
});
