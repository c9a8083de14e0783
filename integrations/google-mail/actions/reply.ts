/**
 * Replies to a message in its thread: reads the original's Message-ID/Subject/From (users.messages.get,
 * format=metadata), then sends with In-Reply-To, References, "Re:" subject and `threadId` so Gmail keeps
 * the reply in the conversation.
 */
import { createAction } from 'nango';
import { z } from 'zod';
import { httpStatus } from '../../shared/google-error.js';
import { parseInput, providerError } from '../../shared/action-errors.js';
import { USER, type GmailMessage } from '../helpers/gmail-api.js';
import { replyHeaders } from '../helpers/reply-headers.js';
import { sendMessage } from '../helpers/send.js';

const ReplyInput = z.object({
    threadId: z.string().min(1),
    /** The message being answered (any message of the thread). */
    messageId: z.string().min(1),
    body: z.string(),
    html: z.string().optional(),
    cc: z.array(z.string().min(1)).optional()
});

const ReplyOutput = z.object({ id: z.string(), threadId: z.string(), labelIds: z.array(z.string()) });

export default createAction({
    description: 'Replies to a Gmail message inside its thread',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.send'],
    input: ReplyInput,
    output: ReplyOutput,
    // A sent reply cannot be taken back: destructive, so an agent's every reply is confirmed (docs/mcp.md).
    annotations: { title: 'Reply to an email', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, ReplyInput, rawInput);
        let original: GmailMessage;
        try {
            const res = await nango.get<GmailMessage>({
                endpoint: `${USER}/messages/${encodeURIComponent(input.messageId)}`,
                params: { format: 'metadata' },
                retries: 3
            });
            original = res.data;
        } catch (err) {
            if (httpStatus(err) === 404) throw new nango.ActionError({ type: 'not_found', message: `Message ${input.messageId} not found` });
            throw providerError(nango, err, 'messages.get');
        }
        if (original.threadId !== input.threadId) {
            throw new nango.ActionError({
                type: 'thread_mismatch',
                message: `Message ${input.messageId} belongs to thread ${original.threadId}, not ${input.threadId}`
            });
        }
        const headers = replyHeaders(original.payload?.headers);
        if (!headers) throw new nango.ActionError({ type: 'not_repliable', message: `Message ${input.messageId} has no Message-ID header to reply to` });

        return sendMessage(
            nango,
            {
                to: headers.to,
                ...(input.cc ? { cc: input.cc } : {}),
                subject: headers.subject,
                text: input.body,
                ...(input.html !== undefined ? { html: input.html } : {}),
                inReplyTo: headers.inReplyTo,
                references: headers.references
            },
            input.threadId
        );
    }
});
