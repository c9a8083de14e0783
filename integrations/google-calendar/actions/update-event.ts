/** Changes fields of an event (events.patch: fields not given stay as they are). */
import { createAction } from 'nango';
import { z } from 'zod';
import { CalendarEvent } from '../models.js';
import { EventFields, SendUpdates, eventBody, eventEndpoint, mutationParams } from '../helpers/event-input.js';
import { toCalendarEvent, type GoogleEvent } from '../helpers/events-api.js';
import { httpStatus } from '../../shared/google-error.js';
import { parseInput, providerError } from '../../shared/action-errors.js';

const UpdateEventInput = z
    .object({
        calendarId: z.string().min(1).default('primary'),
        eventId: z.string().min(1),
        ...EventFields,
        sendUpdates: SendUpdates.optional()
    })
    .refine((e) => Object.keys(eventBody(e)).length > 0, { message: 'Give at least one field to change' });

export default createAction({
    description: 'Updates a Google Calendar event (partial update)',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.events'],
    input: UpdateEventInput,
    output: CalendarEvent,
    annotations: { title: 'Update a calendar event', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, UpdateEventInput, rawInput);
        try {
            const res = await nango.patch<GoogleEvent>({
                endpoint: eventEndpoint(input.calendarId, input.eventId),
                params: mutationParams(input.sendUpdates),
                data: eventBody(input),
                retries: 3
            });
            return toCalendarEvent(res.data, input.calendarId);
        } catch (err) {
            if (httpStatus(err) === 404) {
                throw new nango.ActionError({ type: 'not_found', message: `Event ${input.eventId} not found in calendar ${input.calendarId}` });
            }
            throw providerError(nango, err, 'events.patch');
        }
    }
});
