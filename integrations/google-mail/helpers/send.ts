/** users.messages.send with a built message; shared by send-email and reply. */
import type { NangoAction } from 'nango';
import { providerError } from '../../shared/action-errors.js';
import { USER } from './gmail-api.js';
import { HeaderInjectionError, buildMessage, toBase64Url, type MailParts } from './mime.js';

export interface SentMessage {
    id: string;
    threadId: string;
    labelIds: string[];
}

export async function sendMessage(nango: NangoAction, parts: MailParts, threadId?: string): Promise<SentMessage> {
    let raw: string;
    try {
        raw = toBase64Url(buildMessage(parts));
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new nango.ActionError({ type: err instanceof HeaderInjectionError ? 'invalid_header' : 'invalid_input', message });
    }
    try {
        const res = await nango.post<{ id: string; threadId: string; labelIds?: string[] }>({
            endpoint: `${USER}/messages/send`,
            data: { raw, ...(threadId ? { threadId } : {}) },
            // Sending is not idempotent: the runner's retries also cover 5xx, after which Gmail may already
            // have sent the mail, so a failure is reported to the caller instead of risking a double send.
            retries: 0
        });
        return { id: res.data.id, threadId: res.data.threadId, labelIds: res.data.labelIds ?? [] };
    } catch (err) {
        throw providerError(nango, err, 'messages.send');
    }
}
