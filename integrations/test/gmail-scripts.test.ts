// The Gmail scripts run against the loopback fake through a stub `nango` (no pipeline needed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGmail, type FakeGmail } from '../../packages/server/test/support/fake-gmail.ts';
import { stubNango, run, type ActionError, type Stub } from './support/stub-nango.ts';
import threads from '../google-mail/syncs/threads.ts';
import sendEmail from '../google-mail/actions/send-email.ts';
import reply from '../google-mail/actions/reply.ts';

describe('google-mail scripts against the fake API', () => {
    let fake: FakeGmail;
    let stub: Stub;

    before(async () => {
        fake = await startFakeGmail({ threads: 230 });
        stub = stubNango({ baseUrl: fake.url, accessToken: fake.accessToken });
    });
    after(() => fake.close());

    it('backfill: every thread saved, a checkpoint per page, trackDeletes around it, profile historyId kept', async () => {
        const historyAtStart = String(fake.gmail.historyId);
        await run(threads, stub);
        assert.equal(stub.records.size, 230);
        assert.equal(stub.checkpointsSaved, 3);
        assert.deepEqual(stub.checkpoint, { historyId: historyAtStart, pageToken: '' });
        assert.deepEqual([stub.calls.trackDeletesStart, stub.calls.trackDeletesEnd], [1, 1]);
        const t = stub.records.get(fake.gmail.threadIds()[0]!) as { subject: string; messageCount: number; messages: Array<{ messageId?: string }> };
        assert.equal(t.subject, 'Thread 0');
        assert.equal(t.messageCount, 1);
        assert.ok(t.messages[0]!.messageId);
        assert.ok(fake.requests.some((r) => r.path.endsWith('/threads') === false && r.query['format'] === 'metadata'));
    });

    it('incremental: new and changed threads re-fetched, deleted and trashed threads deleted', async () => {
        const [keep, doomed, trashed] = fake.gmail.threadIds();
        const added = fake.gmail.addThread({ subject: 'Fresh' });
        fake.gmail.addMessage(keep!, { subject: 'Re: Thread 0' });
        fake.gmail.deleteThread(doomed!);
        const msg = (stub.records.get(trashed!) as { messages: Array<{ id: string }> }).messages[0]!.id;
        fake.gmail.addLabels(msg, ['TRASH']);
        const mark = fake.requests.length;
        await run(threads, stub);
        const paths = fake.requests.slice(mark).map((r) => r.path.replace(/threads\/.+/, 'threads/:id'));
        assert.ok(paths[0]!.endsWith('/history'));
        assert.ok(!paths.some((p) => p.endsWith('/threads')), 'no listing during an incremental pass');
        assert.equal((stub.records.get(added) as { subject: string }).subject, 'Fresh');
        assert.equal((stub.records.get(keep!) as { messageCount: number }).messageCount, 2);
        assert.ok(stub.deleted.has(doomed!) && stub.deleted.has(trashed!));
        assert.equal(stub.checkpoint!['historyId'], String(fake.gmail.historyId));
        assert.equal(stub.calls.trackDeletesStart, 1, 'no trackDeletes in incremental passes');
    });

    it('a 404 on history (id too old) restarts a full backfill that removes threads gone meanwhile', async () => {
        const gone = fake.gmail.threadIds()[10]!;
        fake.gmail.deleteThread(gone);
        fake.gmail.expireHistory();
        // The stub missed the deletion: put the record back to prove trackDeletesEnd removes it.
        stub.records.set(gone, { id: gone });
        await run(threads, stub);
        assert.ok(stub.logs.some((l) => l.level === 'warn' && /404/.test(String(l.message))));
        assert.deepEqual([stub.calls.trackDeletesStart, stub.calls.trackDeletesEnd], [2, 2]);
        assert.ok(!stub.records.has(gone));
        assert.equal(stub.records.size, fake.gmail.threadIds().length - 1, 'every live thread but the trashed one');
    });

    it('sending and replying are destructive for MCP clients (a sent email cannot be taken back)', () => {
        for (const a of [sendEmail, reply]) assert.deepEqual([a.annotations?.readOnlyHint, a.annotations?.destructiveHint], [false, true]);
    });

    it('send-email builds a base64url RFC 2822 message', async () => {
        const out = (await run(sendEmail, stub, { to: 'bob@example.com', cc: ['c@example.com'], subject: 'Héllo', body: 'Plain', html: '<b>Rich</b>' })) as {
            id: string;
            threadId: string;
            labelIds: string[];
        };
        assert.deepEqual(out.labelIds, ['SENT']);
        const sent = fake.sent.at(-1)!;
        assert.equal(sent.headers['to'], 'bob@example.com');
        assert.equal(sent.headers['cc'], 'c@example.com');
        assert.match(sent.headers['subject']!, /^=\?UTF-8\?B\?/);
        assert.match(sent.headers['content-type']!, /^multipart\/alternative/);
        const bad = await run(sendEmail, stub, { to: 'a@example.com', subject: 'x\r\nBcc: evil@example.com', body: '' }).catch((e: unknown) => e);
        assert.equal((bad as ActionError).payload['type'], 'invalid_header');
        const invalid = await run(sendEmail, stub, { subject: 'x' }).catch((e: unknown) => e);
        assert.equal((invalid as ActionError).payload['type'], 'invalid_input');
    });

    it('reply threads the answer: threadId, In-Reply-To, References and Re: subject', async () => {
        const threadId = fake.gmail.addThread({ subject: 'Budget', from: 'Carol <carol@example.com>' });
        const firstMessage = (await fetch(`${fake.url}/gmail/v1/users/me/threads/${threadId}?format=minimal`, {
            headers: { authorization: `Bearer ${fake.accessToken}` }
        }).then((r) => r.json())) as { messages: Array<{ id: string }> };
        const id = firstMessage.messages[0]!.id;
        const out = (await run(reply, stub, { threadId, messageId: id, body: 'Looks good' })) as { threadId: string };
        assert.equal(out.threadId, threadId, 'Gmail kept the reply in the thread');
        const sent = fake.sent.at(-1)!;
        assert.equal(sent.headers['subject'], 'Re: Budget');
        assert.equal(sent.headers['to'], '"Carol" <carol@example.com>');
        assert.equal(sent.headers['in-reply-to'], `<${id}@fake-gmail.example>`);
        assert.equal(sent.requestedThreadId, threadId);
        const wrong = await run(reply, stub, { threadId: 'other', messageId: id, body: 'x' }).catch((e: unknown) => e);
        assert.equal((wrong as ActionError).payload['type'], 'thread_mismatch');
        const missing = await run(reply, stub, { threadId, messageId: 'nope', body: 'x' }).catch((e: unknown) => e);
        assert.equal((missing as ActionError).payload['type'], 'not_found');
    });
});
