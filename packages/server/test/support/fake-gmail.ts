/**
 * A loopback stand-in for the Gmail API v1 (https://developers.google.com/workspace/gmail/api/reference/rest),
 * for tests. It follows the real request/response shapes of the calls our scripts make:
 *
 * - users.getProfile GET /gmail/v1/users/me/profile → {emailAddress, messagesTotal, threadsTotal, historyId}
 * - users.threads.list GET …/threads → {threads:[{id, snippet, historyId}], nextPageToken?, resultSizeEstimate};
 *   maxResults default 100, max 500; labelIds (repeated) filter; SPAM/TRASH left out unless includeSpamTrash=true;
 *   newest thread first.
 * - users.threads.get GET …/threads/{id}?format=full|metadata|minimal&metadataHeaders=… (repeated) →
 *   {id, historyId, messages:[Message]}; 404 notFound for an unknown or deleted thread.
 * - users.messages.list / users.messages.get (same formats) on …/messages[/{id}].
 * - users.history.list GET …/history?startHistoryId=…&historyTypes=…(repeated)&labelId&maxResults(100/500)&pageToken →
 *   {history:[{id, messages, messagesAdded?, messagesDeleted?, labelsAdded?, labelsRemoved?}], nextPageToken?, historyId};
 *   records strictly after startHistoryId; 404 when startHistoryId is older than the retained history
 *   ("Supplying an invalid or out of date startHistoryId typically returns an HTTP 404").
 * - users.messages.send POST …/messages/send {raw (base64url RFC 2822), threadId?} → {id, threadId, labelIds:['SENT']}.
 *   The message joins `threadId` only when Gmail's threading rules hold: the thread exists, References or
 *   In-Reply-To names a message of it, and the Subject matches (https://developers.google.com/workspace/gmail/api/guides/threads#adding_drafts_and_messages_to_threads).
 *
 * Every message carries headers From, To, Subject, Date and Message-ID (format=full also has a text/plain body).
 * Empty list fields are omitted, as Google's JSON encoder does.
 */
import { googleError, intParam, startGoogleHttpFake, type FakeRequest, type Fault, type RouteInput, type RouteResult } from './fake-google-http.ts';

export const FAKE_GMAIL_ADDRESS = 'me@fake-gmail.example';
export const FAKE_GMAIL_TOKEN = 'fake-gmail-access-token';
const BASE_MS = Date.UTC(2026, 0, 1);

export interface FakeMessage {
    id: string;
    threadId: string;
    labelIds: string[];
    historyId: number;
    internalDate: number;
    headers: Array<{ name: string; value: string }>;
    body: string;
}

interface FakeThread {
    id: string;
    messages: string[];
}

interface HistoryRecord {
    id: number;
    messages: Array<{ id: string; threadId: string }>;
    messagesAdded?: Array<{ message: { id: string; threadId: string; labelIds: string[] } }>;
    messagesDeleted?: Array<{ message: { id: string; threadId: string; labelIds: string[] } }>;
    labelsAdded?: Array<{ message: { id: string; threadId: string; labelIds: string[] }; labelIds: string[] }>;
    labelsRemoved?: Array<{ message: { id: string; threadId: string; labelIds: string[] }; labelIds: string[] }>;
}

const historyTypeField = {
    messageAdded: 'messagesAdded',
    messageDeleted: 'messagesDeleted',
    labelAdded: 'labelsAdded',
    labelRemoved: 'labelsRemoved'
} as const;

export interface NewMessage {
    from?: string;
    to?: string;
    subject?: string;
    body?: string;
    labelIds?: string[];
    /** Extra headers (e.g. In-Reply-To). */
    headers?: Record<string, string>;
}

/** A message sent through users.messages.send, decoded for assertions. */
export interface SentMessage {
    id: string;
    threadId: string;
    /** The thread the client asked for (may differ from threadId when the threading rules failed). */
    requestedThreadId?: string;
    raw: string;
    headers: Record<string, string>;
    /** Everything after the header block, as sent (still transfer-encoded). */
    body: string;
}

