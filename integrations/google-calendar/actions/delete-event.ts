/** Deletes an event (events.delete). Deleting an already deleted event succeeds with alreadyDeleted: true. */
import { createAction } from 'nango';
import { z } from 'zod';
import { SendUpdates, eventEndpoint, mutationParams } from '../helpers/event-input.js';
import { httpStatus } from '../../shared/google-error.js';
import { parseInput, providerError } from '../../shared/action-errors.js';

const DeleteEventInput = z.object({
    calendarId: z.string().min(1).default('primary'),
    eventId: z.string().min(1),
    sendUpdates: SendUpdates.optional()
});

const DeleteEventOutput = z.object({
    eventId: z.string(),
    deleted: z.literal(true),
    alreadyDeleted: z.boolean()
});

export default createAction({
    description: 'Deletes a Google Calendar event',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/calendar.events'],
    input: DeleteEventInput,
    output: DeleteEventOutput,
    annotations: { title: 'Delete a calendar event', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, DeleteEventInput, rawInput);
        try {
            await nango.delete({ endpoint: eventEndpoint(input.calendarId, input.eventId), params: mutationParams(input.sendUpdates), retries: 3 });
            return { eventId: input.eventId, deleted: true as const, alreadyDeleted: false };
        } catch (err) {
            const status = httpStatus(err);
            // Google answers 410 Gone for an event that is already deleted: the caller's goal is met,
            // and a retried delete (after a lost 204) must not look like a failure.
            if (status === 410) return { eventId: input.eventId, deleted: true as const, alreadyDeleted: true };
            if (status === 404) throw new nango.ActionError({ type: 'not_found', message: `Event ${input.eventId} not found in calendar ${input.calendarId}` });
            throw providerError(nango, err, 'events.delete');
        }
    }
});
