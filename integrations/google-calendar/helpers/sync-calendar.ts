/**
 * One calendar's pass of the events sync: page through events.list, save live events, delete cancelled
 * ones, checkpoint after every page, and keep the calendar's nextSyncToken for the next run.
 * Follows https://developers.google.com/workspace/calendar/api/guides/sync: the nextSyncToken only comes
 * with the last page, and a 410 means the token is gone and a full sync is needed.
 */
import type { NangoSync } from 'nango';
import type { EventsMetadata } from '../models.js';
import { httpStatus } from '../../shared/google-error.js';
import { eventsEndpoint, listParams, splitPage, writeSyncTokens, type EventsPage } from './events-api.js';

export interface CalendarPass {
    calendarId: string;
    meta: EventsMetadata;
    /** calendarId → nextSyncToken of completed passes; updated in place. */
    tokens: Map<string, string>;
    /** Resume an interrupted listing (from the checkpoint) instead of starting a new one. */
    resume?: { pageToken: string; syncToken: string };
}

export async function syncCalendar(nango: NangoSync, pass: CalendarPass): Promise<void> {
    const { calendarId, meta, tokens } = pass;
    let syncToken = pass.resume ? pass.resume.syncToken : (tokens.get(calendarId) ?? '');
    let pageToken = pass.resume?.pageToken ?? '';
    let restarted = false;
    const checkpoint = (inProgress: boolean) =>
        nango.saveCheckpoint({
            calendarId: inProgress ? calendarId : '',
            pageToken: inProgress ? pageToken : '',
            syncToken: inProgress ? syncToken : '',
            syncTokens: writeSyncTokens(tokens)
        });

    for (;;) {
        let page: EventsPage;
        try {
            const res = await nango.get<EventsPage>({ endpoint: eventsEndpoint(calendarId), params: listParams(meta, syncToken, pageToken), retries: 3 });
            page = res.data;
        } catch (err) {
            // 410 Gone: the sync (or page) token expired. Drop it and list the calendar again from scratch, once.
            if (httpStatus(err) !== 410 || restarted) throw err;
            restarted = true;
            await nango.log(`Calendar ${calendarId}: sync token no longer valid (410), running a full pass`, { level: 'warn' });
            tokens.delete(calendarId);
            syncToken = '';
            pageToken = '';
            await checkpoint(true);
            continue;
        }

        const { save, remove } = splitPage(page.items ?? [], calendarId);
        if (save.length) await nango.batchSave(save, 'CalendarEvent');
        if (remove.length) await nango.batchDelete(remove, 'CalendarEvent');

        if (page.nextPageToken) {
            pageToken = page.nextPageToken;
            await checkpoint(true);
            continue;
        }
        if (page.nextSyncToken) tokens.set(calendarId, page.nextSyncToken);
        await checkpoint(false);
        return;
    }
}
