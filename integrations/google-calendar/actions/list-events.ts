/**
 * Events of a calendar in a time window, optionally matching a free-text query, read live from Google
 * (events.list with timeMin/timeMax/q, https://developers.google.com/workspace/calendar/api/v3/reference/events/list).
 * Recurring series are expanded into instances and ordered by start, which is what "what is on my calendar" wants.
 */
import { createAction } from 'nango';
import { z } from 'zod';
import { CalendarEvent } from '../models.js';
import { eventsEndpoint, toCalendarEvent, type EventsPage } from '../helpers/events-api.js';
import { httpStatus } from '../../shared/google-error.js';
import { parseInput, providerError } from '../../shared/action-errors.js';

const ListEventsInput = z
    .object({
        calendarId: z.string().min(1).default('primary'),
        /** Lower bound (exclusive) on an event's end, RFC 3339. */
        timeMin: z.iso.datetime({ offset: true }),
        /** Upper bound (exclusive) on an event's start, RFC 3339. */
        timeMax: z.iso.datetime({ offset: true }),
        /** Free text matched by Google against summary, description, location, attendees and organizer. */
        query: z.string().min(1).max(500).optional(),
        maxResults: z.number().int().min(1).max(250).default(50),
        pageToken: z.string().min(1).optional()
    })
    .refine((i) => Date.parse(i.timeMin) < Date.parse(i.timeMax), { message: 'timeMin must be before timeMax', path: ['timeMax'] });

const ListEventsOutput = z.object({
    events: z.array(CalendarEvent),
    /** Give it back as pageToken for the next events; absent on the last page. */
    nextPageToken: z.string().optional()
});

export default createAction({
    description: 'Lists Google Calendar events between two times, optionally matching a text query',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
    input: ListEventsInput,
    output: ListEventsOutput,
    annotations: { title: 'List calendar events', readOnlyHint: true, idempotentHint: true, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, ListEventsInput, rawInput);
        const params: Record<string, string | number> = {
            timeMin: input.timeMin,
            timeMax: input.timeMax,
            singleEvents: 'true',
            orderBy: 'startTime',
            maxResults: input.maxResults
        };
        if (input.query) params['q'] = input.query;
        if (input.pageToken) params['pageToken'] = input.pageToken;
        try {
            const res = await nango.get<EventsPage>({ endpoint: eventsEndpoint(input.calendarId), params, retries: 3 });
            const events = (res.data.items ?? []).filter((e) => e.status !== 'cancelled').map((e) => toCalendarEvent(e, input.calendarId));
            return res.data.nextPageToken ? { events, nextPageToken: res.data.nextPageToken } : { events };
        } catch (err) {
            if (httpStatus(err) === 404) throw new nango.ActionError({ type: 'not_found', message: `Calendar ${input.calendarId} not found` });
            throw providerError(nango, err, 'events.list');
        }
    }
});
