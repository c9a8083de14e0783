/**
 * Input pieces shared by the create/update event actions, and how they become an events.insert / events.patch
 * body (https://developers.google.com/workspace/calendar/api/v3/reference/events/insert).
 */
import { z } from 'zod';

/** A start or end: exactly one of `dateTime` (RFC 3339) or `date` (yyyy-mm-dd, all-day). */
export const EventTimeInput = z
    .object({
        dateTime: z.iso.datetime({ offset: true }).optional(),
        date: z.iso.date().optional(),
        timeZone: z.string().optional()
    })
    .refine((t) => (t.dateTime === undefined) !== (t.date === undefined), { message: 'Give exactly one of dateTime or date' });

export const AttendeeInput = z.object({
    email: z.email(),
    displayName: z.string().optional(),
    optional: z.boolean().optional()
});

/** Who Google notifies about the change (events.insert/patch/delete `sendUpdates`). */
export const SendUpdates = z.enum(['all', 'externalOnly', 'none']);

/** The event fields an action may set; shared so create and update accept the same shapes. */
export const EventFields = {
    summary: z.string().min(1).optional(),
    description: z.string().optional(),
    location: z.string().optional(),
    start: EventTimeInput.optional(),
    end: EventTimeInput.optional(),
    attendees: z.array(AttendeeInput).optional(),
    status: z.enum(['confirmed', 'tentative']).optional(),
    transparency: z.enum(['opaque', 'transparent']).optional()
};

const FIELD_NAMES = Object.keys(EventFields) as Array<keyof typeof EventFields>;

/** The request body: only the fields the caller gave (PATCH semantics: absent fields stay unchanged). */
export function eventBody(input: Partial<Record<keyof typeof EventFields, unknown>>): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const name of FIELD_NAMES) if (input[name] !== undefined) body[name] = input[name];
    return body;
}

/** Query for the mutation calls; sendUpdates is optional in the API (default: no notifications). */
export function mutationParams(sendUpdates: string | undefined): Record<string, string> {
    return sendUpdates ? { sendUpdates } : {};
}

export const eventEndpoint = (calendarId: string, eventId: string) =>
    `/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(eventId)}`;
