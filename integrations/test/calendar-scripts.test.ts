// The Calendar scripts run against the loopback fake through a stub `nango` (no pipeline needed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCalendar, type FakeCalendar } from '../../packages/server/test/support/fake-google-calendar.ts';
import { stubNango, run, ActionError, type Stub } from './support/stub-nango.ts';
import events from '../google-calendar/syncs/events.ts';
import createEvent from '../google-calendar/actions/create-event.ts';
import updateEvent from '../google-calendar/actions/update-event.ts';
import deleteEvent from '../google-calendar/actions/delete-event.ts';
import checkAvailability from '../google-calendar/actions/check-availability.ts';
import listEvents from '../google-calendar/actions/list-events.ts';
import getEvent from '../google-calendar/actions/get-event.ts';

describe('google-calendar scripts against the fake API', () => {
    let fake: FakeCalendar;
    let stub: Stub;
    const eventLists = () => fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/events'));

    before(async () => {
        fake = await startFakeCalendar({ events: 5000, calendars: { 'team@example.com': 10 } });
        stub = stubNango({ baseUrl: fake.url, accessToken: fake.accessToken, metadata: { calendarsToSync: ['primary', 'team@example.com'] } });
    });
    after(() => fake.close());

    it('marks each action read-only or destructive for MCP clients', () => {
        const hints = (a: { annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean } }) => [
            a.annotations?.readOnlyHint,
            a.annotations?.destructiveHint
        ];
        for (const a of [listEvents, getEvent, checkAvailability]) assert.deepEqual(hints(a), [true, undefined]);
        for (const a of [updateEvent, deleteEvent]) assert.deepEqual(hints(a), [false, true]);
        assert.deepEqual(hints(createEvent), [false, false], 'creating is additive: no confirmation');
    });

    it('is a zero-YAML sync definition', () => {
        assert.equal(events.type, 'sync');
        assert.equal(events.frequency, 'every 5 minutes');
        assert.equal(events.autoStart, true);
        assert.deepEqual(Object.keys(events.models), ['CalendarEvent']);
    });

    it('first run: full pass per calendar, paged, one checkpoint per page', async () => {
        fake.failNext({ status: 503, path: /events$/ }); // retried (retries: 3)
        await run(events, stub);
        assert.equal(stub.records.size, 5010);
        const lists = eventLists();
        assert.equal(lists.filter((r) => r.path.includes('/primary/')).length, 6, '5 pages + the injected 503');
        assert.equal(lists[0]!.query['showDeleted'], 'true');
        assert.equal(stub.checkpointsSaved, 6, '4 mid-pass + 1 per finished calendar');
        const cp = stub.checkpoint!;
        assert.equal(cp['calendarId'], '');
        assert.deepEqual(Object.keys(JSON.parse(String(cp['syncTokens']))), ['primary', 'team@example.com']);
        assert.equal((stub.records.get(fake.calendar.generatedId(0)) as { calendarId: string }).calendarId, 'primary');
    });

    it('next run: incremental with sync tokens; changes saved, cancelled events deleted', async () => {
        const before = fake.requests.length;
        fake.calendar.update(fake.calendar.generatedId(3), { summary: 'Changed' });
        fake.calendar.cancel(fake.calendar.generatedId(4));
        const added = fake.calendar.add({ summary: 'Added' }, 'team@example.com');
        await run(events, stub);
        const lists = fake.requests.slice(before);
        assert.equal(lists.length, 2);
        assert.ok(lists.every((r) => r.query['syncToken'] && !r.query['timeMin']));
        assert.equal((stub.records.get(fake.calendar.generatedId(3)) as { summary: string }).summary, 'Changed');
        assert.ok(stub.deleted.has(fake.calendar.generatedId(4)));
        assert.equal((stub.records.get(added.id) as { calendarId: string }).calendarId, 'team@example.com');
    });

    it('410 Gone: the token is dropped and that calendar is listed again in full', async () => {
        fake.calendar.expireSyncTokens();
        const before = fake.requests.length;
        await run(events, stub);
        const statuses = fake.requests
            .slice(before)
            .map((r) => [r.path.includes('/primary/') ? 'primary' : 'team', r.status, r.query['syncToken'] ? 'inc' : 'full']);
        assert.deepEqual(statuses.slice(0, 2), [
            ['primary', 410, 'inc'],
            ['primary', 200, 'full']
        ]);
        assert.ok(stub.logs.some((l) => l.level === 'warn' && /410/.test(String(l.message))));
        assert.equal(stub.records.size, 5000 - 1 + 11);
        // The next run is incremental again.
        const mark = fake.requests.length;
        await run(events, stub);
        assert.ok(fake.requests.slice(mark).every((r) => r.status === 200 && r.query['syncToken']));
    });

    it('resumes an interrupted pass from the checkpointed page', async () => {
        const resumed = stubNango({ baseUrl: fake.url, accessToken: fake.accessToken });
        fake.failNext({ status: 400, path: /events$/, times: 1 });
        // Page 1 succeeds, then a non-retryable failure stops the run: the checkpoint points at page 2.
        const orig = resumed.nango['get'] as (c: { params?: Record<string, unknown> }) => Promise<unknown>;
        let calls = 0;
        resumed.nango['get'] = async (c: { params?: Record<string, unknown> }) => {
            if (++calls === 2) throw Object.assign(new Error('boom'), { status: 500, response: { status: 500, data: {} } });
            return orig(c);
        };
        await assert.rejects(run(events, resumed)); // the injected 400 hits the first call
        calls = 0;
        await assert.rejects(run(events, resumed)); // page 1 ok, page 2 fails
        assert.equal(resumed.checkpoint!['calendarId'], 'primary');
        assert.ok(resumed.checkpoint!['pageToken']);
        resumed.nango['get'] = orig;
        const before = fake.requests.length;
        await run(events, resumed);
        assert.ok(fake.requests[before]!.query['pageToken'], 'the resumed run starts at the saved page');
        assert.equal(
            resumed.records.size,
            fake.calendar.liveCount(),
            'page 1 came from the failed run, the rest from the resumed one (primary only: no metadata)'
        );
    });

    it('create, update, delete events and check availability', async () => {
        const created = (await run(createEvent, stub, {
            summary: 'Lunch',
            start: { dateTime: '2026-06-01T12:00:00Z' },
            end: { dateTime: '2026-06-01T13:00:00Z' },
            attendees: [{ email: 'a@example.com' }]
        })) as { id: string; calendarId: string };
        assert.equal(created.calendarId, 'primary');
        assert.equal(fake.calendar.get(created.id)!.summary, 'Lunch');
        const updated = (await run(updateEvent, stub, { eventId: created.id, location: 'Cafe', sendUpdates: 'none' })) as { location: string; summary: string };
        assert.deepEqual([updated.summary, updated.location], ['Lunch', 'Cafe']);
        assert.equal(fake.requests.at(-1)!.query['sendUpdates'], 'none');
        assert.deepEqual(await run(deleteEvent, stub, { eventId: created.id }), { eventId: created.id, deleted: true, alreadyDeleted: false });
        assert.deepEqual(await run(deleteEvent, stub, { eventId: created.id }), { eventId: created.id, deleted: true, alreadyDeleted: true });
        const free = (await run(checkAvailability, stub, {
            timeMin: '2026-01-01T00:40:00Z',
            timeMax: '2026-01-01T00:50:00Z',
            calendarIds: ['primary', 'ghost@example.com']
        })) as { available: boolean; calendars: Array<{ busy: unknown[]; errors?: unknown[] }> };
        assert.equal(free.available, false);
        assert.deepEqual(free.calendars[0]!.busy, []);
        assert.ok(free.calendars[1]!.errors);
    });

    it('list events in a range with a text query, page by page; get one; a deleted one is not_found', async () => {
        const dentist = fake.calendar.add({
            summary: 'Dentist appointment',
            start: { dateTime: '2026-03-02T09:00:00Z' },
            end: { dateTime: '2026-03-02T10:00:00Z' }
        });
        fake.calendar.add({
            summary: 'Team sync',
            location: 'Dentist building',
            start: { dateTime: '2026-03-02T11:00:00Z' },
            end: { dateTime: '2026-03-02T12:00:00Z' }
        });
        fake.calendar.add({ summary: 'Dentist follow-up', start: { dateTime: '2026-04-02T09:00:00Z' }, end: { dateTime: '2026-04-02T10:00:00Z' } });
        const range = { timeMin: '2026-03-01T00:00:00Z', timeMax: '2026-03-03T00:00:00Z' };
        const first = (await run(listEvents, stub, { ...range, query: 'dentist', maxResults: 1 })) as {
            events: Array<{ id: string; summary: string }>;
            nextPageToken?: string;
        };
        const req = fake.requests.at(-1)!;
        assert.deepEqual(
            [req.query['q'], req.query['singleEvents'], req.query['orderBy'], req.query['timeMin']],
            ['dentist', 'true', 'startTime', range.timeMin]
        );
        assert.deepEqual(
            first.events.map((e) => e.summary),
            ['Dentist appointment']
        );
        assert.ok(first.nextPageToken);
        const second = (await run(listEvents, stub, { ...range, query: 'dentist', maxResults: 1, pageToken: first.nextPageToken })) as typeof first;
        assert.deepEqual(
            second.events.map((e) => e.summary),
            ['Team sync'],
            'the location matches too; the April event is outside the range'
        );
        assert.equal(second.nextPageToken, undefined);
        const all = (await run(listEvents, stub, range)) as typeof first;
        assert.ok(all.events.length > 2, 'without a query every event in the range');

        const got = (await run(getEvent, stub, { eventId: dentist.id })) as { id: string; summary: string; calendarId: string };
        assert.deepEqual([got.id, got.summary, got.calendarId], [dentist.id, 'Dentist appointment', 'primary']);
        fake.calendar.cancel(dentist.id);
        const gone = await run(getEvent, stub, { eventId: dentist.id }).catch((e: unknown) => e);
        assert.equal((gone as ActionError).payload['type'], 'not_found');
        const unknown = await run(getEvent, stub, { eventId: 'nope' }).catch((e: unknown) => e);
        assert.equal((unknown as ActionError).payload['type'], 'not_found');
        const bad = await run(listEvents, stub, { timeMin: range.timeMax, timeMax: range.timeMin }).catch((e: unknown) => e);
        assert.equal((bad as ActionError).payload['type'], 'invalid_input');
    });

    it('actions fail with ActionError payloads', async () => {
        const invalid = await run(createEvent, stub, { summary: 'x', start: { date: '2026-01-01' }, end: { dateTime: '2026-01-01T10:00:00Z' } }).catch(
            (e: unknown) => e
        );
        assert.ok(invalid instanceof ActionError);
        assert.equal(invalid.payload['type'], 'invalid_input');
        const missing = await run(updateEvent, stub, { eventId: 'nope', summary: 'x' }).catch((e: unknown) => e);
        assert.equal((missing as ActionError).payload['type'], 'not_found');
        const denied = stubNango({ baseUrl: fake.url, accessToken: 'revoked' });
        const err = await run(checkAvailability, denied, { timeMin: '2026-01-01T00:00:00Z', timeMax: '2026-01-02T00:00:00Z' }).catch((e: unknown) => e);
        assert.deepEqual((err as ActionError).payload, {
            type: 'provider_error',
            operation: 'freeBusy.query',
            status: 401,
            reason: 'authError',
            message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'
        });
    });
});
