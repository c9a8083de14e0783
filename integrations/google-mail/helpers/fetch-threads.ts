/** threads.get for a batch of ids, a few at a time; ids Gmail no longer knows (404) come back as `missing`. */
import type { NangoSync } from 'nango';
import { httpStatus } from '../../shared/google-error.js';
import { USER, type GmailThreadResource } from './gmail-api.js';

/** Parallel threads.get calls per batch: fast enough for 100-thread pages, gentle on Gmail's per-user quota. */
const CONCURRENCY = 10;

export interface FetchedThreads {
    found: GmailThreadResource[];
    missing: string[];
}

async function getThread(nango: NangoSync, id: string): Promise<GmailThreadResource | null> {
    try {
        // format=metadata: headers without bodies. No metadataHeaders filter: the runner joins array params
        // with commas, and Gmail expects the parameter repeated, so we take all headers instead.
        const res = await nango.get<GmailThreadResource>({ endpoint: `${USER}/threads/${encodeURIComponent(id)}`, params: { format: 'metadata' }, retries: 3 });
        return res.data;
    } catch (err) {
        if (httpStatus(err) === 404) return null;
        throw err;
    }
}

export async function fetchThreads(nango: NangoSync, ids: string[]): Promise<FetchedThreads> {
    const out: FetchedThreads = { found: [], missing: [] };
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
        const batch = ids.slice(i, i + CONCURRENCY);
        const results = await Promise.all(batch.map((id) => getThread(nango, id)));
        results.forEach((t, j) => (t ? out.found.push(t) : out.missing.push(batch[j]!)));
    }
    return out;
}
