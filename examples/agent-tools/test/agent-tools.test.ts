// The agent-tools example end to end (issue #12 item 7): a real Switchboard and a loopback helpdesk API; the example's
// sync and action deployed with `switchboard deploy`; the scripted agent (`node src/main.ts`) lists the cached tickets,
// files a follow-up through the action and reads the account through the proxy. Failures come back as sentences.
// On the embedded default and PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Nango } from '@nangohq/node';
import { removeDir, startServer, storageEnv, writeProvidersFile, type TestServer } from '../../../packages/server/test/support/server.ts';
import { copyProject, runCli, waitForRun } from '../../../packages/server/test/support/cli.ts';
import { startHelpdeskApi } from './helpdesk-api.ts';
import { runAgent } from '../src/agent.ts';
import { triagePlanner } from '../src/planner.ts';
import { runTool, toolDefinitions, type Connection } from '../src/tools.ts';

const exampleDir = new URL('../', import.meta.url).pathname;
const API_KEY = 'helpdesk-key-acme';
const acme: Connection = { providerConfigKey: 'helpdesk', connectionId: 'acme:helpdesk' };

/** What reached the helpdesk since `from`. */
const sentSince = (api: { requests: Array<{ method: string; url: string }> }, from: number) => api.requests.slice(from).map((r) => `${r.method} ${r.url}`);

