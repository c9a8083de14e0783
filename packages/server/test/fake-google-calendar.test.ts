// The loopback Calendar fake answers like the real events.list / insert / patch / delete / freeBusy.query.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCalendar, FAKE_CALENDAR_TOKEN, type FakeCalendar } from './support/fake-google-calendar.ts';

interface EventsPage {
    kind: string;
    items: Array<{ id: string; status: string; summary?: string; start?: { dateTime?: string } }>;
    nextPageToken?: string;
    nextSyncToken?: string;
}
interface GoogleErrorBody {
    error: { code: number; message: string; status: string; errors: Array<{ reason: string }> };
}

describe('fake Google Calendar API', () => {
    let fake: FakeCalendar;
    const call = async <T>(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (init.token !== null) headers['authorization'] = `Bearer ${init.token ?? FAKE_CALENDAR_TOKEN}`;
        const res = await fetch(`${fake.url}${path}`, {
            method: init.method ?? 'GET',
            headers,
            ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
        });
        const text = await res.text();
        return { status: res.status, data: (text ? JSON.parse(text) : undefined) as T };
    };
    const list = (q: Record<string, string>) => call<EventsPage>(`/calendar/v3/calendars/primary/events?${new URLSearchParams(q)}`);

    before(async () => {
        fake = await startFakeCalendar({ events: 100_000, calendars: { 'team@group.calendar.google.com': 3 } });
    });
    after(() => fake.close());

    it("refuses a missing or wrong Bearer token with Google's 401 envelope", async () => {
        for (const token of [null, 'wrong']) {
            const res = await call<GoogleErrorBody>('/calendar/v3/calendars/primary/events', { token });
            assert.equal(res.status, 401);
            assert.equal(res.data.error.code, 401);
            assert.equal(res.data.error.status, 'UNAUTHENTICATED');
            assert.equal(res.data.error.errors[0]!.reason, 'authError');
        }
    });

    it('pages 100,000 generated events lazily with maxResults/pageToken; nextSyncToken only on the last page', async () => {
        let pageToken: string | undefined;
        let count = 0;
        let pages = 0;
        let syncToken: string | undefined;
        const started = Date.now();
        do {
            const res = await list({ maxResults: '2500', singleEvents: 'true', orderBy: 'startTime', ...(pageToken ? { pageToken } : {}) });
            assert.equal(res.status, 200);
            assert.equal(res.data.kind, 'calendar#events');
            count += res.data.items.length;
            pages++;
            pageToken = res.data.nextPageToken;
            if (pageToken) assert.equal(res.data.nextSyncToken, undefined);
            else syncToken = res.data.nextSyncToken;
        } while (pageToken);
        assert.equal(count, 100_000);
        assert.equal(pages, 40);
        assert.ok(syncToken);
        assert.ok(Date.now() - started < 20_000, 'lazy generation keeps a full listing cheap');
    });

    it('caps maxResults at 2500 and defaults to 250', async () => {
        assert.equal((await list({ maxResults: '9999' })).data.items.length, 2500);
        assert.equal((await list({})).data.items.length, 250);
        assert.equal((await list({ maxResults: '0' })).status, 400);
    });

    it('filters by timeMin (end) and timeMax (start), exclusive', async () => {
        const res = await list({ timeMin: '2026-01-01T10:00:00Z', timeMax: '2026-01-01T13:00:00Z' });
        assert.deepEqual(
            res.data.items.map((e) => e.summary),
            ['Event 10', 'Event 11', 'Event 12']
        );
    });

    it('orderBy=startTime needs singleEvents=true', async () => {
        assert.equal((await list({ orderBy: 'startTime' })).status, 400);
    });

    it('an incremental list returns changed, added and cancelled events, then nothing', async () => {
        const small = await call<EventsPage>('/calendar/v3/calendars/team%40group.calendar.google.com/events');
        assert.equal(small.data.items.length, 3);
        const token = small.data.nextSyncToken!;
        fake.calendar.update(fake.calendar.generatedId(1, 'team@group.calendar.google.com'), { summary: 'Moved' }, 'team@group.calendar.google.com');
        fake.calendar.cancel(fake.calendar.generatedId(2, 'team@group.calendar.google.com'), 'team@group.calendar.google.com');
        const added = fake.calendar.add({ summary: 'New one' }, 'team@group.calendar.google.com');
        const inc = await call<EventsPage>(
            `/calendar/v3/calendars/team%40group.calendar.google.com/events?syncToken=${encodeURIComponent(token)}&showDeleted=true`
        );
        assert.equal(inc.status, 200);
        assert.deepEqual(
            inc.data.items.map((e) => [e.id, e.status, e.summary]),
            [
                [fake.calendar.generatedId(1, 'team@group.calendar.google.com'), 'confirmed', 'Moved'],
                [fake.calendar.generatedId(2, 'team@group.calendar.google.com'), 'cancelled', undefined],
                [added.id, 'confirmed', 'New one']
            ]
        );
        const again = await call<EventsPage>(
            `/calendar/v3/calendars/team%40group.calendar.google.com/events?syncToken=${encodeURIComponent(inc.data.nextSyncToken!)}`
        );
        assert.deepEqual(again.data.items, []);
        assert.ok(again.data.nextSyncToken);
        // A full listing hides the cancelled event unless showDeleted=true.
        const full = await call<EventsPage>('/calendar/v3/calendars/team%40group.calendar.google.com/events');
        assert.equal(full.data.items.length, 3);
        const withDeleted = await call<EventsPage>('/calendar/v3/calendars/team%40group.calendar.google.com/events?showDeleted=true');
        assert.equal(withDeleted.data.items.length, 4);
    });

    it('incremental answers page too', async () => {
        const first = await list({ maxResults: '1', timeMax: '2026-01-01T00:10:00Z' });
        assert.equal(first.data.nextPageToken, undefined);
        const token = first.data.nextSyncToken!;
        for (let i = 10; i < 15; i++) fake.calendar.update(fake.calendar.generatedId(i), { summary: `changed ${i}` });
        const ids: string[] = [];
        let pageToken: string | undefined;
        do {
            const res = await list({ syncToken: token, maxResults: '2', ...(pageToken ? { pageToken } : {}) });
            ids.push(...res.data.items.map((e) => e.id));
            pageToken = res.data.nextPageToken;
        } while (pageToken);
        assert.equal(ids.length, 5);
    });

    it('refuses a sync token combined with restrictions or showDeleted=false', async () => {
        const token = (await list({ maxResults: '1', timeMax: '2026-01-01T00:10:00Z' })).data.nextSyncToken!;
        const withTime = await list({ syncToken: token, timeMin: '2026-01-01T00:00:00Z' });
        assert.equal(withTime.status, 400);
        assert.equal((withTime.data as unknown as GoogleErrorBody).error.errors[0]!.reason, 'syncTokenWithRequestRestrictions');
        assert.equal((await list({ syncToken: token, showDeleted: 'false' })).status, 400);
    });

    it('answers 410 fullSyncRequired for expired and garbage sync tokens', async () => {
        const token = (await list({ maxResults: '1', timeMax: '2026-01-01T00:10:00Z' })).data.nextSyncToken!;
        fake.calendar.expireSyncTokens();
        for (const t of [token, 'not-a-token']) {
            const res = await list({ syncToken: t });
            assert.equal(res.status, 410);
            const body = res.data as unknown as GoogleErrorBody;
            assert.equal(body.error.code, 410);
            assert.equal(body.error.errors[0]!.reason, 'fullSyncRequired');
        }
    });

    it('inserts, patches and deletes events (204, then 410 deleted; 404 unknown)', async () => {
        const created = await call<{ id: string; status: string; summary: string; htmlLink: string }>('/calendar/v3/calendars/primary/events', {
            method: 'POST',
            body: { summary: 'Lunch', start: { dateTime: '2026-03-01T12:00:00Z' }, end: { dateTime: '2026-03-01T13:00:00Z' } }
        });
        assert.equal(created.status, 200);
        assert.equal(created.data.status, 'confirmed');
        assert.match(created.data.htmlLink, /^https:\/\/www\.google\.com\/calendar\/event\?eid=/);
        assert.equal((await call('/calendar/v3/calendars/primary/events', { method: 'POST', body: { summary: 'x' } })).status, 400);
        const patched = await call<{ summary: string; location: string }>(`/calendar/v3/calendars/primary/events/${created.data.id}`, {
            method: 'PATCH',
            body: { location: 'Cafe' }
        });
        assert.deepEqual([patched.data.summary, patched.data.location], ['Lunch', 'Cafe']);
        const del = await call(`/calendar/v3/calendars/primary/events/${created.data.id}`, { method: 'DELETE' });
        assert.equal(del.status, 204);
        assert.equal(del.data, undefined);
        assert.equal((await call(`/calendar/v3/calendars/primary/events/${created.data.id}`, { method: 'DELETE' })).status, 410);
        assert.equal((await call('/calendar/v3/calendars/primary/events/nope', { method: 'DELETE' })).status, 404);
        assert.equal((await call('/calendar/v3/calendars/unknown/events')).status, 404);
    });

    it('freeBusy.query reports busy intervals clipped to the window, and notFound calendars', async () => {
        const res = await call<{
            kind: string;
            calendars: Record<string, { busy: Array<{ start: string; end: string }>; errors?: Array<{ reason: string }> }>;
        }>('/calendar/v3/freeBusy', {
            method: 'POST',
            body: { timeMin: '2026-01-01T02:15:00Z', timeMax: '2026-01-01T04:00:00Z', items: [{ id: 'primary' }, { id: 'nobody@example.com' }] }
        });
        assert.equal(res.status, 200);
        assert.equal(res.data.kind, 'calendar#freeBusy');
        assert.deepEqual(res.data.calendars['primary']!.busy, [
            { start: '2026-01-01T02:15:00.000Z', end: '2026-01-01T02:30:00.000Z' },
            { start: '2026-01-01T03:00:00.000Z', end: '2026-01-01T03:30:00.000Z' }
        ]);
        assert.equal(res.data.calendars['nobody@example.com']!.errors![0]!.reason, 'notFound');
        assert.equal((await call('/calendar/v3/freeBusy', { method: 'POST', body: { items: [] } })).status, 400);
    });

    it('injects faults and logs every request', async () => {
        fake.failNext({ status: 503, path: /events$/ });
        assert.equal((await list({})).status, 503);
        assert.equal((await list({})).status, 200);
        const last = fake.requests.at(-1)!;
        assert.equal(last.method, 'GET');
        assert.equal(last.path, '/calendar/v3/calendars/primary/events');
        assert.equal(last.status, 200);
    });
});
