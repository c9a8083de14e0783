// End to end: integrations/ compiled and deployed by the Switchboard CLI (`switchboard deploy`), run by the
// scheduler/runtime against the loopback Google fakes, read back through @nangohq/node.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startFakeCalendar, type FakeCalendar } from './support/fake-google-calendar.ts';
import { startFakeGmail, type FakeGmail } from './support/fake-gmail.ts';
import { copyProject, runCli, waitForRun, type SyncStatus } from './support/cli.ts';
import { sdkFailure } from './support/sdk.ts';

const integrationsDir = new URL('../../../integrations', import.meta.url).pathname;
const CALENDAR_EVENTS = 100_000;
const GMAIL_THREADS = 150;

/**
 * Test providers: the built-in google-calendar / google-mail entries point at googleapis.com, so the
 * integrations use providers of their own whose proxy.base_url is the fake. The integration unique keys
 * stay `google-calendar` / `google-mail`: scripts are deployed per integration key (the folder name).
 */
function providers(calendarUrl: string, gmailUrl: string): string {
    const entry = (name: string, url: string) => `${name}:
  display_name: ${name}
  auth_mode: OAUTH2
  authorization_url: ${url}/o/oauth2/v2/auth
  token_url: ${url}/token
  proxy:
    base_url: ${url}
`;
    return entry('google-calendar-test', calendarUrl) + entry('gmail-test', gmailUrl);
}

