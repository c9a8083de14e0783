/**
 * Request and response shapes of events.list
 * (https://developers.google.com/workspace/calendar/api/v3/reference/events/list) and the pure
 * decisions the events sync makes about them.
 */
import type { CalendarEvent, EventsMetadata } from '../models.js';

export interface GoogleEvent {
    id: string;
    status?: string;
    [field: string]: unknown;
}

export interface EventsPage {
    items?: GoogleEvent[];
    nextPageToken?: string;
    nextSyncToken?: string;
}

/** Page size: Google allows up to 2500; 1000 keeps each response a few MB at most. */
export const PAGE_SIZE = 1000;

export const eventsEndpoint = (calendarId: string) => `/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events`;

/**
 * Query of one events.list call. A full pass applies the metadata window; an incremental call may not
 * (timeMin/timeMax/orderBy with a syncToken are a 400). showDeleted=true on full passes too, so a pass
 * that follows a 410 sees events cancelled since the lost token and deletes their records.
 */
export function listParams(meta: EventsMetadata, syncToken: string, pageToken: string): Record<string, string | number> {
    const single = meta.singleEvents === true;
    const params: Record<string, string | number> = { maxResults: PAGE_SIZE, showDeleted: 'true', singleEvents: String(single) };
    if (syncToken) {
        params['syncToken'] = syncToken;
    } else {
        if (meta.timeMin) params['timeMin'] = meta.timeMin;
        if (meta.timeMax) params['timeMax'] = meta.timeMax;
        // orderBy=startTime is only valid with singleEvents=true.
        if (single) params['orderBy'] = 'startTime';
    }
    if (pageToken) params['pageToken'] = pageToken;
    return params;
}

/** The record for a live event: the API's event minus `kind`, plus the calendar it came from. */
export function toCalendarEvent(event: GoogleEvent, calendarId: string): CalendarEvent {
    const { kind: _kind, ...rest } = event;
    return { ...rest, id: event.id, calendarId, status: event.status ?? 'confirmed' };
}

/** Splits a page into records to save and ids to delete (Google reports deletions as status cancelled). */
export function splitPage(items: GoogleEvent[], calendarId: string): { save: CalendarEvent[]; remove: Array<{ id: string }> } {
    const save: CalendarEvent[] = [];
    const remove: Array<{ id: string }> = [];
    for (const item of items) {
        if (item.status === 'cancelled') remove.push({ id: item.id });
        else save.push(toCalendarEvent(item, calendarId));
    }
    return { save, remove };
}

/** Checkpoint strings are capped at 4,000 chars (§2.5); a sync token is ~30, so this fits ~100 calendars. */
export const MAX_TOKENS_JSON = 4000;

export function readSyncTokens(json: string): Map<string, string> {
    if (!json) return new Map();
    try {
        const parsed: unknown = JSON.parse(json);
        if (typeof parsed !== 'object' || parsed === null) return new Map();
        return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
        return new Map();
    }
}

export function writeSyncTokens(tokens: Map<string, string>): string {
    const json = JSON.stringify(Object.fromEntries(tokens));
    if (json.length > MAX_TOKENS_JSON)
        throw new Error(`Too many calendars to keep their sync tokens in one checkpoint (${json.length} > ${MAX_TOKENS_JSON} chars)`);
    return json;
}
