/**
 * Syncs Gmail threads into the GmailThread model: a checkpointed backfill of every thread, then
 * incremental passes over the mailbox history. A history id Gmail no longer accepts (404) restarts the backfill.
 */
import { createSync } from 'nango';
import { GmailThread, ThreadsCheckpoint } from '../models.js';
import { backfill } from '../helpers/backfill.js';
import { syncHistory } from '../helpers/incremental.js';

export default createSync({
    description: 'Syncs Gmail threads (metadata and message summaries): backfill, then incremental via the history API',
    version: '1.0.0',
    frequency: 'every 5 minutes',
    autoStart: true,
    scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
    models: { GmailThread },
    checkpoint: ThreadsCheckpoint,

    exec: async (nango) => {
        const saved = ThreadsCheckpoint.safeParse(await nango.getCheckpoint());
        const state = saved.success && saved.data.historyId ? saved.data : null;

        if (state && !state.pageToken) {
            if (await syncHistory(nango, state.historyId)) return;
            await nango.log('Gmail history id is too old (404); starting a full backfill', { level: 'warn' });
            await nango.clearCheckpoint();
            await backfill(nango, null);
            return;
        }
        // No checkpoint: first backfill. A pageToken: resume the interrupted one.
        await backfill(nango, state);
    }
});
