/**
 * Syncs the events of the connection's calendars into the CalendarEvent model.
 * First run: a full pass per calendar (metadata window, paged, checkpointed per page). Later runs: only
 * the changes since each calendar's sync token; cancelled events become deletes. See helpers/sync-calendar.ts.
 */
import { createSync } from 'nango';
import { CalendarEvent, EventsCheckpoint, EventsMetadata } from '../models.js';
import { readSyncTokens } from '../helpers/events-api.js';
import { syncCalendar } from '../helpers/sync-calendar.js';

export default createSync({
    description: 'Syncs Google Calendar events (full pass, then incremental with sync tokens; cancelled events are deleted)',
    version: '1.0.0',
    frequency: 'every 5 minutes',
    autoStart: true,
    scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
    models: { CalendarEvent },
    metadata: EventsMetadata,
    checkpoint: EventsCheckpoint,

    exec: async (nango) => {
        const rawMeta = await nango.getMetadata();
        const parsedMeta = EventsMetadata.safeParse(rawMeta ?? {});
        if (!parsedMeta.success) throw new Error(`Invalid connection metadata for the events sync: ${parsedMeta.error.message}`);
        const meta = parsedMeta.data;
        const calendars = meta.calendarsToSync?.length ? [...new Set(meta.calendarsToSync)] : ['primary'];

        // An unreadable checkpoint (e.g. from an older version) just means starting over.
        const saved = EventsCheckpoint.safeParse(await nango.getCheckpoint());
        const state = saved.success ? saved.data : null;
        const tokens = readSyncTokens(state?.syncTokens ?? '');

        for (const calendarId of calendars) {
            const resume = state && state.calendarId === calendarId ? { pageToken: state.pageToken, syncToken: state.syncToken } : undefined;
            await syncCalendar(nango, { calendarId, meta, tokens, ...(resume ? { resume } : {}) });
        }
    }
});
