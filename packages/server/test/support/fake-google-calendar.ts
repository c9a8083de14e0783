/**
 * A loopback stand-in for the Google Calendar API v3, for tests. It follows the real request and
 * response shapes of the calls our integration scripts make:
 *
 * - events.list  GET  /calendar/v3/calendars/{calendarId}/events
 *   https://developers.google.com/workspace/calendar/api/v3/reference/events/list
 *   maxResults (default 250, capped at 2500), pageToken/nextPageToken, q (free text, see matchesText), timeMin (exclusive bound on the
 *   end) / timeMax (exclusive bound on the start), showDeleted, singleEvents, orderBy (startTime needs
 *   singleEvents=true), syncToken/nextSyncToken (only on the last page). With a syncToken, timeMin,
 *   timeMax, orderBy, q, updatedMin and iCalUID are refused (400) and showDeleted=false is refused,
 *   because deleted events are always part of an incremental answer.
 *   An expired or unknown sync token answers 410 with reason `fullSyncRequired`
 *   (https://developers.google.com/workspace/calendar/api/guides/sync#full_sync_required_by_server).
 * - events.insert POST, events.get GET, events.patch PATCH, events.delete DELETE (204; 410 `deleted`
 *   when already cancelled; 404 when unknown) on …/events/{eventId}.
 * - freeBusy.query POST /calendar/v3/freeBusy {timeMin, timeMax, items:[{id}]} →
 *   {kind, timeMin, timeMax, calendars:{id:{busy:[{start,end}]}}}; unknown calendars get
 *   `errors:[{domain:'global', reason:'notFound'}]` (https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query).
 *
 * Scale: the `events` generated at start are never materialised. Event i is computed from its index
 * (one per hour from 2026-01-01T00:00Z, 30 minutes long); only events a test adds or changes are
 * stored, so 100,000 events cost a few bytes. Recurrence is not modelled: singleEvents is accepted and
 * checked (orderBy rule) but every event is already a single event. Ordering: generated events in start
 * order, then added events in insertion order (a changed event keeps its position).
 */
import { googleError, intParam, startGoogleHttpFake, type FakeRequest, type Fault, type RouteInput, type RouteResult } from './fake-google-http.ts';

export const FAKE_CALENDAR_OWNER = 'owner@fake-calendar.example';
export const FAKE_CALENDAR_TOKEN = 'fake-calendar-access-token';
const BASE_MS = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

export interface EventTime {
    dateTime?: string;
    date?: string;
    timeZone?: string;
}

/** The event resource fields the fake keeps; anything else a client sends is stored and echoed too. */
export interface FakeEvent {
    id: string;
    status: 'confirmed' | 'tentative' | 'cancelled';
    summary?: string;
    description?: string;
    location?: string;
    start: EventTime;
    end: EventTime;
    transparency?: 'opaque' | 'transparent';
    attendees?: Array<{ email: string; displayName?: string; responseStatus?: string; optional?: boolean }>;
    created: string;
    updated: string;
    [field: string]: unknown;
}

interface Stored {
    event: FakeEvent;
    seq: number;
}

/** One calendar's events: generated ones computed from their index, changed or added ones stored. */
class CalendarStore {
    readonly overrides = new Map<string, Stored>();
    readonly added: string[] = [];
    /** Every change in sequence order, for incremental sync. */
    readonly changes: Array<{ seq: number; id: string }> = [];

    readonly id: string;
    readonly generated: number;

    constructor(id: string, generated: number) {
        this.id = id;
        this.generated = generated;
    }

    /** Event ids are unique per calendar; other calendars get a prefix derived from their id. */
    generatedId(i: number): string {
        return `${this.prefix}evt${String(i).padStart(7, '0')}`;
    }

