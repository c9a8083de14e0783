/** Sends an email from the connected mailbox (users.messages.send with a base64url RFC 2822 `raw`). */
import { createAction } from 'nango';
import { z } from 'zod';
import { parseInput } from '../../shared/action-errors.js';
import { sendMessage } from '../helpers/send.js';

const Recipients = z.union([z.string().min(1), z.array(z.string().min(1))]).transform((v) => (Array.isArray(v) ? v : [v]));

const SendEmailInput = z
    .object({
        to: Recipients,
        cc: Recipients.optional(),
        bcc: Recipients.optional(),
        subject: z.string(),
        /** Plain-text body (always sent; the fallback when html is given). */
        body: z.string(),
        html: z.string().optional(),
        /** Display name and/or address; Gmail only accepts the account's own address or a verified alias. */
        from: z.string().optional()
    })
    .refine((i) => i.to.length > 0, { message: 'At least one recipient is required', path: ['to'] });

const SendEmailOutput = z.object({ id: z.string(), threadId: z.string(), labelIds: z.array(z.string()) });

export default createAction({
    description: 'Sends an email with Gmail (plain text, optionally with an HTML alternative)',
    version: '1.0.0',
    scopes: ['https://www.googleapis.com/auth/gmail.send'],
    input: SendEmailInput,
    output: SendEmailOutput,
    // A sent email cannot be taken back: destructive, so an agent's every send is confirmed (docs/mcp.md).
    annotations: { title: 'Send an email', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },

    exec: async (nango, rawInput) => {
        const input = parseInput(nango, SendEmailInput, rawInput);
        return sendMessage(nango, {
            to: input.to,
            ...(input.cc ? { cc: input.cc } : {}),
            ...(input.bcc ? { bcc: input.bcc } : {}),
            ...(input.from ? { from: input.from } : {}),
            subject: input.subject,
            text: input.body,
            ...(input.html !== undefined ? { html: input.html } : {})
        });
    }
});
