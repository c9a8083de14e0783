/** One event by id (events.get, https://developers.google.com/workspace/calendar/api/v3/reference/events/get). */
import { createAction } from 'nango';
import { z } from 'zod';
import { CalendarEvent } from '../models.js';
import { eventEndpoint } from '../helpers/event-input.js';
import { toCalendarEvent, type GoogleEvent } from '../helpers/events-api.js';
import { httpStatus } from '../../shared/google-error.js';
import { parseInput, providerError } from '../../shared/action-errors.js';

const GetEventInput = z.object({
    calendarId: z.string().min(1).default('primary'),
    eventId: z.string().min(1)
});

export default createAction({
    description: 'Gets one Google Calendar event by id',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
    input: GetEventInput,
    output: CalendarEvent,
    annotations: { title: 'Get a calendar event', readOnlyHint: true, idempotentHint: true, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, GetEventInput, rawInput);
        const notFound = () => new nango.ActionError({ type: 'not_found', message: `Event ${input.eventId} not found in calendar ${input.calendarId}` });
        try {
            const res = await nango.get<GoogleEvent>({ endpoint: eventEndpoint(input.calendarId, input.eventId), retries: 3 });
            // events.get still answers for a deleted event (status cancelled): to the caller it is gone.
            if (res.data.status === 'cancelled') throw notFound();
            return toCalendarEvent(res.data, input.calendarId);
        } catch (err) {
            if (httpStatus(err) === 404 || httpStatus(err) === 410) throw notFound();
            throw providerError(nango, err, 'events.get');
        }
    }
});
