/**
 * Headers of a reply to a message. Gmail only files a sent message into the requested thread when
 * References or In-Reply-To name a message of it and the Subject matches
 * (https://developers.google.com/workspace/gmail/api/guides/threads#adding_drafts_and_messages_to_threads),
 * and RFC 5322 §3.6.4 says how the reply's In-Reply-To and References are formed. Pure.
 */
import { headerValue, type GmailHeader } from './gmail-api.js';

export interface ReplyHeaders {
    to: string[];
    subject: string;
    inReplyTo: string;
    references: string;
}

/** Splits an address-list header on commas outside quotes and angle brackets (RFC 5322 §3.4). */
export function splitAddresses(list: string): string[] {
    const out: string[] = [];
    let current = '';
    let quoted = false;
    let angle = false;
    for (const ch of list) {
        if (ch === '"') quoted = !quoted;
        else if (ch === '<' && !quoted) angle = true;
        else if (ch === '>' && !quoted) angle = false;
        if (ch === ',' && !quoted && !angle) {
            if (current.trim()) out.push(current.trim());
            current = '';
        } else current += ch;
    }
    if (current.trim()) out.push(current.trim());
    return out;
}

/** "Re: " once, whatever the original's prefix case. */
export function replySubject(subject: string): string {
    const s = subject.trim();
    return /^re:/i.test(s) ? s : `Re: ${s}`;
}

/** Null when the original has no Message-ID (nothing to thread on). */
export function replyHeaders(original: GmailHeader[] | undefined): ReplyHeaders | null {
    const messageId = headerValue(original, 'Message-ID');
    if (!messageId) return null;
    const previous = headerValue(original, 'References') ?? headerValue(original, 'In-Reply-To') ?? '';
    return {
        // Reply-To, when present, is where the author asked replies to go (RFC 5322 §3.6.2).
        to: splitAddresses(headerValue(original, 'Reply-To') ?? headerValue(original, 'From') ?? ''),
        subject: replySubject(headerValue(original, 'Subject') ?? ''),
        inReplyTo: messageId,
        references: previous ? `${previous} ${messageId}` : messageId
    };
}
