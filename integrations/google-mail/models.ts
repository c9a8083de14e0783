/**
 * Gmail models, derived from the Thread and Message resources
 * (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.threads#Thread).
 */
import { z } from 'zod';

export const GmailMessageSummary = z.object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    cc: z.string().optional(),
    subject: z.string(),
    /** RFC 2822 Date header as sent. */
    date: z.string(),
    /** When Gmail received it (ISO 8601, from internalDate). */
    receivedAt: z.string(),
    snippet: z.string(),
    labelIds: z.array(z.string()),
    messageId: z.string().optional()
});
export type GmailMessageSummary = z.infer<typeof GmailMessageSummary>;

/** A conversation: headers of its first message, a summary of every message, and its labels. */
export const GmailThread = z.object({
    id: z.string(),
    historyId: z.string(),
    snippet: z.string(),
    subject: z.string(),
    from: z.string(),
    to: z.string(),
    /** Date header of the first message. */
    date: z.string(),
    /** ISO 8601 time the newest message arrived. */
    lastMessageAt: z.string(),
    messageCount: z.number(),
    /** Union of the messages' labels. */
    labelIds: z.array(z.string()),
    messages: z.array(GmailMessageSummary)
});
export type GmailThread = z.infer<typeof GmailThread>;

/**
 * historyId: the mailbox history id the next incremental pass starts from (recorded from users.getProfile
 * when a backfill starts). pageToken: the next users.threads.list page while a backfill is running;
 * '' once the backfill is complete (values must be flat, §2.5).
 */
export const ThreadsCheckpoint = z.object({
    historyId: z.string(),
    pageToken: z.string()
});
export type ThreadsCheckpoint = z.infer<typeof ThreadsCheckpoint>;
