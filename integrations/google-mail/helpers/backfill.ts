/**
 * Full pass over the mailbox: page through users.threads.list, fetch each thread, save it, checkpoint
 * after every page. The mailbox historyId is taken from users.getProfile BEFORE the first page, so changes
 * made while the backfill runs are replayed by the next incremental pass (a replay is harmless: saves are upserts).
 *
 * trackDeletesStart/End bracket the backfill (they may be in different runs when a run is interrupted):
 * threads stored earlier but not seen in this pass are deleted at the end.
 */
import type { NangoSync } from 'nango';
import type { ThreadsCheckpoint } from '../models.js';
import { fetchThreads } from './fetch-threads.js';
import { USER, type Profile, type ThreadsListPage } from './gmail-api.js';
import { toGmailThread } from './map-thread.js';

export const THREAD_PAGE_SIZE = 100;

/** Runs (or resumes, given a checkpoint with a pageToken) a backfill to its end. */
export async function backfill(nango: NangoSync, resume: ThreadsCheckpoint | null): Promise<void> {
    let historyId = resume?.historyId ?? '';
    let pageToken = resume?.pageToken ?? '';
    if (!resume) {
        const profile = await nango.get<Profile>({ endpoint: `${USER}/profile`, retries: 3 });
        historyId = profile.data.historyId;
    }
    // On a resumed backfill this keeps the window opened by the first run (the start is stored only once).
    await nango.trackDeletesStart('GmailThread');

    do {
        const res = await nango.get<ThreadsListPage>({
            endpoint: `${USER}/threads`,
            params: { maxResults: THREAD_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) },
            retries: 3
        });
        const ids = (res.data.threads ?? []).map((t) => t.id);
        // A thread deleted between list and get is simply not seen; trackDeletesEnd removes its record.
        const { found } = await fetchThreads(nango, ids);
        if (found.length) await nango.batchSave(found.map(toGmailThread), 'GmailThread');
        pageToken = res.data.nextPageToken ?? '';
        await nango.saveCheckpoint({ historyId, pageToken });
    } while (pageToken);

    // After the final checkpoint: if the run dies here the window stays open (harmless) rather than a
    // resumed backfill closing a new window after a single page (which would delete every other thread).
    await nango.trackDeletesEnd('GmailThread');
}
