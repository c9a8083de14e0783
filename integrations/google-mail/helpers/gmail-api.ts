/** Response shapes of the Gmail v1 calls the scripts make (https://developers.google.com/workspace/gmail/api/reference/rest). */

export interface GmailHeader {
    name: string;
    value: string;
}

export interface GmailMessage {
    id: string;
    threadId: string;
    labelIds?: string[];
    snippet?: string;
    historyId?: string;
    internalDate?: string;
    payload?: { mimeType?: string; headers?: GmailHeader[] };
}

export interface GmailThreadResource {
    id: string;
    historyId: string;
    snippet?: string;
    messages?: GmailMessage[];
}

export interface ThreadsListPage {
    threads?: Array<{ id: string; historyId?: string; snippet?: string }>;
    nextPageToken?: string;
    resultSizeEstimate?: number;
}

interface MessageRef {
    message: { id: string; threadId: string; labelIds?: string[] };
}

export interface HistoryRecord {
    id: string;
    messages?: Array<{ id: string; threadId: string }>;
    messagesAdded?: MessageRef[];
    messagesDeleted?: MessageRef[];
    labelsAdded?: Array<MessageRef & { labelIds?: string[] }>;
    labelsRemoved?: Array<MessageRef & { labelIds?: string[] }>;
}

export interface HistoryPage {
    history?: HistoryRecord[];
    nextPageToken?: string;
    historyId: string;
}

export interface Profile {
    emailAddress: string;
    historyId: string;
}

/** Header lookup is case-insensitive (RFC 5322 §1.2.2): Gmail shows Message-ID and Message-Id alike. */
export function headerValue(headers: GmailHeader[] | undefined, name: string): string | undefined {
    const lower = name.toLowerCase();
    return headers?.find((h) => h.name.toLowerCase() === lower)?.value;
}

export const USER = '/gmail/v1/users/me';