    private get prefix(): string {
        if (this.id === 'primary') return '';
        let h = 0;
        for (const ch of this.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
        return `c${h.toString(32)}`;
    }

    private generatedIndex(id: string): number | null {
        if (!id.startsWith(this.prefix)) return null;
        const m = /^evt(\d{7})$/.exec(id.slice(this.prefix.length));
        if (!m) return null;
        const i = Number(m[1]);
        return i < this.generated ? i : null;
    }

    private generate(i: number): Stored {
        const start = BASE_MS + i * HOUR;
        const created = new Date(BASE_MS - 30 * 24 * HOUR).toISOString();
        return {
            seq: 0,
            event: {
                id: this.generatedId(i),
                status: 'confirmed',
                summary: `Event ${i}`,
                start: { dateTime: new Date(start).toISOString(), timeZone: 'UTC' },
                end: { dateTime: new Date(start + HOUR / 2).toISOString(), timeZone: 'UTC' },
                created,
                updated: created
            }
        };
    }

    get(id: string): Stored | undefined {
        const o = this.overrides.get(id);
        if (o) return o;
        const i = this.generatedIndex(id);
        return i === null ? undefined : this.generate(i);
    }

    /** The event at a position of the full listing (generated first, then added). */
    at(position: number): Stored | undefined {
        if (position < this.generated) return this.get(this.generatedId(position));
        const id = this.added[position - this.generated];
        return id === undefined ? undefined : this.overrides.get(id);
    }

    get size(): number {
        return this.generated + this.added.length;
    }

    put(event: FakeEvent, seq: number, isNew: boolean): void {
        if (isNew) this.added.push(event.id);
        this.overrides.set(event.id, { event, seq });
        this.changes.push({ seq, id: event.id });
    }
}

/**
 * `q`: free-text search; every term must appear in the summary, description, location or an attendee's name or
 * email (case-insensitive), a simplification of Google's matching that keeps its documented fields.
 */
function matchesText(e: FakeEvent, terms: string[]): boolean {
    if (terms.length === 0) return true;
    const text = [e.summary, e.description, e.location, ...(e.attendees ?? []).flatMap((a) => [a.email, a.displayName])]
        .filter((v): v is string => typeof v === 'string')
        .join(' ')
        .toLowerCase();
    return terms.every((t) => text.includes(t));
}

function timeOf(t: EventTime | undefined): number {
    if (!t) return NaN;
    return Date.parse(t.dateTime ?? `${t.date}T00:00:00Z`);
}

/** A deleted event as an incremental answer shows it: little more than its id and status. */
function wireEvent(calendar: CalendarStore, s: Stored): Record<string, unknown> {
    const etag = `"${3_000_000_000_000 + s.seq}"`;
    if (s.event.status === 'cancelled') return { kind: 'calendar#event', etag, id: s.event.id, status: 'cancelled' };
    const owner = calendar.id === 'primary' ? FAKE_CALENDAR_OWNER : calendar.id;
    return {
        kind: 'calendar#event',
        etag,
        htmlLink: `https://www.google.com/calendar/event?eid=${s.event.id}`,
        iCalUID: `${s.event.id}@google.com`,
        sequence: 0,
        creator: { email: owner, self: true },
        organizer: { email: owner, self: true },
        reminders: { useDefault: true },
        eventType: 'default',
        ...s.event
    };
}

interface PageState {
    /** next position (full listing) or index into the change list (incremental) */
    o: number;
    /** snapshot sequence: the nextSyncToken handed out at the end of this listing */
    s: number;
    /** incremental: changes after this sequence */
    t?: number;
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decode<T>(token: string): T | null {
    try {
        return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
    } catch {
        return null;
    }
}

export interface FakeCalendarOptions {
    /** Events generated lazily in the primary calendar (default 0). */
    events?: number;
    /** Extra calendars: id → number of generated events. */
    calendars?: Record<string, number>;
    accessToken?: string;
}

export interface FakeCalendar {
    url: string;
    accessToken: string;
    /** Every request received, in order (method, path, query, headers, body, status). */
    requests: FakeRequest[];
    calendar: {
        /** Adds an event (default: a 30-minute confirmed event one hour after the last generated one). */
        add(fields?: Partial<FakeEvent>, calendarId?: string): FakeEvent;
        /** Changes fields of an event, as a user editing it would. */
        update(id: string, fields: Partial<FakeEvent>, calendarId?: string): FakeEvent;
        /** Cancels (deletes) an event: incremental syncs then report it with status cancelled. */
        cancel(id: string, calendarId?: string): void;
        get(id: string, calendarId?: string): FakeEvent | undefined;
        addCalendar(id: string, events?: number): void;
        /** Makes every sync token issued so far answer 410 fullSyncRequired. */
        expireSyncTokens(): void;
        /** Id of the i-th generated event of a calendar (default primary). */
        generatedId(i: number, calendarId?: string): string;
        /** Events that are not cancelled. */
        liveCount(calendarId?: string): number;
    };
    failNext(fault: Fault): void;
    setAccessToken(token: string): void;
    close(): Promise<void>;
}

/** Starts the fake Calendar API on 127.0.0.1 with an ephemeral port. */
export async function startFakeCalendar(opts: FakeCalendarOptions = {}): Promise<FakeCalendar> {
    const calendars = new Map<string, CalendarStore>();
    calendars.set('primary', new CalendarStore('primary', opts.events ?? 0));
    for (const [id, n] of Object.entries(opts.calendars ?? {})) calendars.set(id, new CalendarStore(id, n));
    let seq = 0;
    let epoch = 0;
    let nextId = 1;
    const now = () => new Date().toISOString();

    const store = (calendarId = 'primary'): CalendarStore => {
        const c = calendars.get(calendarId === FAKE_CALENDAR_OWNER ? 'primary' : calendarId);
        if (!c) throw new Error(`fake calendar: no calendar ${calendarId}`);
        return c;
    };
    const lookup = (calendarId: string) => calendars.get(calendarId === FAKE_CALENDAR_OWNER ? 'primary' : calendarId);

    const syncTokenFor = (c: CalendarStore, s: number) => encode({ c: c.id, s, e: epoch });

    function listEvents(c: CalendarStore, q: URLSearchParams): RouteResult {
        const maxResults = intParam(q, 'maxResults', 250, 2500);
        if (maxResults === null) return googleError(400, 'Invalid value for maxResults', 'invalid');
        if (q.get('orderBy') === 'startTime' && q.get('singleEvents') !== 'true') {
            return googleError(400, 'The requested ordering is not available for the particular query.', 'badRequest');
        }
        const syncToken = q.get('syncToken');
        const pageToken = q.get('pageToken');
        const page = pageToken === null ? null : decode<PageState>(pageToken);
        if (pageToken !== null && (!page || typeof page.o !== 'number')) return googleError(400, 'Invalid page token value.', 'invalid');
        if (syncToken !== null) {
            for (const p of ['timeMin', 'timeMax', 'orderBy', 'q', 'updatedMin', 'iCalUID']) {
                if (q.has(p)) return googleError(400, 'Sync token cannot be used with other request restrictions.', 'syncTokenWithRequestRestrictions');
            }
            if (q.get('showDeleted') === 'false') return googleError(400, 'Sync token cannot be used with showDeleted=false.', 'invalid');
            const token = decode<{ c: string; s: number; e: number }>(syncToken);
            if (!token || token.c !== c.id || token.e !== epoch || token.s > seq) {
                return googleError(410, 'Sync token is no longer valid, a full sync is required.', 'fullSyncRequired');
            }
            return incremental(c, page ?? { o: 0, s: seq, t: token.s }, maxResults);
        }
        const timeMin = q.has('timeMin') ? Date.parse(q.get('timeMin')!) : -Infinity;
        const timeMax = q.has('timeMax') ? Date.parse(q.get('timeMax')!) : Infinity;
        if (Number.isNaN(timeMin) || Number.isNaN(timeMax)) return googleError(400, 'Bad Request', 'badRequest');
        if (timeMax < timeMin) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty');
        const showDeleted = q.get('showDeleted') === 'true';
        const state = page ?? { o: 0, s: seq };
        const terms = (q.get('q') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
        const matches = (s: Stored) =>
            (showDeleted || s.event.status !== 'cancelled') && timeOf(s.event.end) > timeMin && timeOf(s.event.start) < timeMax && matchesText(s.event, terms);
        const items: Record<string, unknown>[] = [];
        let position = state.o;
        for (; position < c.size && items.length < maxResults; position++) {
            const s = c.at(position)!;
            if (matches(s)) items.push(wireEvent(c, s));
        }
        // Skip non-matching events up to the next match so the last page carries the nextSyncToken.
        while (position < c.size && !matches(c.at(position)!)) position++;
        return listPage(c, items, position < c.size ? { ...state, o: position } : null, state.s);
    }

    function incremental(c: CalendarStore, state: PageState, maxResults: number): RouteResult {
        const ids: string[] = [];
        const seen = new Set<string>();
        for (const ch of c.changes) {
            if (ch.seq <= state.t! || ch.seq > state.s || seen.has(ch.id)) continue;
            seen.add(ch.id);
            ids.push(ch.id);
        }
        const slice = ids.slice(state.o, state.o + maxResults);
        const items = slice.map((id) => wireEvent(c, c.get(id)!));
        const more = state.o + maxResults < ids.length;
        return listPage(c, items, more ? { ...state, o: state.o + maxResults } : null, state.s);
    }

    function listPage(c: CalendarStore, items: Record<string, unknown>[], next: PageState | null, snapshot: number): RouteResult {
        return {
            status: 200,
            body: {
                kind: 'calendar#events',
                etag: `"p${snapshot}"`,
                summary: c.id === 'primary' ? FAKE_CALENDAR_OWNER : c.id,
                updated: now(),
                timeZone: 'UTC',
                accessRole: 'owner',
                defaultReminders: [],
                ...(next ? { nextPageToken: encode(next) } : { nextSyncToken: syncTokenFor(c, snapshot) }),
                items
            }
        };
    }

    function insert(c: CalendarStore, fields: Partial<FakeEvent>): FakeEvent {
        const at = now();
        const start = BASE_MS + (c.generated + nextId) * HOUR;
        const event: FakeEvent = {
            status: 'confirmed',
            start: { dateTime: new Date(start).toISOString(), timeZone: 'UTC' },
            end: { dateTime: new Date(start + HOUR / 2).toISOString(), timeZone: 'UTC' },
            ...fields,
            id: fields.id ?? `new${String(nextId++).padStart(6, '0')}`,
            created: at,
            updated: at
        };
        c.put(event, ++seq, true);
        return event;
    }

    function change(c: CalendarStore, id: string, fields: Partial<FakeEvent>): FakeEvent | null {
        const current = c.get(id);
        if (!current) return null;
        const event: FakeEvent = { ...current.event, ...fields, id, created: current.event.created, updated: now() };
        c.put(event, ++seq, false);
        return event;
    }

    function freeBusy(body: unknown): RouteResult {
        const b = (body ?? {}) as { timeMin?: string; timeMax?: string; items?: Array<{ id?: string }> };
        if (!b.timeMin) return googleError(400, 'Missing timeMin parameter.', 'required');
        if (!b.timeMax) return googleError(400, 'Missing timeMax parameter.', 'required');
        const min = Date.parse(b.timeMin);
        const max = Date.parse(b.timeMax);
        if (Number.isNaN(min) || Number.isNaN(max)) return googleError(400, 'Bad Request', 'badRequest');
        if (max < min) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty');
        const result: Record<string, unknown> = {};
        for (const item of b.items ?? []) {
            const id = item.id ?? '';
            const c = lookup(id);
            if (!c) {
                result[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
                continue;
            }
            const busy: Array<{ start: string; end: string }> = [];
            for (let p = 0; p < c.size; p++) {
                const e = c.at(p)!.event;
                if (e.status === 'cancelled' || e.transparency === 'transparent') continue;
                const s = timeOf(e.start);
                const en = timeOf(e.end);
                if (en > min && s < max) busy.push({ start: new Date(Math.max(s, min)).toISOString(), end: new Date(Math.min(en, max)).toISOString() });
            }
            result[id] = { busy };
        }
        return {
            status: 200,
            body: { kind: 'calendar#freeBusy', timeMin: new Date(min).toISOString(), timeMax: new Date(max).toISOString(), calendars: result }
        };
    }

    function route({ method, path, search, body }: RouteInput): RouteResult {
        if (path === '/calendar/v3/freeBusy') return method === 'POST' ? freeBusy(body) : googleError(405, 'Method Not Allowed', 'methodNotAllowed');
        const m = /^\/calendar\/v3\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
        if (!m) return googleError(404, 'Not Found', 'notFound');
        const c = lookup(decodeURIComponent(m[1]!));
        if (!c) return googleError(404, 'Not Found', 'notFound');
        const eventId = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
        if (eventId === undefined) {
            if (method === 'GET') return listEvents(c, search);
            if (method !== 'POST') return googleError(405, 'Method Not Allowed', 'methodNotAllowed');
            const fields = (body ?? {}) as Partial<FakeEvent>;
            if (!fields.end) return googleError(400, 'Missing end time.', 'required');
            if (!fields.start) return googleError(400, 'Missing start time.', 'required');
            return { status: 200, body: wireEvent(c, { event: insert(c, { ...fields, id: undefined as never }), seq }) };
        }
        const current = c.get(eventId);
        if (!current) return googleError(404, 'Not Found', 'notFound');
        if (method === 'GET') return { status: 200, body: wireEvent(c, current) };
        if (method === 'DELETE') {
            if (current.event.status === 'cancelled') return googleError(410, 'Resource has been deleted', 'deleted');
            change(c, eventId, { status: 'cancelled' });
            return { status: 204 };
        }
        if (method === 'PATCH' || method === 'PUT') {
            const fields = { ...((body ?? {}) as Partial<FakeEvent>) };
            delete fields.id;
            const event = change(c, eventId, fields)!;
            return { status: 200, body: wireEvent(c, { event, seq }) };
        }
        return googleError(405, 'Method Not Allowed', 'methodNotAllowed');
    }

    const http = await startGoogleHttpFake(route, opts.accessToken ?? FAKE_CALENDAR_TOKEN);
    return {
        url: http.url,
        get accessToken() {
            return http.accessToken;
        },
        requests: http.requests,
        calendar: {
            add: (fields = {}, calendarId) => insert(store(calendarId), fields),
            update: (id, fields, calendarId) => {
                const e = change(store(calendarId), id, fields);
                if (!e) throw new Error(`fake calendar: no event ${id}`);
                return e;
            },
            cancel: (id, calendarId) => {
                if (!change(store(calendarId), id, { status: 'cancelled' })) throw new Error(`fake calendar: no event ${id}`);
            },
            get: (id, calendarId) => store(calendarId).get(id)?.event,
            addCalendar: (id, events = 0) => void calendars.set(id, new CalendarStore(id, events)),
            expireSyncTokens: () => void epoch++,
            generatedId: (i, calendarId) => store(calendarId).generatedId(i),
            liveCount: (calendarId) => {
                const c = store(calendarId);
                let n = c.generated + c.added.length;
                for (const s of c.overrides.values()) if (s.event.status === 'cancelled') n--;
                return n;
            }
        },
        failNext: http.failNext,
        setAccessToken: (token) => void (http.accessToken = token),
        close: http.close
    };
}
