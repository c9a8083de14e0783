/** threads.get (format=metadata) → GmailThread record. Pure. */
import type { GmailMessageSummary, GmailThread } from '../models.js';
import { headerValue, type GmailMessage, type GmailThreadResource } from './gmail-api.js';

const iso = (epochMs: string | undefined) => {
    const n = Number(epochMs);
    return Number.isFinite(n) && epochMs ? new Date(n).toISOString() : '';
};

export function toMessageSummary(m: GmailMessage): GmailMessageSummary {
    const h = m.payload?.headers;
    const cc = headerValue(h, 'Cc');
    const messageId = headerValue(h, 'Message-ID');
    return {
        id: m.id,
        from: headerValue(h, 'From') ?? '',
        to: headerValue(h, 'To') ?? '',
        ...(cc ? { cc } : {}),
        subject: headerValue(h, 'Subject') ?? '',
        date: headerValue(h, 'Date') ?? '',
        receivedAt: iso(m.internalDate),
        snippet: m.snippet ?? '',
        labelIds: m.labelIds ?? [],
        ...(messageId ? { messageId } : {})
    };
}

export function toGmailThread(t: GmailThreadResource): GmailThread {
    const messages = (t.messages ?? []).map(toMessageSummary);
    const first = messages[0];
    const last = messages.at(-1);
    return {
        id: t.id,
        historyId: t.historyId,
        // threads.get leaves the thread snippet empty; the newest message's snippet is what Gmail shows.
        snippet: t.snippet || last?.snippet || '',
        subject: first?.subject ?? '',
        from: first?.from ?? '',
        to: first?.to ?? '',
        date: first?.date ?? '',
        // receivedAt is an ISO 8601 UTC string, so the last in sort order is the latest. (Not Math.max: on strings it
        // gives NaN, which is what Biome's useMathMinMax unsafe fix once turned a `>` ternary here into.)
        lastMessageAt:
            messages
                .map((m) => m.receivedAt)
                .sort()
                .pop() ?? '',
        messageCount: messages.length,
        labelIds: [...new Set(messages.flatMap((m) => m.labelIds))],
        messages
    };
}

/**
 * A thread whose every message is in TRASH or SPAM is not part of the synced mailbox: threads.list leaves
 * those out by default, so the backfill never saves them and the incremental pass deletes them.
 */
export function isHidden(t: GmailThreadResource): boolean {
    const msgs = t.messages ?? [];
    return msgs.length > 0 && msgs.every((m) => (m.labelIds ?? []).some((l) => l === 'TRASH' || l === 'SPAM'));
}
