// End to end: integrations/ compiled by the Switchboard CLI, deployed to a real server, run by the
// scheduler/runtime against the loopback Google fakes, read back through @nangohq/node.
//
// The functions pipeline (CLI compile/deploy → scheduler → runtime → records) is being built on other
// branches; until it lands every test here is skipped with the reason below. The integrator un-skips them
// (set PIPELINE_READY to true) and adjusts `compileAndDeploy` to the CLI's final command line if needed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startFakeCalendar, type FakeCalendar } from './support/fake-google-calendar.ts';
import { startFakeGmail, type FakeGmail } from './support/fake-gmail.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const integrationsDir = `${repoRoot}integrations`;
const cliEntry = `${repoRoot}packages/cli/src/main.ts`;
const PIPELINE_READY = false;
const skip = PIPELINE_READY && existsSync(cliEntry) ? false : 'needs the functions pipeline (issue #4)';

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

/** `switchboard compile` then `switchboard deploy` of integrations/ against the server. */
function compileAndDeploy(server: TestServer): void {
    const env = { ...process.env, SWITCHBOARD_HOST: server.url, SWITCHBOARD_SECRET_KEY: server.secretKey, NANGO_HOSTPORT: server.url, NANGO_SECRET_KEY_DEV: server.secretKey };
    for (const args of [['compile'], ['deploy', '--auto-confirm']]) {
        const res = spawnSync(process.execPath, [cliEntry, ...args], { cwd: integrationsDir, env, encoding: 'utf8' });
        assert.equal(res.status, 0, `switchboard ${args.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
    }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

describe('Google integrations end to end', { skip }, () => {
    let calendar: FakeCalendar;
    let gmail: FakeGmail;
    let server: TestServer;
    let nango: Nango;

    const importConnection = (providerConfigKey: string, connectionId: string, accessToken: string, metadata?: Record<string, unknown>) =>
        fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: providerConfigKey,
                connection_id: connectionId,
                credentials: { type: 'OAUTH2', access_token: accessToken, refresh_token: 'unused', expires_at: new Date(Date.now() + 3_600_000).toISOString() },
                ...(metadata ? { metadata } : {})
            })
        });

    /** Runs a sync now and waits until a run that started after the trigger succeeded. */
    async function syncNow(key: string, connectionId: string, sync: string): Promise<void> {
        const since = Date.now();
        await nango.triggerSync(key, [sync], connectionId);
        await waitFor(`${sync} to finish`, async () => {
            const status = await nango.syncStatus(key, [sync], connectionId);
            const s = status.syncs[0];
            if (s?.status === 'ERROR') throw new Error(`${sync} failed: ${JSON.stringify(s)}`);
            return s?.status === 'SUCCESS' && s.finishedAt && Date.parse(s.finishedAt) >= since ? true : undefined;
        });
    }

    async function allRecords<T>(key: string, connectionId: string, model: string): Promise<T[]> {
        const out: T[] = [];
        let cursor: string | null | undefined;
        do {
            const page = await nango.listRecords<T & { id: string }>({ providerConfigKey: key, connectionId, model, limit: 10_000, ...(cursor ? { cursor } : {}) });
            out.push(...(page.records as T[]));
            cursor = page.next_cursor;
        } while (cursor);
        return out;
    }

    before(async () => {
        calendar = await startFakeCalendar({ events: 100_000 });
        gmail = await startFakeGmail({ threads: 150 });
        server = await startServer({ SWITCHBOARD_PROVIDERS: writeProvidersFile(providers(calendar.url, gmail.url)) });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'google-calendar-test', unique_key: 'google-calendar', credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' } });
        await nango.createIntegration({ provider: 'gmail-test', unique_key: 'google-mail', credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' } });
        compileAndDeploy(server);
        assert.equal((await importConnection('google-calendar', 'cal-1', calendar.accessToken)).status, 201);
        assert.equal((await importConnection('google-mail', 'mail-1', gmail.accessToken)).status, 201);
    });
    after(async () => {
        await server?.stop();
        await calendar?.close();
        await gmail?.close();
        if (server) removeDir(server.dataDir);
    });

    it('calendar: 100,000 events in the first run, checkpointed per page', async () => {
        await syncNow('google-calendar', 'cal-1', 'events');
        const records = await allRecords<{ id: string; calendarId: string }>('google-calendar', 'cal-1', 'CalendarEvent');
        assert.equal(records.length, 100_000);
        assert.ok(records.every((r) => r.calendarId === 'primary'));
        assert.equal(calendar.requests.filter((r) => r.path.endsWith('/events')).length, 100, '100 pages of 1,000');
    });

    it('calendar: incremental run saves changes and deletes cancelled events', async () => {
        calendar.calendar.update(calendar.calendar.generatedId(1), { summary: 'Changed' });
        calendar.calendar.cancel(calendar.calendar.generatedId(2));
        const mark = calendar.requests.length;
        await syncNow('google-calendar', 'cal-1', 'events');
        assert.ok(calendar.requests.slice(mark).every((r) => r.query['syncToken']));
        const changed = await nango.listRecords<{ id: string; summary: string }>({ providerConfigKey: 'google-calendar', connectionId: 'cal-1', model: 'CalendarEvent', ids: [calendar.calendar.generatedId(1)] });
        assert.equal(changed.records[0]!.summary, 'Changed');
        const deleted = await nango.listRecords({ providerConfigKey: 'google-calendar', connectionId: 'cal-1', model: 'CalendarEvent', filter: 'deleted' });
        assert.deepEqual(deleted.records.map((r) => r.id), [calendar.calendar.generatedId(2)]);
    });

    it('calendar: 410 on an expired sync token leads to a full pass, the next run is incremental', async () => {
        calendar.calendar.expireSyncTokens();
        const mark = calendar.requests.length;
        await syncNow('google-calendar', 'cal-1', 'events');
        const after = calendar.requests.slice(mark);
        assert.equal(after[0]!.status, 410);
        assert.ok(after.slice(1).every((r) => !r.query['syncToken']));
    });

    it('calendar actions: create, update, delete, availability', async () => {
        const created = await nango.triggerAction<unknown, { id: string }>('google-calendar', 'cal-1', 'create-event', { summary: 'E2E', start: { dateTime: '2027-01-01T10:00:00Z' }, end: { dateTime: '2027-01-01T11:00:00Z' } });
        assert.equal(calendar.calendar.get(created.id)!.summary, 'E2E');
        await nango.triggerAction('google-calendar', 'cal-1', 'update-event', { eventId: created.id, location: 'Room 1' });
        assert.equal(calendar.calendar.get(created.id)!.location, 'Room 1');
        assert.deepEqual(await nango.triggerAction('google-calendar', 'cal-1', 'delete-event', { eventId: created.id }), { eventId: created.id, deleted: true, alreadyDeleted: false });
        const free = await nango.triggerAction<unknown, { available: boolean }>('google-calendar', 'cal-1', 'check-availability', { timeMin: '2026-01-01T00:00:00Z', timeMax: '2026-01-01T01:00:00Z' });
        assert.equal(free.available, false);
    });

    it('gmail: backfill, incremental changes and deletes, 404 restart', async () => {
        await syncNow('google-mail', 'mail-1', 'threads');
        assert.equal((await allRecords('google-mail', 'mail-1', 'GmailThread')).length, 150);
        const doomed = gmail.gmail.threadIds()[0]!;
        gmail.gmail.deleteThread(doomed);
        const fresh = gmail.gmail.addThread({ subject: 'New' });
        await syncNow('google-mail', 'mail-1', 'threads');
        const live = await allRecords<{ id: string }>('google-mail', 'mail-1', 'GmailThread');
        assert.ok(live.some((t) => t.id === fresh));
        const deleted = await nango.listRecords({ providerConfigKey: 'google-mail', connectionId: 'mail-1', model: 'GmailThread', filter: 'deleted' });
        assert.ok(deleted.records.some((r) => r.id === doomed));
        gmail.gmail.expireHistory();
        await syncNow('google-mail', 'mail-1', 'threads');
        assert.ok(gmail.requests.some((r) => r.path.endsWith('/history') && r.status === 404));
    });

    it('gmail actions: send-email and reply', async () => {
        const sent = await nango.triggerAction<unknown, { threadId: string }>('google-mail', 'mail-1', 'send-email', { to: 'bob@example.com', subject: 'Hi', body: 'Hello' });
        assert.equal(gmail.sent.at(-1)!.headers['subject'], 'Hi');
        const messageId = gmail.sent.at(-1)!.id;
        const replied = await nango.triggerAction<unknown, { threadId: string }>('google-mail', 'mail-1', 'reply', { threadId: sent.threadId, messageId, body: 'Again' });
        assert.equal(replied.threadId, sent.threadId);
    });
});
