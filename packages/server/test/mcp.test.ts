// Issue #17: the MCP server at /mcp, driven by the official MCP client SDK, against the integrations/ scripts deployed
// with `switchboard deploy` and the loopback Google Calendar and Gmail stand-ins; on the embedded default and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startServer, writeProvidersFile, removeDir, storageEnv, type TestServer } from './support/server.ts';
import { startFakeCalendar, type FakeCalendar } from './support/fake-google-calendar.ts';
import { startFakeGmail, type FakeGmail } from './support/fake-gmail.ts';
import { copyProject, runCli, waitForRun } from './support/cli.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { issueAgentToken, mcpClient, rawMcp, toolErrorOf, type McpTarget } from './support/mcp.ts';

const integrationsDir = new URL('../../../integrations', import.meta.url).pathname;

/** The calendar's tokens are refreshed at a real OAuth server (oidc-provider), its API is the stand-in. */
const providers = (calendarUrl: string, gmailUrl: string, as: TestAuthServer) =>
    `google-calendar-test:
  display_name: google-calendar-test
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  token_request_auth_method: basic
  proxy:
    base_url: ${calendarUrl}
gmail-test:
  display_name: gmail-test
  auth_mode: OAUTH2
  authorization_url: ${gmailUrl}/auth
  token_url: ${gmailUrl}/token
  proxy:
    base_url: ${gmailUrl}
`;