export interface FakeGmailOptions {
    /** Threads generated at start, one message each (default 0). */
    threads?: number;
    accessToken?: string;
}

export interface FakeGmail {
    url: string;
    accessToken: string;
    requests: FakeRequest[];
    sent: SentMessage[];
    gmail: {
        /** Starts a new thread with one message; returns the thread id. */
        addThread(message?: NewMessage): string;
        /** Adds a message to a thread; returns the message id. */
        addMessage(threadId: string, message?: NewMessage): string;
        deleteMessage(messageId: string): void;
        /** Deletes every message of the thread (a history messageDeleted each). */
        deleteThread(threadId: string): void;
        addLabels(messageId: string, labelIds: string[]): void;
        removeLabels(messageId: string, labelIds: string[]): void;
        /** Forgets history up to now: any startHistoryId older than the current one answers 404. */
        expireHistory(): void;
        readonly historyId: number;
        threadIds(): string[];
        message(id: string): FakeMessage | undefined;
    };
    failNext(fault: Fault): void;
    setAccessToken(token: string): void;
    close(): Promise<void>;
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decode<T>(token: string | null): T | null {
    if (token === null) return null;
    try {
        return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
    } catch {
        return null;
    }
}

/** Splits an RFC 2822 message into unfolded headers and the body (RFC 5322 §2.2.3 folding). */
export function parseRfc2822(text: string): { headers: Record<string, string>; body: string } {
    const split = text.search(/\r?\n\r?\n/);
    const head = split === -1 ? text : text.slice(0, split);
    const body = split === -1 ? '' : text.slice(split).replace(/^\r?\n\r?\n/, '');
    const headers: Record<string, string> = {};
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { headers, body };
}

const normaliseSubject = (s: string) =>
    s
        .replace(/^\s*((re|fwd?)\s*:\s*)+/i, '')
        .trim()
        .toLowerCase();

/** Starts the fake Gmail API on 127.0.0.1 with an ephemeral port. */
export async function startFakeGmail(opts: FakeGmailOptions = {}): Promise<FakeGmail> {
    const threads = new Map<string, FakeThread>();
    const messages = new Map<string, FakeMessage>();
    const history: HistoryRecord[] = [];
    const sent: SentMessage[] = [];
    let historyId = 1000;
    let minHistoryId = 0;
    let counter = 0;

    const newId = () => (0x18f0000000000 + ++counter).toString(16);
    const ref = (m: FakeMessage) => ({ id: m.id, threadId: m.threadId, labelIds: [...m.labelIds] });
    const header = (m: FakeMessage, name: string) => m.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

    function record(r: Omit<HistoryRecord, 'id'>): number {
        historyId += 1 + (counter % 3); // real history ids grow with gaps
        history.push({ id: historyId, ...r });
        return historyId;
    }

    function insertMessage(threadId: string, m: NewMessage, at: number, withHistory: boolean): FakeMessage {
        const id = newId();
        const headers = [
            { name: 'From', value: m.from ?? 'Alice <alice@example.com>' },
            { name: 'To', value: m.to ?? FAKE_GMAIL_ADDRESS },
            { name: 'Subject', value: m.subject ?? `Subject ${id}` },
            { name: 'Date', value: new Date(at).toUTCString().replace('GMT', '+0000') },
            { name: 'Message-ID', value: `<${id}@fake-gmail.example>` },
            ...Object.entries(m.headers ?? {}).map(([name, value]) => ({ name, value }))
        ];
        const message: FakeMessage = {
            id,
            threadId,
            labelIds: m.labelIds ?? ['INBOX', 'UNREAD'],
            historyId: 0,
            internalDate: at,
            headers,
            body: m.body ?? `Body of ${id}`
        };
        messages.set(id, message);
        let thread = threads.get(threadId);
        if (!thread) threads.set(threadId, (thread = { id: threadId, messages: [] }));
        thread.messages.push(id);
        message.historyId = withHistory ? record({ messages: [{ id, threadId }], messagesAdded: [{ message: ref(message) }] }) : ++historyId;
        return message;
    }

    for (let i = 0; i < (opts.threads ?? 0); i++) {
        const threadId = newId();
        insertMessage(threadId, { subject: `Thread ${i}` }, BASE_MS + i * 60_000, false);
    }
    // The generated mailbox predates the retained history.
    minHistoryId = historyId;

    function removeMessage(id: string): void {
        const m = messages.get(id);
        if (!m) throw new Error(`fake gmail: no message ${id}`);
        messages.delete(id);
        const t = threads.get(m.threadId)!;
        t.messages = t.messages.filter((x) => x !== id);
        if (t.messages.length === 0) threads.delete(t.id);
        record({ messages: [{ id, threadId: m.threadId }], messagesDeleted: [{ message: ref(m) }] });
    }

    function changeLabels(id: string, labelIds: string[], add: boolean): void {
        const m = messages.get(id);
        if (!m) throw new Error(`fake gmail: no message ${id}`);
        m.labelIds = add ? [...new Set([...m.labelIds, ...labelIds])] : m.labelIds.filter((l) => !labelIds.includes(l));
        const change = { message: ref(m), labelIds };
        m.historyId = record({ messages: [{ id, threadId: m.threadId }], ...(add ? { labelsAdded: [change] } : { labelsRemoved: [change] }) });
    }

    function wireMessage(m: FakeMessage, format: string, only: string[]): Record<string, unknown> {
        const base = {
            id: m.id,
            threadId: m.threadId,
            labelIds: m.labelIds,
            snippet: m.body.slice(0, 100),
            historyId: String(m.historyId),
            internalDate: String(m.internalDate),
            sizeEstimate: 500 + m.body.length
        };
        if (format === 'minimal') return base;
        const wanted = only.map((h) => h.toLowerCase());
        const headers = format === 'metadata' && wanted.length ? m.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : m.headers;
        if (format === 'metadata') return { ...base, payload: { mimeType: 'text/plain', headers } };
        const data = Buffer.from(m.body).toString('base64url');
        return { ...base, payload: { partId: '', mimeType: 'text/plain', filename: '', headers, body: { size: m.body.length, data } } };
    }

    const threadHistoryId = (t: FakeThread) => Math.max(...t.messages.map((id) => messages.get(id)!.historyId));
    const lastAt = (t: FakeThread) => Math.max(...t.messages.map((id) => messages.get(id)!.internalDate));

    function visible(labels: string[], q: URLSearchParams): boolean {
        if (q.get('includeSpamTrash') !== 'true' && (labels.includes('SPAM') || labels.includes('TRASH'))) return false;
        return q.getAll('labelIds').every((l) => labels.includes(l));
    }

    function page<T>(items: T[], q: URLSearchParams, max: number, fallback: number): { slice: T[]; next?: string } | RouteResult {
        const size = intParam(q, 'maxResults', fallback, max);
        if (size === null) return googleError(400, 'Invalid maxResults', 'invalidArgument');
        const state = decode<{ o: number }>(q.get('pageToken'));
        if (q.has('pageToken') && !state) return googleError(400, 'Invalid pageToken', 'invalidArgument');
        const o = state?.o ?? 0;
        const slice = items.slice(o, o + size);
        return o + size < items.length ? { slice, next: encode({ o: o + size }) } : { slice };
    }

    function listThreads(q: URLSearchParams): RouteResult {
        const all = [...threads.values()]
            .filter((t) =>
                visible(
                    t.messages.flatMap((id) => messages.get(id)!.labelIds),
                    q
                )
            )
            .sort((a, b) => lastAt(b) - lastAt(a));
        const p = page(all, q, 500, 100);
        if ('status' in p) return p;
        const items = p.slice.map((t) => {
            const last = messages.get(t.messages.at(-1)!)!;
            return { id: t.id, snippet: last.body.slice(0, 100), historyId: String(threadHistoryId(t)) };
        });
        return {
            status: 200,
            body: { ...(items.length ? { threads: items } : {}), ...(p.next ? { nextPageToken: p.next } : {}), resultSizeEstimate: all.length }
        };
    }

    function listMessages(q: URLSearchParams): RouteResult {
        const all = [...messages.values()].filter((m) => visible(m.labelIds, q)).sort((a, b) => b.internalDate - a.internalDate);
        const p = page(all, q, 500, 100);
        if ('status' in p) return p;
        const items = p.slice.map((m) => ({ id: m.id, threadId: m.threadId }));
        return {
            status: 200,
            body: { ...(items.length ? { messages: items } : {}), ...(p.next ? { nextPageToken: p.next } : {}), resultSizeEstimate: all.length }
        };
    }

    function listHistory(q: URLSearchParams): RouteResult {
        const raw = q.get('startHistoryId');
        if (raw === null) return googleError(400, 'Missing startHistoryId', 'invalidArgument');
        const start = Number(raw);
        if (!Number.isInteger(start) || start <= 0) return googleError(400, 'Invalid startHistoryId', 'invalidArgument');
        if (start < minHistoryId) return googleError(404, 'Requested entity was not found.', 'notFound');
        const types = q.getAll('historyTypes');
        for (const t of types) if (!(t in historyTypeField)) return googleError(400, `Invalid value at 'history_types' (${t})`, 'invalidArgument');
        const labelId = q.get('labelId');
        const records = history
            .filter((r) => r.id > start)
            .map((r) => {
                if (!types.length) return r;
                const kept: HistoryRecord = { id: r.id, messages: r.messages };
                for (const t of types as Array<keyof typeof historyTypeField>) {
                    const f = historyTypeField[t];
                    if (r[f]) (kept as unknown as Record<string, unknown>)[f] = r[f];
                }
                return Object.keys(kept).length > 2 ? kept : null;
            })
            .filter((r): r is HistoryRecord => r !== null)
            .filter((r) => !labelId || r.messages.some((m) => messages.get(m.id)?.labelIds.includes(labelId)));
        const p = page(records, q, 500, 100);
        if ('status' in p) return p;
        return {
            status: 200,
            body: { ...(p.slice.length ? { history: p.slice } : {}), ...(p.next ? { nextPageToken: p.next } : {}), historyId: String(historyId) }
        };
    }

    function send(body: unknown): RouteResult {
        const b = (body ?? {}) as { raw?: string; threadId?: string };
        if (!b.raw) return googleError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
        if (!/^[A-Za-z0-9_\-=]+$/.test(b.raw)) return googleError(400, 'Invalid value for ByteString', 'invalidArgument');
        const raw = Buffer.from(b.raw, 'base64url').toString('utf8');
        const { headers, body: text } = parseRfc2822(raw);
        if (!headers['to'] && !headers['cc'] && !headers['bcc']) return googleError(400, 'Invalid To header', 'invalidArgument');
        let threadId = newId();
        if (b.threadId !== undefined) {
            const t = threads.get(b.threadId);
            if (!t) return googleError(404, 'Requested entity was not found.', 'notFound');
            const ids = `${headers['references'] ?? ''} ${headers['in-reply-to'] ?? ''}`;
            const referenced = t.messages.some((id) => ids.includes(header(messages.get(id)!, 'Message-ID') ?? '\0'));
            const first = messages.get(t.messages[0]!)!;
            if (referenced && normaliseSubject(headers['subject'] ?? '') === normaliseSubject(header(first, 'Subject') ?? '')) threadId = t.id;
        }
        const extra: Record<string, string> = {};
        for (const h of ['in-reply-to', 'references', 'cc']) if (headers[h]) extra[h] = headers[h]!;
        // Gmail keeps the client's Subject as sent (RFC 2047 encoded words included).
        const m = insertMessage(
            threadId,
            {
                from: headers['from'] ?? FAKE_GMAIL_ADDRESS,
                to: headers['to'] ?? '',
                subject: headers['subject'] ?? '',
                body: text,
                labelIds: ['SENT'],
                headers: extra
            },
            Date.now(),
            true
        );
        sent.push({ id: m.id, threadId, ...(b.threadId ? { requestedThreadId: b.threadId } : {}), raw, headers, body: text });
        return { status: 200, body: { id: m.id, threadId, labelIds: ['SENT'] } };
    }

    function route({ method, path, search, body }: RouteInput): RouteResult {
        const m = /^\/gmail\/v1\/users\/([^/]+)\/(.+)$/.exec(path);
        if (!m) return googleError(404, 'Not Found', 'notFound');
        if (m[1] !== 'me' && decodeURIComponent(m[1]!) !== FAKE_GMAIL_ADDRESS) return googleError(403, 'Delegation denied', 'forbidden');
        const rest = m[2]!;
        const format = search.get('format') ?? 'full';
        const only = search.getAll('metadataHeaders');
        if (method === 'GET' && rest === 'profile') {
            return {
                status: 200,
                body: { emailAddress: FAKE_GMAIL_ADDRESS, messagesTotal: messages.size, threadsTotal: threads.size, historyId: String(historyId) }
            };
        }
        if (method === 'GET' && rest === 'threads') return listThreads(search);
        if (method === 'GET' && rest === 'messages') return listMessages(search);
        if (method === 'GET' && rest === 'history') return listHistory(search);
        if (method === 'POST' && rest === 'messages/send') return send(body);
        const one = /^(threads|messages)\/([^/]+)$/.exec(rest);
        if (method === 'GET' && one) {
            const id = decodeURIComponent(one[2]!);
            if (one[1] === 'messages') {
                const msg = messages.get(id);
                return msg ? { status: 200, body: wireMessage(msg, format, only) } : googleError(404, 'Requested entity was not found.', 'notFound');
            }
            const t = threads.get(id);
            if (!t) return googleError(404, 'Requested entity was not found.', 'notFound');
            return {
                status: 200,
                body: { id: t.id, historyId: String(threadHistoryId(t)), messages: t.messages.map((mid) => wireMessage(messages.get(mid)!, format, only)) }
            };
        }
        return googleError(404, 'Not Found', 'notFound');
    }

    const http = await startGoogleHttpFake(route, opts.accessToken ?? FAKE_GMAIL_TOKEN);
    return {
        url: http.url,
        get accessToken() {
            return http.accessToken;
        },
        requests: http.requests,
        sent,
        gmail: {
            addThread: (message = {}) => {
                const threadId = newId();
                insertMessage(threadId, message, Date.now(), true);
                return threadId;
            },
            addMessage: (threadId, message = {}) => {
                if (!threads.has(threadId)) throw new Error(`fake gmail: no thread ${threadId}`);
                return insertMessage(threadId, message, Date.now(), true).id;
            },
            deleteMessage: removeMessage,
            deleteThread: (threadId) => {
                const t = threads.get(threadId);
                if (!t) throw new Error(`fake gmail: no thread ${threadId}`);
                for (const id of [...t.messages]) removeMessage(id);
            },
            addLabels: (id, labels) => changeLabels(id, labels, true),
            removeLabels: (id, labels) => changeLabels(id, labels, false),
            expireHistory: () => void (minHistoryId = historyId),
            get historyId() {
                return historyId;
            },
            threadIds: () => [...threads.keys()],
            message: (id) => messages.get(id)
        },
        failNext: http.failNext,
        setAccessToken: (token) => void (http.accessToken = token),
        close: http.close
    };
}
