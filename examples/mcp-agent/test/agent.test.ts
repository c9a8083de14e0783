// The example agent end to end: a real Switchboard (started as the README does), the integrations/ scripts deployed
// with `switchboard deploy`, the loopback Google Calendar and Gmail stand-ins, an agent token, and the scripted planner.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, writeProvidersFile, removeDir, storageEnv, type TestServer } from '../../../packages/server/test/support/server.ts';
import { startFakeCalendar, type FakeCalendar } from '../../../packages/server/test/support/fake-google-calendar.ts';
import { startFakeGmail, type FakeGmail } from '../../../packages/server/test/support/fake-gmail.ts';
import { copyProject, runCli, waitForRun } from '../../../packages/server/test/support/cli.ts';
import { Agent, type AgentOptions } from '../src/agent.ts';

const integrationsDir = new URL('../../../integrations', import.meta.url).pathname;

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`the MCP agent example (${backend})`, () => {
        let calendar: FakeCalendar;
        let gmail: FakeGmail;
        let server: TestServer;
        let project: string;
        let token: string;
        let drop: (() => Promise<void>) | undefined;
        const agents: Agent[] = [];
        /** The human: answers confirmation questions from a script, and remembers them. */
        const human = { answers: [] as boolean[], asked: [] as string[] };
        const confirm = async (question: string) => {
            human.asked.push(question);
            const answer = human.answers.shift();
            assert.notEqual(answer, undefined, `an unexpected question: ${question}`);
            return answer!;
        };
        const start = async (o: Partial<AgentOptions> = {}) => {
            const agent = await Agent.start({
                url: server.url,
                token,
                calendar: { providerConfigKey: 'google-calendar', connectionId: 'alice-calendar' },
                mail: { providerConfigKey: 'google-mail', connectionId: 'alice-mail' },
                contacts: { john: 'john@example.com' },
                confirm,
                ...o
            });
            agents.push(agent);
            return agent;
        };
        const post = async (path: string, body: unknown) => {
            const res = await fetch(`${server.url}${path}`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
            assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
            return (await res.json()) as { data?: Record<string, unknown> };
        };

        before(async () => {
            human.answers.length = 0;
            human.asked.length = 0;
            calendar = await startFakeCalendar();
            gmail = await startFakeGmail({ threads: 3 });
            const providers = [
                ['google-calendar-test', calendar.url],
                ['gmail-test', gmail.url]
            ]
                .map(
                    ([n, u]) =>
                        `${n}:\n  display_name: ${n}\n  auth_mode: OAUTH2\n  authorization_url: ${u}/auth\n  token_url: ${u}/token\n  proxy:\n    base_url: ${u}\n`
                )
                .join('');
            const storage = await storageEnv(backend);
            drop = storage.drop;
            server = await startServer({ ...storage.env, SWITCHBOARD_PROVIDERS: writeProvidersFile(providers), SWITCHBOARD_SCHEDULER_TICK_MS: '200' });
            await post('/integrations', {
                provider: 'google-calendar-test',
                unique_key: 'google-calendar',
                credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 's' }
            });
            await post('/integrations', {
                provider: 'gmail-test',
                unique_key: 'google-mail',
                credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 's' }
            });
            project = copyProject(integrationsDir);
            const deployed = await runCli(['deploy', 'dev', '--dir', project, '--host', server.url], { SWITCHBOARD_SECRET_KEY: server.secretKey });
            assert.equal(deployed.code, 0, deployed.stderr);
            const since = Date.now();
            const credentials = (accessToken: string) => ({
                type: 'OAUTH2',
                access_token: accessToken,
                refresh_token: 'r',
                expires_at: new Date(Date.now() + 3_600_000).toISOString()
            });
            await post('/connections', {
                provider_config_key: 'google-calendar',
                connection_id: 'alice-calendar',
                end_user: { id: 'alice' },
                credentials: credentials(calendar.accessToken)
            });
            await post('/connections', {
                provider_config_key: 'google-mail',
                connection_id: 'alice-mail',
                end_user: { id: 'alice' },
                credentials: credentials(gmail.accessToken)
            });
            await waitForRun(server, 'google-mail', 'alice-mail', 'threads', since, 120_000);
            // The app's backend issues the agent a token for Alice only; the agent never sees the secret key.
            token = String((await post('/mcp/tokens', { end_user_id: 'alice', ttl_seconds: 600 })).data!['token']);
        });
        after(async () => {
            for (const a of agents) await a.close().catch(() => undefined);
            await server?.stop();
            await calendar?.close();
            await gmail?.close();
            await drop?.();
            if (server) removeDir(server.dataDir);
            if (project) removeDir(project);
        });

        it('sees which tools read and which ask first', async () => {
            const tools = new Map((await start()).toolList().map((t) => [t.name, t]));
            assert.equal(tools.get('list-events')?.readOnly, true);
            assert.equal(tools.get('list_records_GmailThread')?.readOnly, true);
            assert.equal(tools.get('send-email')?.destructive, true);
            assert.equal(tools.get('delete-event')?.destructive, true);
            assert.equal(tools.get('create-event')?.destructive, false);
        });

        it('"show my emails" reads the cached threads without calling Gmail', async () => {
            const agent = await start();
            const before = gmail.requests.length;
            const reply = await agent.handle('Show my emails');
            assert.deepEqual(
                reply.calls.map((c) => c.tool),
                ['list_records_GmailThread']
            );
            assert.equal(reply.text.split('\n').length, 3);
            assert.equal(gmail.requests.length, before);
            assert.equal(human.asked.length, 0, 'reading asks nothing');
        });

        it('"send an email to John" asks the user first (MCP elicitation), then sends', async () => {
            const agent = await start();
            human.answers.push(true);
            const reply = await agent.handle('Send an email to John about Lunch, saying See you at noon');
            assert.equal(reply.text, 'Sent to john@example.com.');
            assert.match(human.asked.at(-1)!, /send-email.*john@example\.com/);
            assert.equal(gmail.sent.length, 1);
            assert.equal(gmail.sent[0]!.headers['to'], 'john@example.com');
            assert.equal(gmail.sent[0]!.headers['subject'], 'Lunch');
        });

        it('cancelling an event: found with a read tool, deleted only once the user agrees', async () => {
            const agent = await start();
            const dentist = calendar.calendar.add({
                summary: 'Dentist',
                start: { dateTime: '2026-05-04T09:00:00Z' },
                end: { dateTime: '2026-05-04T10:00:00Z' }
            });
            human.answers.push(false);
            const no = await agent.handle('Cancel my dentist on 2026-05-04');
            assert.equal(no.text, 'OK, I did not do it.');
            assert.equal(calendar.calendar.get(dentist.id)!.status, 'confirmed');
            human.answers.push(true);
            const yes = await agent.handle('Cancel my dentist on 2026-05-04');
            assert.equal(yes.text, 'Cancelled "Dentist".');
            assert.deepEqual(
                yes.calls.map((c) => c.tool),
                ['list-events', 'delete-event']
            );
            assert.equal(calendar.calendar.get(dentist.id)!.status, 'cancelled');
            assert.equal((await agent.handle("What's on my calendar on 2026-05-04")).text, 'Nothing.');
        });

        it('a client without elicitation confirms with the token the first call returns', async () => {
            const agent = await start({ elicitation: false });
            human.answers.push(true);
            const reply = await agent.handle('Send an email to John about Again, saying Second try');
            assert.equal(reply.text, 'Sent to john@example.com.');
            assert.match(human.asked.at(-1)!, /Ask the user/);
            assert.equal(gmail.sent.length, 2);
            human.answers.push(false);
            assert.equal((await agent.handle('Send an email to John about Never')).text, 'OK, I did not send it.');
            assert.equal(gmail.sent.length, 2);
        });
    });
}
