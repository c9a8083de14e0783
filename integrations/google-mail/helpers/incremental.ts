/**
 * Incremental pass: users.history.list from the stored historyId; every thread a record touches is
 * fetched again and saved, or deleted when Gmail no longer has it (404) or it is all in TRASH/SPAM.
 * https://developers.google.com/workspace/gmail/api/guides/sync#partial_synchronization
 */
import type { NangoSync } from 'nango';
import { httpStatus } from '../../shared/google-error.js';
import { fetchThreads } from './fetch-threads.js';
import { USER, type HistoryPage } from './gmail-api.js';
import { changedThreadIds } from './history.js';
import { isHidden, toGmailThread } from './map-thread.js';

/** Returns false when Gmail answers 404 (historyId too old or invalid): the caller must run a full backfill. */
export async function syncHistory(nango: NangoSync, startHistoryId: string): Promise<boolean> {
    let pageToken = '';
    do {
        let page: HistoryPage;
        try {
            const res = await nango.get<HistoryPage>({
                endpoint: `${USER}/history`,
                // No historyTypes filter: every type (messageAdded, messageDeleted, labelAdded, labelRemoved) matters
                // here, and the runner would comma-join an array where Gmail wants the parameter repeated.
                params: { startHistoryId, maxResults: 500, ...(pageToken ? { pageToken } : {}) },
                retries: 3
            });
            page = res.data;
        } catch (err) {
            if (httpStatus(err) === 404) return false;
            throw err;
        }
        const records = page.history ?? [];
        const { found, missing } = await fetchThreads(nango, changedThreadIds(records));
        const visible = found.filter((t) => !isHidden(t));
        const gone = [...missing, ...found.filter(isHidden).map((t) => t.id)];
        if (visible.length) await nango.batchSave(visible.map(toGmailThread), 'GmailThread');
        if (gone.length)
            await nango.batchDelete(
                gone.map((id) => ({ id })),
                'GmailThread'
            );

        pageToken = page.nextPageToken ?? '';
        // Mid-listing, resume after the last record handled; at the end, from the mailbox's current id.
        const next = pageToken ? (records.at(-1)?.id ?? startHistoryId) : page.historyId;
        await nango.saveCheckpoint({ historyId: String(next), pageToken: '' });
    } while (pageToken);
    return true;
}