describe('Google integrations end to end', () => {
    let calendar: FakeCalendar;
    let gmail: FakeGmail;
    let server: TestServer;
    let nango: Nango;
    let project: string;
    let firstCalendarRunMs = 0;

    const importConnection = (providerConfigKey: string, connectionId: string, accessToken: string) =>
        fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: providerConfigKey,
                connection_id: connectionId,
                credentials: { type: 'OAUTH2', access_token: accessToken, refresh_token: 'unused', expires_at: new Date(Date.now() + 3_600_000).toISOString() }
            })
        });

    /** Triggers a run and waits for the run that finished after the trigger (fails on ERROR). */
    async function syncNow(key: string, connectionId: string, sync: string, reset = false): Promise<SyncStatus> {
        const since = Date.now();
        await nango.triggerSync(key, [sync], connectionId, reset ? { reset: true } : undefined);
        return waitForRun(server, key, connectionId, sync, since);
    }

    /** Every live record of a model (listRecords also returns deleted ones, marked in _nango_metadata). */
    async function allRecords<T>(key: string, connectionId: string, model: string): Promise<T[]> {
        const out: T[] = [];
        let cursor: string | null | undefined;
        do {
            const page = await nango.listRecords<T & { id: string }>({
                providerConfigKey: key,
                connectionId,
                model,
                limit: 10_000,
                ...(cursor ? { cursor } : {})
            });
            out.push(...(page.records.filter((r) => !r._nango_metadata.deleted_at) as T[]));
            cursor = page.next_cursor;
        } while (cursor);
        return out;
    }

    const deletedIds = async (key: string, connectionId: string, model: string) =>
        (await nango.listRecords({ providerConfigKey: key, connectionId, model, filter: 'deleted' })).records.map((r) => r.id as string);

    before(async () => {
        calendar = await startFakeCalendar({ events: CALENDAR_EVENTS });
        gmail = await startFakeGmail({ threads: GMAIL_THREADS });
        server = await startServer({ SWITCHBOARD_PROVIDERS: writeProvidersFile(providers(calendar.url, gmail.url)), SWITCHBOARD_SCHEDULER_TICK_MS: '200' });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({
            provider: 'google-calendar-test',
            unique_key: 'google-calendar',
            credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' }
        });
        await nango.createIntegration({
            provider: 'gmail-test',
            unique_key: 'google-mail',
            credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' }
        });
        // The CLI compiles into <project>/build and <project>/.nango: a copy keeps the repository clean.
        project = copyProject(integrationsDir);
        const res = await runCli(['deploy', 'dev', '--dir', project, '--host', server.url], { SWITCHBOARD_SECRET_KEY: server.secretKey });
        assert.equal(res.code, 0, `switchboard deploy failed:\n${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, /Deployed 10 script\(s\)/);
        const since = Date.now();
        assert.equal((await importConnection('google-calendar', 'cal-1', calendar.accessToken)).status, 201);
        assert.equal((await importConnection('google-mail', 'mail-1', gmail.accessToken)).status, 201);
        // Both syncs are autoStart: the scheduler runs them for the new connections without a trigger.
        await waitForRun(server, 'google-calendar', 'cal-1', 'events', since, 120_000);
        firstCalendarRunMs = Date.now() - since;
    });
    after(async () => {
        await server?.stop();
        await calendar?.close();
        await gmail?.close();
        if (server) removeDir(server.dataDir);
        if (project) removeDir(project);
    });

    it(`calendar: ${CALENDAR_EVENTS.toLocaleString('en')} events in the first (auto-started) run, checkpointed per page`, async () => {
        console.log(`first calendar run (${CALENDAR_EVENTS} events): ${firstCalendarRunMs} ms`);
        const s = await waitForRun(server, 'google-calendar', 'cal-1', 'events', 0);
        assert.equal(s.type, 'INITIAL');
        assert.deepEqual(s.latestResult, { CalendarEvent: { added: CALENDAR_EVENTS, updated: 0, deleted: 0 } });
        assert.deepEqual(s.recordCount, { CalendarEvent: CALENDAR_EVENTS });
        // The pass completed: no page in progress, the primary calendar's sync token kept for the next run.
        const cp = s.checkpoint as Record<string, string>;
        assert.equal(cp['pageToken'], '');
        assert.ok(JSON.parse(cp['syncTokens']!)['primary']);
        const lists = calendar.requests.filter((r) => r.path === '/calendar/v3/calendars/primary/events' && r.method === 'GET');
        assert.equal(lists.length, CALENDAR_EVENTS / 1000, 'pages of 1,000');
        assert.ok(
            lists.every(
                (r) => r.query['maxResults'] === '1000' && r.query['showDeleted'] === 'true' && r.headers.authorization === `Bearer ${calendar.accessToken}`
            )
        );
        assert.ok(
            lists.slice(1).every((r) => r.query['pageToken']),
            'every later page follows nextPageToken'
        );

        const records = await allRecords<{ id: string; calendarId: string; summary: string }>('google-calendar', 'cal-1', 'CalendarEvent');
        assert.equal(records.length, CALENDAR_EVENTS);
        assert.equal(new Set(records.map((r) => r.id)).size, CALENDAR_EVENTS);
        assert.ok(records.every((r) => r.calendarId === 'primary'));
        const e42 = records.find((r) => r.id === calendar.calendar.generatedId(42));
        assert.equal(e42?.summary, 'Event 42');
    });

    it('calendar: an incremental run saves changes and deletes cancelled events', async () => {
        calendar.calendar.update(calendar.calendar.generatedId(1), { summary: 'Changed' });
        calendar.calendar.cancel(calendar.calendar.generatedId(2));
        const added = calendar.calendar.add({ summary: 'Added' });
        const mark = calendar.requests.length;
        const s = await syncNow('google-calendar', 'cal-1', 'events');
        const reqs = calendar.requests.slice(mark);
        assert.equal(reqs.length, 1, 'one incremental page');
        assert.ok(reqs[0]!.query['syncToken']);
        assert.equal(reqs[0]!.query['timeMin'], undefined, 'no window with a sync token');
        assert.equal(s.type, 'INCREMENTAL');
        assert.deepEqual(s.latestResult, { CalendarEvent: { added: 1, updated: 1, deleted: 1 } });
        assert.deepEqual(s.recordCount, { CalendarEvent: CALENDAR_EVENTS });

        const changed = await nango.listRecords<{ id: string; summary: string }>({
            providerConfigKey: 'google-calendar',
            connectionId: 'cal-1',
            model: 'CalendarEvent',
            ids: [calendar.calendar.generatedId(1), added.id]
        });
        assert.deepEqual(changed.records.map((r) => r.summary).sort(), ['Added', 'Changed']);
        assert.deepEqual(await deletedIds('google-calendar', 'cal-1', 'CalendarEvent'), [calendar.calendar.generatedId(2)]);
    });

    it('calendar: 410 on an expired sync token leads to a full pass, the next run is incremental again', async () => {
        calendar.calendar.expireSyncTokens();
        const mark = calendar.requests.length;
        const s = await syncNow('google-calendar', 'cal-1', 'events');
        const pass = calendar.requests.slice(mark);
        assert.equal(pass[0]!.status, 410);
        assert.ok(pass[0]!.query['syncToken']);
        assert.ok(pass.slice(1).every((r) => !r.query['syncToken'] && r.status === 200));
        assert.equal(pass.length, 1 + CALENDAR_EVENTS / 1000 + 1, 'the 410, then a full listing (the added event makes one more page)');
        // Unchanged events are not counted as updates; the cancelled one is not listed again as live.
        assert.deepEqual(s.latestResult, { CalendarEvent: { added: 0, updated: 0, deleted: 0 } }, 'a full re-listing of unchanged events changes nothing');
        assert.deepEqual(s.recordCount, { CalendarEvent: CALENDAR_EVENTS });

        const mark2 = calendar.requests.length;
        calendar.calendar.update(calendar.calendar.generatedId(3), { summary: 'After 410' });
        const s2 = await syncNow('google-calendar', 'cal-1', 'events');
        const inc = calendar.requests.slice(mark2);
        assert.equal(inc.length, 1);
        assert.ok(inc[0]!.query['syncToken']);
        assert.equal(inc[0]!.status, 200);
        assert.deepEqual(s2.latestResult, { CalendarEvent: { added: 0, updated: 1, deleted: 0 } });
    });

    it('calendar: a run that fails mid-listing keeps its pages and the next run resumes from the checkpointed page', async () => {
        calendar.calendar.addCalendar('team', 5_000);
        // Fail the 4th page of the team calendar with a non-retryable 400. The fake logs a request synchronously
        // before answering it, so arming the fault when the 3rd page is logged hits exactly the 4th request.
        const teamEvents = /^\/calendar\/v3\/calendars\/team\/events$/;
        let teamPages = 0;
        const push = calendar.requests.push.bind(calendar.requests);
        calendar.requests.push = (...items) => {
            for (const r of items) if (teamEvents.test(r.path) && ++teamPages === 3) calendar.failNext({ status: 400, path: teamEvents });
            return push(...items);
        };
        const since = Date.now();
        const mark = calendar.requests.length;
        const res = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: 'google-calendar',
                connection_id: 'cal-2',
                credentials: { type: 'OAUTH2', access_token: calendar.accessToken },
                metadata: { calendarsToSync: ['team'] }
            })
        });
        assert.equal(res.status, 201);
        const failed = await waitForRun(server, 'google-calendar', 'cal-2', 'events', since, 60_000, true);
        assert.equal(failed.latestExecutionStatus, 'ERROR');
        const firstRun = calendar.requests.slice(mark);
        assert.deepEqual(
            firstRun.map((r) => r.status),
            [200, 200, 200, 400]
        );
        assert.ok(
            firstRun.every((r) => teamEvents.test(r.path)),
            'cal-2 lists only its metadata calendar'
        );
        const cp = failed.checkpoint as Record<string, string>;
        assert.equal(cp['calendarId'], 'team');
        assert.equal(cp['pageToken'], firstRun[3]!.query['pageToken'], 'the checkpoint names the page that failed');
        assert.deepEqual(failed.recordCount, { CalendarEvent: 3_000 }, 'the saved pages stay');

        const mark2 = calendar.requests.length;
        const resumed = await syncNow('google-calendar', 'cal-2', 'events');
        const second = calendar.requests.slice(mark2);
        assert.deepEqual(
            second.map((r) => [r.status, r.query['pageToken']]),
            [
                [200, cp['pageToken']],
                [200, second[1]!.query['pageToken']]
            ]
        );
        assert.ok(second[1]!.query['pageToken']);
        assert.deepEqual(resumed.recordCount, { CalendarEvent: 5_000 });
        assert.ok(JSON.parse((resumed.checkpoint as Record<string, string>)['syncTokens']!)['team']);
        const teamRecords = await allRecords<{ id: string; calendarId: string }>('google-calendar', 'cal-2', 'CalendarEvent');
        assert.equal(teamRecords.length, 5_000);
        assert.ok(teamRecords.every((r) => r.calendarId === 'team'));
        assert.equal((await allRecords('google-calendar', 'cal-1', 'CalendarEvent')).length, CALENDAR_EVENTS, 'connections do not share records');
    });

    it('calendar actions: create, update, delete, availability, and their errors', async () => {
        const created = await nango.triggerAction<unknown, { id: string; summary: string; calendarId: string }>('google-calendar', 'cal-1', 'create-event', {
            summary: 'E2E',
            start: { dateTime: '2027-01-01T10:00:00Z' },
            end: { dateTime: '2027-01-01T11:00:00Z' }
        });
        assert.equal(created.summary, 'E2E');
        assert.equal(created.calendarId, 'primary');
        assert.equal(calendar.calendar.get(created.id)!.summary, 'E2E');

        const updated = await nango.triggerAction<unknown, { location: string; summary: string }>('google-calendar', 'cal-1', 'update-event', {
            eventId: created.id,
            location: 'Room 1'
        });
        assert.equal(updated.location, 'Room 1');
        assert.equal(updated.summary, 'E2E');
        const patch = calendar.requests.filter((r) => r.method === 'PATCH').at(-1)!;
        assert.deepEqual(patch.body, { location: 'Room 1' }, 'a patch carries only the changed field');

        assert.deepEqual(await nango.triggerAction('google-calendar', 'cal-1', 'delete-event', { eventId: created.id }), {
            eventId: created.id,
            deleted: true,
            alreadyDeleted: false
        });
        assert.equal(calendar.calendar.get(created.id)!.status, 'cancelled');
        assert.deepEqual(await nango.triggerAction('google-calendar', 'cal-1', 'delete-event', { eventId: created.id }), {
            eventId: created.id,
            deleted: true,
            alreadyDeleted: true
        });

        // Event 0 runs 00:00–00:30 on 2026-01-01 (one generated event per hour).
        const busy = await nango.triggerAction<unknown, { available: boolean; calendars: Array<{ calendarId: string; busy: unknown[] }> }>(
            'google-calendar',
            'cal-1',
            'check-availability',
            {
                timeMin: '2026-01-01T00:00:00Z',
                timeMax: '2026-01-01T01:00:00Z'
            }
        );
        assert.equal(busy.available, false);
        assert.deepEqual(busy.calendars, [{ calendarId: 'primary', busy: [{ start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:30:00.000Z' }] }]);
        const free = await nango.triggerAction<unknown, { available: boolean }>('google-calendar', 'cal-1', 'check-availability', {
            timeMin: '2026-01-01T00:40:00Z',
            timeMax: '2026-01-01T00:50:00Z'
        });
        assert.equal(free.available, true);

        const missing = await sdkFailure(nango.triggerAction('google-calendar', 'cal-1', 'update-event', { eventId: 'nope', summary: 'x' }));
        assert.equal(missing.status, 500);
        assert.equal(missing.data.error.code, 'action_script_failure');
        assert.deepEqual(missing.data.error.payload, { type: 'not_found', message: 'Event nope not found in calendar primary' });

        const invalid = await sdkFailure(nango.triggerAction('google-calendar', 'cal-1', 'create-event', { summary: 'no times' }));
        assert.equal(invalid.status, 500);
        const payload = invalid.data.error.payload as { type: string; issues: Array<{ path: string }> };
        assert.equal(payload.type, 'invalid_input');
        assert.ok(payload.issues.some((i) => i.path === 'start'));
    });

    it(`gmail: ${GMAIL_THREADS}-thread backfill, incremental changes and deletes, 404 history restart`, async () => {
        const first = await waitForRun(server, 'google-mail', 'mail-1', 'threads', 0);
        assert.deepEqual(first.latestResult, { GmailThread: { added: GMAIL_THREADS, updated: 0, deleted: 0 } });
        const threads = await allRecords<{ id: string; subject: string; messageCount: number }>('google-mail', 'mail-1', 'GmailThread');
        assert.equal(threads.length, GMAIL_THREADS);
        assert.deepEqual(new Set(threads.map((t) => t.id)), new Set(gmail.gmail.threadIds()));
        assert.ok(threads.every((t) => t.messageCount === 1 && t.subject));
        const cp = first.checkpoint as Record<string, string>;
        assert.equal(cp['pageToken'], '');
        assert.ok(cp['historyId']);

        const doomed = gmail.gmail.threadIds()[0]!;
        gmail.gmail.deleteThread(doomed);
        const fresh = gmail.gmail.addThread({ subject: 'New' });
        const grown = gmail.gmail.threadIds()[5]!;
        gmail.gmail.addMessage(grown, { subject: 'Re: more' });
        const mark = gmail.requests.length;
        const inc = await syncNow('google-mail', 'mail-1', 'threads');
        const incReqs = gmail.requests.slice(mark);
        assert.ok(incReqs.some((r) => r.path.endsWith('/history') && r.query['startHistoryId'] === cp['historyId']));
        assert.ok(!incReqs.some((r) => r.path.endsWith('/threads')), 'no thread listing on an incremental run');
        assert.deepEqual(inc.latestResult, { GmailThread: { added: 1, updated: 1, deleted: 1 } });
        const live = await allRecords<{ id: string; subject: string; messageCount: number }>('google-mail', 'mail-1', 'GmailThread');
        assert.equal(live.length, GMAIL_THREADS);
        assert.equal(live.find((t) => t.id === fresh)?.subject, 'New');
        assert.equal(live.find((t) => t.id === grown)?.messageCount, 2);
        assert.deepEqual(await deletedIds('google-mail', 'mail-1', 'GmailThread'), [doomed]);

        // Mail arrives, then Gmail forgets the history the checkpoint points into: history.list answers 404.
        const whileAway = gmail.gmail.addThread({ subject: 'While away' });
        gmail.gmail.expireHistory();
        const mark2 = gmail.requests.length;
        const restarted = await syncNow('google-mail', 'mail-1', 'threads');
        const again = gmail.requests.slice(mark2);
        assert.equal(again[0]!.status, 404);
        assert.ok(again[0]!.path.endsWith('/history'));
        assert.ok(
            again.some((r) => r.path.endsWith('/threads') && r.status === 200),
            'a new backfill lists threads'
        );
        assert.equal(restarted.latestExecutionStatus, 'SUCCESS');
        assert.deepEqual(restarted.recordCount, { GmailThread: GMAIL_THREADS + 1 });
        assert.equal(
            (await allRecords<{ id: string; subject: string }>('google-mail', 'mail-1', 'GmailThread')).find((t) => t.id === whileAway)?.subject,
            'While away'
        );
        assert.equal((restarted.checkpoint as Record<string, string>)['historyId'], String(gmail.gmail.historyId));
    });

    it('gmail actions: send-email and reply in the same thread, and a not_found reply', async () => {
        const sent = await nango.triggerAction<unknown, { id: string; threadId: string }>('google-mail', 'mail-1', 'send-email', {
            to: 'bob@example.com',
            subject: 'Hi',
            body: 'Hello'
        });
        const msg = gmail.sent.at(-1)!;
        assert.equal(msg.id, sent.id);
        assert.equal(msg.headers['subject'], 'Hi');
        assert.equal(msg.headers['to'], 'bob@example.com');
        assert.equal(Buffer.from(msg.body.replace(/\s+/g, ''), 'base64').toString('utf8'), 'Hello');

        const replied = await nango.triggerAction<unknown, { threadId: string }>('google-mail', 'mail-1', 'reply', {
            threadId: sent.threadId,
            messageId: sent.id,
            body: 'Again'
        });
        assert.equal(replied.threadId, sent.threadId);
        const reply = gmail.sent.at(-1)!;
        assert.equal(reply.headers['subject'], 'Re: Hi');
        assert.equal(reply.requestedThreadId, sent.threadId);
        assert.ok(reply.headers['in-reply-to']);
        assert.equal(reply.headers['in-reply-to'], reply.headers['references']);

        const missing = await sdkFailure(nango.triggerAction('google-mail', 'mail-1', 'reply', { threadId: sent.threadId, messageId: 'nope', body: 'x' }));
        assert.equal(missing.status, 500);
        assert.equal(missing.data.error.code, 'action_script_failure');
        assert.deepEqual(missing.data.error.payload, { type: 'not_found', message: 'Message nope not found' });
    });
});
