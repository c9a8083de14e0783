// The loopback Gmail fake answers like the real profile / threads / messages / history / send calls.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGmail, FAKE_GMAIL_TOKEN, type FakeGmail } from './support/fake-gmail.ts';

interface GoogleErrorBody {
    error: { code: number; status: string; errors: Array<{ reason: string }> };
}
interface ThreadBody {
    id: string;
    historyId: string;
    messages: Array<{ id: string; threadId: string; payload?: { headers: Array<{ name: string; value: string }>; body?: { data: string } } }>;
}
interface HistoryBody {
    history?: Array<{
        id: string | number;
        messagesAdded?: unknown[];
        messagesDeleted?: unknown[];
        labelsAdded?: unknown[];
        messages: Array<{ threadId: string }>;
    }>;
    nextPageToken?: string;
    historyId: string;
}

describe('fake Gmail API', () => {
    let fake: FakeGmail;
    const call = async <T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
        const res = await fetch(`${fake.url}/gmail/v1/users/me${path}`, {
            method: init.method ?? 'GET',
            headers: { authorization: `Bearer ${init.token ?? FAKE_GMAIL_TOKEN}`, 'content-type': 'application/json' },
            ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
        });
        return { status: res.status, data: (await res.json()) as T };
    };

    before(async () => {
        fake = await startFakeGmail({ threads: 250 });
    });
    after(() => fake.close());

    it("401 with Google's envelope for a bad token", async () => {
        const res = await call<GoogleErrorBody>('/profile', { token: 'nope' });
        assert.equal(res.status, 401);
        assert.equal(res.data.error.status, 'UNAUTHENTICATED');
    });

    it('getProfile returns the mailbox historyId as a string', async () => {
        const res = await call<{ emailAddress: string; historyId: string; threadsTotal: number }>('/profile');
        assert.equal(res.data.threadsTotal, 250);
        assert.equal(res.data.historyId, String(fake.gmail.historyId));
    });

    it('threads.list pages with nextPageToken (default 100, max 500)', async () => {
        const ids: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
            const res = await call<{ threads: Array<{ id: string; historyId: string; snippet: string }>; nextPageToken?: string; resultSizeEstimate: number }>(
                `/threads${pageToken ? `?pageToken=${pageToken}` : ''}`
            );
            ids.push(...res.data.threads.map((t) => t.id));
            pageToken = res.data.nextPageToken;
            pages++;
        } while (pageToken);
        assert.equal(pages, 3);
        assert.equal(new Set(ids).size, 250);
        const big = await call<{ threads: unknown[] }>('/threads?maxResults=1000');
        assert.equal(big.data.threads.length, 250);
    });

    it('threads.get honours format=metadata and repeated metadataHeaders; 404 for unknown threads', async () => {
        const id = fake.gmail.threadIds()[0]!;
        const meta = await call<ThreadBody>(`/threads/${id}?format=metadata&metadataHeaders=Subject&metadataHeaders=From`);
        assert.equal(meta.status, 200);
        assert.deepEqual(
            meta.data.messages[0]!.payload!.headers.map((h) => h.name),
            ['From', 'Subject']
        );
        assert.equal(meta.data.messages[0]!.payload!.body, undefined);
        const full = await call<ThreadBody>(`/threads/${id}`);
        assert.ok(full.data.messages[0]!.payload!.body!.data);
        const missing = await call<GoogleErrorBody>('/threads/does-not-exist');
        assert.equal(missing.status, 404);
        assert.equal(missing.data.error.errors[0]!.reason, 'notFound');
    });

    it('history.list reports added, deleted and labelled messages after startHistoryId, filtered by historyTypes', async () => {
        const start = fake.gmail.historyId;
        const t1 = fake.gmail.addThread({ subject: 'hello' });
        const m2 = fake.gmail.addMessage(t1, { subject: 'Re: hello' });
        fake.gmail.addLabels(m2, ['STARRED']);
        const doomed = fake.gmail.threadIds()[5]!;
        fake.gmail.deleteThread(doomed);
        const all = await call<HistoryBody>(`/history?startHistoryId=${start}`);
        assert.equal(all.status, 200);
        const h = all.data.history!;
        assert.equal(h.length, 4);
        assert.equal(h.filter((r) => r.messagesAdded).length, 2);
        assert.equal(h.filter((r) => r.labelsAdded).length, 1);
        assert.deepEqual(
            h.filter((r) => r.messagesDeleted).map((r) => r.messages[0]!.threadId),
            [doomed]
        );
        assert.equal(all.data.historyId, String(fake.gmail.historyId));
        const onlyDeleted = await call<HistoryBody>(`/history?startHistoryId=${start}&historyTypes=messageDeleted`);
        assert.equal(onlyDeleted.data.history!.length, 1);
        const paged = await call<HistoryBody>(`/history?startHistoryId=${start}&maxResults=3`);
        assert.equal(paged.data.history!.length, 3);
        assert.ok(paged.data.nextPageToken);
        const none = await call<HistoryBody>(`/history?startHistoryId=${fake.gmail.historyId}`);
        assert.equal(none.data.history, undefined);
        assert.equal((await call<GoogleErrorBody>(`/threads/${doomed}`)).status, 404);
    });

    it('history.list answers 404 when startHistoryId is too old, 400 when missing', async () => {
        const old = fake.gmail.historyId;
        fake.gmail.addThread();
        fake.gmail.expireHistory();
        const res = await call<GoogleErrorBody>(`/history?startHistoryId=${old}`);
        assert.equal(res.status, 404);
        assert.equal((await call<HistoryBody>(`/history?startHistoryId=${fake.gmail.historyId}`)).status, 200);
        assert.equal((await call<GoogleErrorBody>('/history')).status, 400);
    });

    it('messages.send decodes raw, threads a proper reply and starts a new thread otherwise', async () => {
        const threadId = fake.gmail.addThread({ subject: 'Quarterly numbers', from: 'Bob <bob@example.com>' });
        const original = fake.gmail.message((await call<ThreadBody>(`/threads/${threadId}`)).data.messages[0]!.id)!;
        const messageId = original.headers.find((h) => h.name === 'Message-ID')!.value;
        const raw = (text: string) => Buffer.from(text).toString('base64url');
        const reply = await call<{ id: string; threadId: string; labelIds: string[] }>('/messages/send', {
            method: 'POST',
            body: {
                threadId,
                raw: raw(`To: bob@example.com\r\nSubject: Re: Quarterly numbers\r\nIn-Reply-To: ${messageId}\r\nReferences: ${messageId}\r\n\r\nThanks!`)
            }
        });
        assert.equal(reply.status, 200);
        assert.equal(reply.data.threadId, threadId);
        assert.deepEqual(reply.data.labelIds, ['SENT']);
        assert.equal(fake.sent.at(-1)!.body, 'Thanks!');
        const unrelated = await call<{ threadId: string }>('/messages/send', {
            method: 'POST',
            body: { threadId, raw: raw('To: bob@example.com\r\nSubject: Other\r\n\r\nhi') }
        });
        assert.notEqual(unrelated.data.threadId, threadId, 'no References and another subject: Gmail starts a new thread');
        assert.equal((await call('/messages/send', { method: 'POST', body: { raw: raw('Subject: nobody\r\n\r\nx') } })).status, 400);
        assert.equal((await call('/messages/send', { method: 'POST', body: {} })).status, 400);
    });
});
