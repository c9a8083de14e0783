/** Creates an event (events.insert) and returns it as a CalendarEvent. */
import { createAction } from 'nango';
import { z } from 'zod';
import { CalendarEvent } from '../models.js';
import { EventFields, EventTimeInput, SendUpdates, eventBody, mutationParams } from '../helpers/event-input.js';
import { eventsEndpoint, toCalendarEvent, type GoogleEvent } from '../helpers/events-api.js';
import { parseInput, providerError } from '../../shared/action-errors.js';

const CreateEventInput = z
    .object({
        calendarId: z.string().min(1).default('primary'),
        ...EventFields,
        summary: z.string().min(1),
        start: EventTimeInput,
        end: EventTimeInput,
        sendUpdates: SendUpdates.optional()
    })
    .refine((e) => (e.start.date === undefined) === (e.end.date === undefined), {
        message: 'start and end must both be all-day (date) or both timed (dateTime)',
        path: ['end']
    });

export default createAction({
    description: 'Creates a Google Calendar event',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.events'],
    input: CreateEventInput,
    output: CalendarEvent,
    annotations: { title: 'Create a calendar event', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, CreateEventInput, rawInput);
        try {
            const res = await nango.post<GoogleEvent>({
                endpoint: eventsEndpoint(input.calendarId),
                params: mutationParams(input.sendUpdates),
                data: eventBody(input),
                // Retries cover 429/5xx/401 (token refresh). A 5xx after Google stored the event could in
                // theory duplicate it; client-chosen event ids would make this idempotent (not done yet).
                retries: 3
            });
            return toCalendarEvent(res.data, input.calendarId);
        } catch (err) {
            throw providerError(nango, err, 'events.insert');
        }
    }
});