/** Runs the example as its README says; resolves with what it printed and its exit code. */
function runExample(env: Record<string, string>): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ['src/main.ts'],
            { cwd: exampleDir, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
            (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr })
        );
    });
}

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`agent-tools example (${backend})`, () => {
        let server: TestServer;
        let api: Awaited<ReturnType<typeof startHelpdeskApi>>;
        let nango: Nango;
        let drop: (() => Promise<void>) | undefined;

        before(async () => {
            api = await startHelpdeskApi(API_KEY);
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`helpdesk-api:
  display_name: Helpdesk
  auth_mode: API_KEY
  proxy:
    base_url: ${api.url}
    headers:
      authorization: Bearer \${apiKey}
`)
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({ provider: 'helpdesk-api', unique_key: 'helpdesk' });
            const imported = await fetch(`${server.url}/connections`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                    ...{ provider_config_key: acme.providerConfigKey, connection_id: acme.connectionId },
                    credentials: { type: 'API_KEY', apiKey: API_KEY }
                })
            });
            assert.equal(imported.status, 201, await imported.text());

            // The example's scripts, deployed as its README says (in a copy: compile writes build output into the project).
            const deployedAt = Date.now();
            const deployed = await runCli(['deploy', '--dir', copyProject(join(exampleDir, 'nango-integrations')), '--host', server.url], {
                SWITCHBOARD_SECRET_KEY: server.secretKey
            });
            assert.equal(deployed.code, 0, deployed.stderr);
            // The sync auto-starts: its first run is due at once, the next in an hour (after the tests), so the cache
            // holds exactly what the API had then.
            await waitForRun(server, acme.providerConfigKey, acme.connectionId, 'tickets', deployedAt);
        });
        after(async () => {
            await server?.stop();
            await api?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('describes its tools to a model as JSON Schema', () => {
            const definitions = toolDefinitions();
            assert.deepEqual(
                definitions.map((d) => d.name),
                ['list_records', 'trigger_action', 'proxy_get']
            );
            const listRecords = definitions[0]!.parameters as { type: string; required?: string[]; properties: Record<string, unknown> };
            assert.equal(listRecords.type, 'object');
            assert.deepEqual(listRecords.required, ['model']);
            assert.deepEqual(Object.keys(listRecords.properties).sort(), ['cursor', 'limit', 'model']);
        });

        it('the scripted agent lists the cached tickets, files a follow-up through the action, and reads the account through the proxy', async () => {
            const before = api.requests.length;
            const printed: string[] = [];
            const { answer, turns } = await runAgent({ nango, connection: acme, planner: triagePlanner, print: (line) => printed.push(line) });

            assert.deepEqual(
                turns.map((t) => [t.call.tool, t.result.ok]),
                [
                    ['list_records', true],
                    ['trigger_action', true],
                    ['proxy_get', true]
                ]
            );
            const listed = turns[0]!.result.ok ? (turns[0]!.result.output as { records: Array<Record<string, unknown>> }) : undefined;
            assert.deepEqual(listed?.records.map((r) => r['id']).sort(), ['101', '102', '103']);
            assert.ok(
                listed?.records.every((r) => !('_nango_metadata' in r)),
                'the cache bookkeeping is not shown to the model'
            );

            // The action ran against the API once, with the connection's key, on the oldest open ticket.
            const created = api.tickets.at(-1)!;
            assert.equal(created.title, 'Follow up: SSO login loops back to the sign-in page');
            assert.deepEqual(turns[1]!.result.ok && turns[1]!.result.output, {
                id: String(created.id),
                title: created.title,
                status: 'open',
                createdAt: created.created_at
            });
            assert.deepEqual(turns[2]!.result.ok && turns[2]!.result.output, { status: 200, data: { name: 'Acme Support', plan: 'growth', seats: 12 } });
            // Listing came from the cache: only the action's POST and the proxied GET reached the API.
            assert.deepEqual(sentSince(api, before), ['POST /tickets', 'GET /account']);
            assert.equal(answer, `2 open tickets; filed #${created.id} "${created.title}" for the oldest. The account is on the growth plan.`);
            assert.equal(printed.length, 7);
            assert.match(printed[0]!, /^→ list_records \{"model":"Ticket","limit":100\}$/);
        });

        it('node src/main.ts prints each step and the answer', async (t) => {
            const { code, out } = await runExample({ NANGO_HOST: server.url, NANGO_SECRET_KEY: server.secretKey, NANGO_CONNECTION_ID: acme.connectionId });
            t.diagnostic(out);
            assert.equal(code, 0, out);
            assert.match(out, /^tools: list_records, trigger_action, proxy_get$/m);
            assert.match(out, /^→ trigger_action \{"action":"create-ticket","input":\{"title":"Follow up: SSO login loops back to the sign-in page"\}\}$/m);
            assert.match(out, /^← \{"status":200,"data":\{"name":"Acme Support","plan":"growth","seats":12\}\}$/m);
            assert.match(out, /^= 2 open tickets; filed #\d+ .* The account is on the growth plan\.$/m);
        });

        it('an unknown connection: each tool reports a readable error, the agent stops, nothing reaches the API', async (t) => {
            const before = api.requests.length;
            const stranger: Connection = { providerConfigKey: 'helpdesk', connectionId: 'globex:helpdesk' };
            const listed = await runTool(nango, stranger, { tool: 'list_records', args: { model: 'Ticket' } });
            assert.equal(listed.ok, false);
            assert.match(!listed.ok ? listed.error : '', /^list_records failed: HTTP 4\d\d unknown_connection/);
            const action = await runTool(nango, stranger, { tool: 'trigger_action', args: { action: 'create-ticket', input: { title: 'x' } } });
            assert.match(!action.ok ? action.error : '', /^trigger_action failed: HTTP 4\d\d \w+: .+/);
            const proxied = await runTool(nango, stranger, { tool: 'proxy_get', args: { endpoint: '/account' } });
            assert.match(!proxied.ok ? proxied.error : '', /^proxy_get failed: HTTP 4\d\d \w+: .+/);

            const { code, out } = await runExample({ NANGO_HOST: server.url, NANGO_SECRET_KEY: server.secretKey, NANGO_CONNECTION_ID: stranger.connectionId });
            t.diagnostic(out);
            t.diagnostic([action, proxied].map((r) => (r.ok ? '' : r.error)).join('\n'));
            assert.equal(code, 0, out);
            assert.match(out, /^← error: list_records failed: HTTP 4\d\d unknown_connection/m);
            assert.match(out, /^= I could not finish: list_records failed/m);
            assert.doesNotMatch(out, /trigger_action \{/);
            assert.deepEqual(sentSince(api, before), [], 'no request reached the helpdesk');
        });

        it('a model’s bad call (unknown tool, invalid arguments, input the action refuses) is refused with a reason before anything is sent', async () => {
            const before = api.requests.length;
            const unknown = await runTool(nango, acme, { tool: 'delete_everything', args: {} });
            assert.deepEqual(unknown, { ok: false, error: 'unknown tool "delete_everything"; the tools are list_records, trigger_action, proxy_get' });
            const absolute = await runTool(nango, acme, { tool: 'proxy_get', args: { endpoint: 'http://169.254.169.254/latest' } });
            assert.match(!absolute.ok ? absolute.error : '', /^invalid arguments for proxy_get: .*endpoint/s);
            // Arguments the tool accepts but the action's own input schema refuses: the action's error comes back.
            const emptyTitle = await runTool(nango, acme, { tool: 'trigger_action', args: { action: 'create-ticket', input: { title: '' } } });
            assert.match(!emptyTitle.ok ? emptyTitle.error : '', /^trigger_action failed: HTTP 500 action_script_failure: invalid input: .*→ at title$/s);
            const noModel = await runTool(nango, acme, { tool: 'list_records', args: { limit: 5000 } });
            assert.match(!noModel.ok ? noModel.error : '', /model[\s\S]*limit|limit[\s\S]*model/);
            assert.deepEqual(sentSince(api, before), []);
        });
    });
}