type Json = Record<string, unknown>;
const call = (c: Client, name: string, args: Json) => c.callTool({ name, arguments: args }) as Promise<CallToolResult>;

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`MCP server (${backend})`, () => {
        let calendar: FakeCalendar;
        let gmail: FakeGmail;
        let auth: TestAuthServer;
        let server: TestServer;
        let project: string;
        let dropDb: (() => Promise<void>) | undefined;
        let dbUrl = '';
        const clients: Client[] = [];
        const api = (path: string, init: RequestInit & { key?: string } = {}) =>
            fetch(`${server.url}${path}`, {
                ...init,
                headers: { authorization: `Bearer ${init.key ?? server.secretKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) }
            });
        const importConnection = async (key: string, connectionId: string, endUser: string, credentials: Json) => {
            const res = await api('/connections', {
                method: 'POST',
                body: JSON.stringify({ provider_config_key: key, connection_id: connectionId, end_user: { id: endUser }, credentials })
            });
            assert.equal(res.status, 201, await res.text());
        };
        const live = (token: string) => ({
            type: 'OAUTH2',
            access_token: token,
            refresh_token: 'unused',
            expires_at: new Date(Date.now() + 3_600_000).toISOString()
        });
        const target = (bearer: string, providerConfigKey: string, connectionId: string): McpTarget => ({
            url: server.url,
            bearer,
            providerConfigKey,
            connectionId
        });
        const open = async (t: McpTarget, opts?: Parameters<typeof mcpClient>[1]) => {
            const c = await mcpClient(t, opts);
            clients.push(c);
            return c;
        };

        before(async () => {
            calendar = await startFakeCalendar({ events: 48 });
            gmail = await startFakeGmail({ threads: 5 });
            auth = await startAuthServer();
            const storage = await storageEnv(backend);
            dropDb = storage.drop;
            dbUrl = storage.env['SWITCHBOARD_DATABASE_URL'] ?? '';
            server = await startServer({
                ...storage.env,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(providers(calendar.url, gmail.url, auth)),
                SWITCHBOARD_SCHEDULER_TICK_MS: '200'
            });
            for (const [provider, key, client_id, client_secret] of [
                ['google-calendar-test', 'google-calendar', auth.clientId, auth.clientSecret],
                ['gmail-test', 'google-mail', 'id', 'secret']
            ] as const) {
                const res = await api('/integrations', {
                    method: 'POST',
                    body: JSON.stringify({ provider, unique_key: key, credentials: { type: 'OAUTH2', client_id, client_secret } })
                });
                assert.equal(res.status, 200, await res.text());
            }
            project = copyProject(integrationsDir);
            const res = await runCli(['deploy', 'dev', '--dir', project, '--host', server.url], { SWITCHBOARD_SECRET_KEY: server.secretKey });
            assert.equal(res.code, 0, `switchboard deploy failed:\n${res.stdout}\n${res.stderr}`);
            const since = Date.now();
            await importConnection('google-calendar', 'cal-a', 'user-a', live(calendar.accessToken));
            await importConnection('google-mail', 'mail-a', 'user-a', live(gmail.accessToken));
            await importConnection('google-calendar', 'cal-b', 'user-b', live(calendar.accessToken));
            // No refresh token and an access token past its expiry that Google refuses: the first 401 expires it.
            await importConnection('google-calendar', 'cal-stale', 'user-a', {
                type: 'OAUTH2',
                access_token: 'stale-token',
                expires_at: new Date(Date.now() - 60_000).toISOString()
            });
            // Due for a refresh (expires within the 15-minute window) with a refresh token the OAuth server refuses (invalid_grant).
            await importConnection('google-calendar', 'cal-refused', 'user-a', {
                type: 'OAUTH2',
                access_token: calendar.accessToken,
                refresh_token: 'not-a-grant-the-server-issued',
                expires_at: new Date(Date.now() + 60_000).toISOString()
            });
            // The Gmail sync is auto-started: its threads are what the cached-records tool reads.
            await waitForRun(server, 'google-mail', 'mail-a', 'threads', since, 120_000);
        });
        after(async () => {
            for (const c of clients) await c.close().catch(() => undefined);
            await server?.stop();
            await calendar?.close();
            await gmail?.close();
            await auth?.close();
            await dropDb?.();
            if (server) removeDir(server.dataDir);
            if (project) removeDir(project);
        });

        it("lists a connection's tools with Nango's headers: every deployed action with its schema and hints, plus the cached models", async () => {
            const c = await open(target(server.secretKey, 'google-calendar', 'cal-a'));
            const { tools } = await c.listTools();
            const byName = new Map(tools.map((t) => [t.name, t]));
            assert.deepEqual([...byName.keys()].sort(), [
                'check-availability',
                'create-event',
                'delete-event',
                'get-event',
                'list-events',
                'list_records_CalendarEvent',
                'update-event'
            ]);
            const list = byName.get('list-events')!;
            assert.equal(list.description, 'Lists Google Calendar events between two times, optionally matching a text query');
            assert.deepEqual([list.annotations?.readOnlyHint, list.annotations?.idempotentHint], [true, true]);
            assert.ok(list.inputSchema.properties?.['query'] && list.inputSchema.properties['timeMin']);
            assert.deepEqual(list.inputSchema.required?.sort(), ['timeMax', 'timeMin']);
            assert.equal(list.inputSchema.properties?.['confirmationToken'], undefined, 'a read-only tool needs no confirmation');
            const del = byName.get('delete-event')!;
            assert.deepEqual([del.annotations?.readOnlyHint, del.annotations?.destructiveHint], [false, true]);
            assert.ok(del.inputSchema.properties?.['confirmationToken'], 'destructive tools take the confirmation token');
            assert.equal(byName.get('create-event')!.annotations?.destructiveHint, false);
            assert.equal(byName.get('list_records_CalendarEvent')!.annotations?.readOnlyHint, true);
        });

        it('calls a read tool: list events in a range matching a text query, read live from the provider', async () => {
            const dentist = calendar.calendar.add({
                summary: 'Dentist',
                start: { dateTime: '2026-05-04T09:00:00Z' },
                end: { dateTime: '2026-05-04T10:00:00Z' }
            });
            calendar.calendar.add({ summary: 'Lunch', start: { dateTime: '2026-05-04T12:00:00Z' }, end: { dateTime: '2026-05-04T13:00:00Z' } });
            const c = await open(target(server.secretKey, 'google-calendar', 'cal-a'));
            const sent = calendar.requests.length;
            const r = await call(c, 'list-events', { timeMin: '2026-05-04T00:00:00Z', timeMax: '2026-05-05T00:00:00Z', query: 'dentist' });
            assert.equal(r.isError, undefined, JSON.stringify(r));
            const events = (r.structuredContent as { events: Array<{ id: string; summary: string }> }).events;
            assert.deepEqual(
                events.map((e) => [e.id, e.summary]),
                [[dentist.id, 'Dentist']]
            );
            assert.deepEqual(JSON.parse((r.content[0] as { text: string }).text), r.structuredContent, 'the JSON text carries the same output');
            // The connection's events sync may call the stand-in meanwhile: look for the tool's request among the new ones.
            assert.ok(
                calendar.requests.slice(sent).some((req) => req.query['q'] === 'dentist'),
                'the text query reached Google as q'
            );
        });

        it('a destructive tool without elicitation: refused with a confirmation token, done with it, the token used once', async () => {
            const event = calendar.calendar.add({ summary: 'To delete' });
            const c = await open(target(server.secretKey, 'google-calendar', 'cal-a'));
            const deletes = () => calendar.requests.filter((r) => r.method === 'DELETE').length;
            const before = deletes();
            const first = await call(c, 'delete-event', { eventId: event.id });
            const err = toolErrorOf(first)!;
            assert.equal(err['type'], 'confirmation_required');
            assert.match(String(err['message']), /Ask the user/);
            const token = String(err['confirmationToken']);
            assert.equal(deletes(), before, 'nothing was sent to Google');
            assert.equal(calendar.calendar.get(event.id)!.status, 'confirmed');

            const other = calendar.calendar.add({ summary: 'Not confirmed' });
            const wrongArgs = await call(c, 'delete-event', { eventId: other.id, confirmationToken: token });
            assert.equal(toolErrorOf(wrongArgs)!['type'], 'invalid_confirmation', 'a token confirms only the call it was issued for');
            const invented = await call(c, 'delete-event', { eventId: event.id, confirmationToken: 'sb_confirm_made-up' });
            assert.equal(toolErrorOf(invented)!['type'], 'invalid_confirmation');
            assert.equal(deletes(), before);

            const done = await call(c, 'delete-event', { eventId: event.id, confirmationToken: token });
            assert.deepEqual(done.structuredContent, { eventId: event.id, deleted: true, alreadyDeleted: false });
            assert.equal(calendar.calendar.get(event.id)!.status, 'cancelled');
            assert.equal(deletes(), before + 1);
            const again = await call(c, 'delete-event', { eventId: event.id, confirmationToken: token });
            assert.equal(toolErrorOf(again)!['type'], 'invalid_confirmation', 'a token is used once');
            assert.equal(deletes(), before + 1);

            // The token is bound to the caller too: an agent token cannot use one issued to the secret key.
            const agent = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a' });
            const second = toolErrorOf(await call(c, 'delete-event', { eventId: other.id }))!;
            const asAgent = await open(target(agent.token, 'google-calendar', 'cal-a'));
            const stolen = await call(asAgent, 'delete-event', { eventId: other.id, confirmationToken: String(second['confirmationToken']) });
            assert.equal(toolErrorOf(stolen)!['type'], 'invalid_confirmation');
            assert.equal(calendar.calendar.get(other.id)!.status, 'confirmed');
        });

        it('a destructive tool with elicitation: the client asks the user; declined does nothing, accepted runs', async () => {
            const event = calendar.calendar.add({ summary: 'Old title' });
            const asked: string[] = [];
            let answer = false;
            const c = await open(target(server.secretKey, 'google-calendar', 'cal-a'), { confirm: () => answer, asked });
            const declined = await call(c, 'update-event', { eventId: event.id, summary: 'New title' });
            assert.equal(toolErrorOf(declined)!['type'], 'declined');
            assert.equal(calendar.calendar.get(event.id)!.summary, 'Old title');
            assert.match(asked[0]!, /update-event.*cal-a.*New title/);
            answer = true;
            const done = await call(c, 'update-event', { eventId: event.id, summary: 'New title' });
            assert.equal(done.isError, undefined, JSON.stringify(done));
            assert.equal(calendar.calendar.get(event.id)!.summary, 'New title');
            assert.equal(asked.length, 2);
            // A read-only tool is never confirmed.
            await call(c, 'get-event', { eventId: event.id });
            assert.equal(asked.length, 2);
        });

        it('Gmail with an agent token for end user A: threads from the cache, a send confirmed, no secret key held', async () => {
            const agent = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a' });
            assert.match(agent.token, /^sb_agent_/);
            const c = await open(target(agent.token, 'google-mail', 'mail-a'));
            const names = (await c.listTools()).tools.map((t) => t.name).sort();
            assert.deepEqual(names, ['list_records_GmailThread', 'reply', 'send-email']);
            const gmailCalls = gmail.requests.length;
            const page1 = await call(c, 'list_records_GmailThread', { limit: 3 });
            const p1 = page1.structuredContent as { records: Array<{ id: string; subject: string }>; next_cursor: string | null };
            assert.equal(p1.records.length, 3);
            assert.ok(p1.next_cursor);
            const page2 = await call(c, 'list_records_GmailThread', { limit: 3, cursor: p1.next_cursor });
            const p2 = page2.structuredContent as typeof p1;
            assert.equal(p2.records.length, 2);
            assert.equal(new Set([...p1.records, ...p2.records].map((r) => r.id)).size, 5);
            assert.equal(gmail.requests.length, gmailCalls, 'read from the cache: no call to Gmail');
            const badCursor = await call(c, 'list_records_GmailThread', { cursor: 'nope' });
            assert.equal(toolErrorOf(badCursor)!['type'], 'invalid_cursor');

            const send = { to: 'john@example.com', subject: 'Hello John', body: 'See you at 10.' };
            const first = toolErrorOf(await call(c, 'send-email', send))!;
            assert.equal(first['type'], 'confirmation_required');
            assert.equal(gmail.sent.length, 0);
            const sent = await call(c, 'send-email', { ...send, confirmationToken: first['confirmationToken'] });
            assert.equal(sent.isError, undefined, JSON.stringify(sent));
            assert.equal(gmail.sent.length, 1);
            assert.equal(gmail.sent[0]!.headers['to'], 'john@example.com');

            // Reply to a cached thread: the ids come from the cache, the reply is confirmed like a send.
            const thread = p1.records[0] as unknown as { id: string; messages: Array<{ id: string }> };
            const answer = { threadId: thread.id, messageId: thread.messages.at(-1)!.id, body: 'Thanks!' };
            const ask = toolErrorOf(await call(c, 'reply', answer))!;
            assert.equal(ask['type'], 'confirmation_required');
            assert.equal(gmail.sent.length, 1);
            const replied = await call(c, 'reply', { ...answer, confirmationToken: ask['confirmationToken'] });
            assert.equal(replied.isError, undefined, JSON.stringify(replied));
            assert.equal((replied.structuredContent as { threadId: string }).threadId, thread.id);
            assert.equal(gmail.sent.length, 2);
            assert.ok(gmail.sent[1]!.headers['in-reply-to'], 'threaded with In-Reply-To');
        });

        it("a token for end user A can neither list nor call tools on end user B's connections", async () => {
            const agentA = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a' });
            const before = calendar.requests.length;
            // Opening B's connection is refused exactly like a connection that does not exist.
            await assert.rejects(mcpClient(target(agentA.token, 'google-calendar', 'cal-b')), /unknown_connection/);
            await assert.rejects(mcpClient(target(agentA.token, 'google-calendar', 'no-such-connection')), /unknown_connection/);
            const stateless = await rawMcp(
                server.url,
                { authorization: `Bearer ${agentA.token}`, 'connection-id': 'cal-b', 'provider-config-key': 'google-calendar' },
                { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete-event', arguments: { eventId: 'x' } } }
            );
            assert.equal(stateless.status, 400);
            assert.equal(((await stateless.json()) as { error: { code: string } }).error.code, 'unknown_connection');

            // A's session cannot be steered to B's connection, nor used by B's token.
            const a = await open(target(agentA.token, 'google-calendar', 'cal-a'));
            const sessionId = (a.transport as { sessionId?: string }).sessionId!;
            assert.ok(sessionId);
            const listB = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
            const steered = await rawMcp(
                server.url,
                { authorization: `Bearer ${agentA.token}`, 'mcp-session-id': sessionId, 'connection-id': 'cal-b', 'provider-config-key': 'google-calendar' },
                listB
            );
            assert.equal(steered.status, 404);
            const agentB = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-b' });
            const borrowed = await rawMcp(server.url, { authorization: `Bearer ${agentB.token}`, 'mcp-session-id': sessionId }, listB);
            assert.equal(borrowed.status, 404);
            // A token narrowed to one connection opens only that one, even of its own end user.
            const narrow = await issueAgentToken(server.url, server.secretKey, {
                end_user_id: 'user-a',
                connections: [{ provider_config_key: 'google-calendar', connection_id: 'cal-a' }]
            });
            await assert.rejects(mcpClient(target(narrow.token, 'google-mail', 'mail-a')), /unknown_connection/);
            assert.ok((await (await open(target(narrow.token, 'google-calendar', 'cal-a'))).listTools()).tools.length > 0);
            // The events sync (every 5 minutes, on cal-a and cal-b alike) may list events meanwhile; nothing else may have reached Google.
            const syncListing = (r: { method: string; path: string }) => r.method === 'GET' && /^\/calendar\/v3\/calendars\/[^/]+\/events$/.test(r.path);
            assert.deepEqual(
                calendar.requests
                    .slice(before)
                    .filter((r) => !syncListing(r))
                    .map((r) => `${r.method} ${r.path}`),
                [],
                'nothing but sync listings reached Google'
            );

            // Revoked: refused at once.
            const revoke = await api(`/mcp/tokens/${agentA.id}`, { method: 'DELETE' });
            assert.equal(revoke.status, 200);
            await assert.rejects(mcpClient(target(agentA.token, 'google-calendar', 'cal-a')), /unknown_agent_token/);
            await assert.rejects(mcpClient(target('sb_agent_forged', 'google-calendar', 'cal-a')), /unknown_agent_token/);
        });

        it("another environment's secret key is refused; so is an unknown key; tokens are issued only with a secret key", async () => {
            const created = await fetch(`${server.url}/admin/environments`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ name: `other-${backend}` })
            });
            assert.equal(created.status, 201);
            const otherKey = ((await created.json()) as { data: { secret_key: string } }).data.secret_key;
            await assert.rejects(mcpClient(target(otherKey, 'google-calendar', 'cal-a')), /unknown_connection/);
            await assert.rejects(mcpClient(target(crypto.randomUUID(), 'google-calendar', 'cal-a')), /unknown_account/);
            // The other environment's token for user-a opens nothing here either.
            const otherToken = await issueAgentToken(server.url, otherKey, { end_user_id: 'user-a' });
            await assert.rejects(mcpClient(target(otherToken.token, 'google-calendar', 'cal-a')), /unknown_connection/);
            // An agent token cannot issue tokens, and bad input is a clear 400 that creates nothing.
            const agent = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a' });
            const byAgent = await api('/mcp/tokens', { method: 'POST', key: agent.token, body: JSON.stringify({ end_user_id: 'user-b' }) });
            assert.equal(byAgent.status, 401);
            const before = ((await (await api('/mcp/tokens')).json()) as { data: unknown[] }).data.length;
            const bad = await api('/mcp/tokens', { method: 'POST', body: JSON.stringify({ end_user_id: 'user-a', ttl_seconds: 5 }) });
            assert.equal(bad.status, 400);
            assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_body');
            assert.equal(((await (await api('/mcp/tokens')).json()) as { data: unknown[] }).data.length, before);
            const listed = ((await (await api('/mcp/tokens')).json()) as { data: Array<Json> }).data;
            assert.ok(
                listed.every((t) => !('token' in t)),
                'a token is shown only when issued'
            );
        });

        it('an expired connection answers with the reconnect hint as a tool result, never a protocol error', async () => {
            const c = await open(target(server.secretKey, 'google-calendar', 'cal-stale'));
            const first = toolErrorOf(await call(c, 'get-event', { eventId: calendar.calendar.generatedId(1) }))!;
            assert.equal(first['type'], 'connection_expired');
            assert.match(String(first['message']), /reconnect/);
            assert.deepEqual((first['reconnect'] as Json)['connection_id'], 'cal-stale');
            const upstream = calendar.requests.length;
            const second = toolErrorOf(await call(c, 'list-events', { timeMin: '2026-01-01T00:00:00Z', timeMax: '2026-01-02T00:00:00Z' }))!;
            assert.equal(second['type'], 'connection_expired');
            assert.equal(calendar.requests.length, upstream, 'an expired connection is not tried again');
            // A refresh the provider refuses (invalid_grant) before the action runs: revoked, the hint, nothing sent.
            const refused = await open(target(server.secretKey, 'google-calendar', 'cal-refused'));
            const before = calendar.requests.length;
            const revoked = toolErrorOf(await call(refused, 'list-events', { timeMin: '2026-01-01T00:00:00Z', timeMax: '2026-01-02T00:00:00Z' }))!;
            assert.equal(revoked['type'], 'connection_revoked');
            assert.equal(revoked['reason'], 'invalid_grant');
            assert.equal(calendar.requests.length, before, 'the action did not run');
            // The auto-started events sync may have met the refusal first; either way the OAuth server refused a refresh.
            assert.ok(
                auth.events.some((e) => e.kind === 'refresh_failed'),
                'the refresh was tried at the OAuth server'
            );
            // Unknown tools and deleted connections are results too.
            assert.equal(toolErrorOf(await call(c, 'no-such-tool', {}))!['type'], 'not_found');
            const res = await api('/connections/cal-stale?provider_config_key=google-calendar', { method: 'DELETE' });
            assert.equal(res.status, 200, await res.text());
            assert.equal(toolErrorOf(await call(c, 'get-event', { eventId: 'x' }))!['type'], 'not_connected');
            // An action's own error reaches the model with its type.
            const ok = await open(target(server.secretKey, 'google-calendar', 'cal-a'));
            assert.equal(toolErrorOf(await call(ok, 'get-event', { eventId: 'missing' }))!['type'], 'not_found');
            assert.equal(toolErrorOf(await call(ok, 'list-events', { timeMin: 'yesterday' }))!['type'], 'invalid_input');
        });

        it('serves clients without a session (stateless JSON-RPC, as Nango does); GET has no stream', async () => {
            const headers = { authorization: `Bearer ${server.secretKey}`, 'connection-id': 'cal-a', 'provider-config-key': 'google-calendar' };
            const res = await rawMcp(server.url, headers, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
            assert.equal(res.status, 200);
            const text = await res.text();
            assert.match(text, /"list-events"/);
            const get = await fetch(`${server.url}/mcp`, { headers: { ...headers, accept: 'text/event-stream' } });
            assert.equal(get.status, 405);
            const missing = await rawMcp(server.url, { authorization: headers.authorization }, { jsonrpc: '2.0', id: 8, method: 'tools/list', params: {} });
            assert.equal(missing.status, 400);
        });

        it('audits every tool call (agent token, connection, tool, input size, outcome, time) for operators', async () => {
            const all = async (key: string, query = '', headers: Record<string, string> = {}) => {
                const res = await api(`/admin/mcp/tool-calls?limit=1000${query}`, { key, headers });
                assert.equal(res.status, 200, await res.clone().text());
                return ((await res.json()) as { data: Array<Json> }).data;
            };
            const rows = await all(server.secretKey);
            const outcomes = new Set(rows.map((r) => r['outcome']));
            for (const o of ['success', 'error', 'confirmation_required', 'declined']) assert.ok(outcomes.has(o), `an audit row with outcome ${o}`);
            const sent = rows.filter((r) => r['tool'] === 'send-email');
            assert.deepEqual(
                sent.map((r) => r['outcome']),
                ['success', 'confirmation_required']
            );
            assert.ok(
                sent.every((r) => typeof r['agent_token_id'] === 'string' && r['connection_id'] === 'mail-a' && r['provider_config_key'] === 'google-mail')
            );
            assert.ok(sent.every((r) => (r['input_bytes'] as number) > 40 && typeof r['duration_ms'] === 'number' && typeof r['created_at'] === 'string'));
            const stale = rows.filter((r) => r['connection_id'] === 'cal-stale').map((r) => r['error_type']);
            assert.deepEqual(stale, ['not_connected', 'not_found', 'connection_expired', 'connection_expired']);
            assert.ok(
                rows.every((r) => !JSON.stringify(r).includes('Hello John')),
                'the input itself is never stored'
            );
            // Filters, the admin key with the environment header, and another environment sees none of it.
            const byToken = await all(server.secretKey, `&agent_token_id=${String(sent[0]!['agent_token_id'])}`);
            assert.ok(byToken.length >= 2 && byToken.every((r) => r['agent_token_id'] === sent[0]!['agent_token_id']));
            const forMail = await all(server.secretKey, '&connection_id=mail-a');
            assert.ok(forMail.length > 0 && forMail.every((r) => r['connection_id'] === 'mail-a'));
            assert.equal((await all(server.adminKey, '', { 'switchboard-environment': 'dev' })).length, rows.length);
            // Pages: newest first, next_cursor continues below the last id.
            const page = (await (await api('/admin/mcp/tool-calls?limit=2')).json()) as { data: Array<{ id: number }>; next_cursor: string };
            const next = (await (await api(`/admin/mcp/tool-calls?limit=2&cursor=${page.next_cursor}`)).json()) as { data: Array<{ id: number }> };
            assert.deepEqual(
                [...page.data, ...next.data].map((r) => r.id),
                rows.slice(0, 4).map((r) => r['id'])
            );
            assert.equal((await all(server.adminKey, '', { 'switchboard-environment': `other-${backend}` })).length, 0);
            const ms = (tool: string) => rows.filter((r) => r['tool'] === tool && r['outcome'] === 'success').map((r) => r['duration_ms']);
            console.log(`tool call durations (ms, ${backend}): list-events ${ms('list-events')}, list_records_GmailThread ${ms('list_records_GmailThread')}`);
        });

        it('an agent token past its expiry is refused, also inside an open session', {
            skip: backend !== 'postgres' && 'time is moved in the database'
        }, async () => {
            const agent = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a', ttl_seconds: 60 });
            const c = await open(target(agent.token, 'google-calendar', 'cal-a'));
            assert.ok((await c.listTools()).tools.length > 0);
            // Its expiry moved into the past, as if the minute had gone by.
            const db = new pg.Client({ connectionString: dbUrl });
            await db.connect();
            await db.query("UPDATE mcp_agent_tokens SET expires_at = now() - interval '1 second' WHERE uuid = $1", [agent.id]);
            await db.end();
            await assert.rejects(c.listTools(), /agent_token_expired/);
            await assert.rejects(mcpClient(target(agent.token, 'google-calendar', 'cal-a')), /agent_token_expired/);
        });

        it('refuses bad audit queries with a clear 400', async () => {
            const res = await api('/admin/mcp/tool-calls?limit=0');
            assert.equal(res.status, 400);
            assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_query_params');
            assert.equal((await api('/admin/mcp/tool-calls?agent_token_id=not-a-uuid')).status, 400);
        });

        it('never logs an agent token, a confirmation token or the arguments of a call', async () => {
            const agent = await issueAgentToken(server.url, server.secretKey, { end_user_id: 'user-a' });
            const c = await open(target(agent.token, 'google-mail', 'mail-a'));
            const first = toolErrorOf(await call(c, 'send-email', { to: 'secret-recipient@example.com', subject: 'Private subject', body: 'x' }))!;
            const confirmation = String(first['confirmationToken']);
            await call(c, 'send-email', { to: 'secret-recipient@example.com', subject: 'Private subject', body: 'x', confirmationToken: confirmation });
            const out = server.output();
            for (const secret of [agent.token, confirmation, 'secret-recipient@example.com', 'Private subject'])
                assert.ok(!out.includes(secret), `the logs contain ${secret.slice(0, 12)}…`);
        });
    });
}
