/**
 * Google Calendar models, shaped after the Events resource
 * (https://developers.google.com/workspace/calendar/api/v3/reference/events#resource).
 */
import { z } from 'zod';

/** start/end: `dateTime` (RFC 3339) for timed events, `date` (yyyy-mm-dd) for all-day events. */
export const EventDateTime = z.object({
    dateTime: z.string().optional(),
    date: z.string().optional(),
    timeZone: z.string().optional()
});

const Person = z
    .object({
        email: z.string().optional(),
        displayName: z.string().optional(),
        self: z.boolean().optional()
    })
    .passthrough();

export const Attendee = z
    .object({
        email: z.string(),
        displayName: z.string().optional(),
        responseStatus: z.string().optional(),
        optional: z.boolean().optional(),
        organizer: z.boolean().optional(),
        self: z.boolean().optional()
    })
    .passthrough();

/**
 * One event. `passthrough` keeps every other field Google sends (conferenceData, reminders, …), so the
 * record is the event as the API returned it plus `calendarId` (which calendar it was read from).
 */
export const CalendarEvent = z
    .object({
        id: z.string(),
        calendarId: z.string(),
        status: z.string(),
        summary: z.string().optional(),
        description: z.string().optional(),
        location: z.string().optional(),
        htmlLink: z.string().optional(),
        start: EventDateTime.optional(),
        end: EventDateTime.optional(),
        created: z.string().optional(),
        updated: z.string().optional(),
        organizer: Person.optional(),
        creator: Person.optional(),
        attendees: z.array(Attendee).optional(),
        recurrence: z.array(z.string()).optional(),
        recurringEventId: z.string().optional(),
        iCalUID: z.string().optional(),
        hangoutLink: z.string().optional(),
        transparency: z.string().optional(),
        visibility: z.string().optional()
    })
    .passthrough();
export type CalendarEvent = z.infer<typeof CalendarEvent>;

/** Connection metadata the events sync reads. */
export const EventsMetadata = z.object({
    /** Calendar ids to sync (default ['primary']). */
    calendarsToSync: z.array(z.string()).optional(),
    /** RFC 3339 lower bound on an event's end, applied to full passes only. */
    timeMin: z.string().optional(),
    /** RFC 3339 upper bound on an event's start, applied to full passes only. */
    timeMax: z.string().optional(),
    /** Expand recurring events into instances (default false: one record per series + exceptions). */
    singleEvents: z.boolean().optional()
});
export type EventsMetadata = z.infer<typeof EventsMetadata>;

/**
 * Where the sync stands. Checkpoint values must be flat strings/numbers/booleans (§2.5), so '' means "none".
 * - calendarId, pageToken: the calendar being paged and the next page; '' between calendars.
 * - syncToken: the sync token that page listing started from ('' = a full pass).
 * - syncTokens: JSON object calendarId → nextSyncToken of every calendar whose pass completed. One token per
 *   calendar is needed because Google's sync tokens are per calendar.
 */
export const EventsCheckpoint = z.object({
    calendarId: z.string(),
    pageToken: z.string(),
    syncToken: z.string(),
    syncTokens: z.string()
});
export type EventsCheckpoint = z.infer<typeof EventsCheckpoint>;
