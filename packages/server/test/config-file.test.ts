// Integrations as code end to end (issue #14 item 1), embedded and on PostgreSQL: `switchboard plan/apply -f`
// (the CLI as a child process) against a real server, and SWITCHBOARD_CONFIG applied at start. Secrets never
// reach the terminal or the logs; a second apply changes nothing; prune needs --prune and consent; a wrong field
// names its line; an environment the file does not name is untouched.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, removeDir, startServer, storageEnv, testEncryptionKey, type TestServer } from './support/server.ts';
import { runCli } from './support/cli.ts';
import { run as runCliInProcess } from '../../cli/src/main.ts';

const GH_SECRET = 'gh-secret-from-env-7f3a9';
const GH_SECRET_2 = 'gh-secret-rotated-8b4c0';
const SLACK_SECRET = 'slack-secret-in-a-file-2d6e1';
const VAR_VALUE = 'var-value-secret-5a1f3';

/** A config file in a temp folder, with the Slack secret in a file beside it. */
function writeConfig(opts: { slack?: boolean; extra?: string } = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    writeFileSync(join(dir, 'slack-secret'), `${SLACK_SECRET}\n`);
    const slack =
        opts.slack === false
            ? ''
            : '      slack:\n        provider: slack\n        credentials: { type: OAUTH2, client_id: sl-id, client_secret: { fromFile: slack-secret } }\n';
    const text = `# Switchboard desired state
environments:
  dev:
    integrations:
      github-my-app:
        provider: github
        display_name: GitHub
        credentials:
          type: OAUTH2
          client_id: gh-id
          client_secret: { fromEnv: GH_SECRET }
          scopes: [repo, user]
${opts.extra ?? ''}${slack}    variables:
      API_TOKEN: { fromEnv: VAR_VALUE }
`;
    writeFileSync(join(dir, 'switchboard.yaml'), text);
    return join(dir, 'switchboard.yaml');
}

async function get(server: TestServer, key: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const backend = storageEnv;

const assertNoSecrets = (text: string, what: string) => {
    for (const s of [GH_SECRET, GH_SECRET_2, SLACK_SECRET, VAR_VALUE]) assert.ok(!text.includes(s), `${what} shows a secret`);
};

for (const kind of ['embedded', 'postgres'] as const) {
    describe(`switchboard plan/apply -f (${kind})`, () => {
        let server: TestServer;
        let db: Awaited<ReturnType<typeof backend>>;
        let prodKey: string;
        // A variable given as '' is left out (to run without the admin key).
        const cli = (args: string[], env: Record<string, string> = {}) =>
            runCli(
                args,
                Object.fromEntries(
                    Object.entries({ SWITCHBOARD_HOST: server.url, SWITCHBOARD_ADMIN_KEY: server.adminKey, GH_SECRET, VAR_VALUE, ...env }).filter(
                        ([, v]) => v !== ''
                    )
                )
            );

        before(async () => {
            db = await backend(kind);
            server = await startServer(db.env);
            const res = await fetch(`${server.url}/admin/environments`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ name: 'prod' })
            });
            prodKey = ((await res.json()) as { data: { secret_key: string } }).data.secret_key;
            const made = await fetch(`${server.url}/integrations`, {
                method: 'POST',
                headers: { authorization: `Bearer ${prodKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ unique_key: 'slack', provider: 'slack', credentials: { type: 'OAUTH2', client_id: 'p', client_secret: 'prod-only' } })
            });
            assert.equal(made.status, 200);
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await db?.drop();
        });

        it('plan shows the creations, apply makes them, and a second plan and apply change nothing', async () => {
            const file = writeConfig();
            const planned = await cli(['plan', '-f', file]);
            assert.equal(planned.code, 0, planned.stderr);
            assert.match(planned.stdout, /\+ integration github-my-app \(create, github\)/);
            assert.match(planned.stdout, /credentials\.client_secret: \(secret set\)/);
            assert.match(planned.stdout, /API_TOKEN: \(secret set\)/);
            assertNoSecrets(planned.stdout + planned.stderr, 'plan');
            assert.equal((await get(server, server.secretKey, '/integrations/github-my-app')).status, 404, 'plan changed something');

            const applied = await cli(['apply', '-f', file]);
            assert.equal(applied.code, 0, applied.stderr);
            assert.match(applied.stdout, /Applied 3 change\(s\)\./);
            assertNoSecrets(applied.stdout + applied.stderr, 'apply');
            const gh = await get(server, server.secretKey, '/integrations/github-my-app?include=credentials');
            assert.deepEqual((gh.body['data'] as { credentials: unknown }).credentials, {
                type: 'OAUTH2',
                client_id: 'gh-id',
                client_secret: GH_SECRET,
                scopes: 'repo,user',
                webhook_secret: null
            });
            const slack = await get(server, server.secretKey, '/integrations/slack?include=credentials');
            assert.equal((slack.body['data'] as { credentials: { client_secret: string } }).credentials.client_secret, SLACK_SECRET);

            const again = await cli(['apply', '-f', file]);
            assert.equal(again.code, 0, again.stderr);
            assert.match(again.stdout, /^No changes: the broker matches the file\.$/m);
            assert.doesNotMatch(again.stdout, /Applied/);
            const updatedAt = (gh.body['data'] as { updated_at: string }).updated_at;
            assert.equal(((await get(server, server.secretKey, '/integrations/github-my-app')).body['data'] as { updated_at: string }).updated_at, updatedAt);
            // prod's integration of the same key is its own.
            const prod = await get(server, prodKey, '/integrations/slack?include=credentials');
            assert.equal((prod.body['data'] as { credentials: { client_secret: string } }).credentials.client_secret, 'prod-only');
        });

        it('a rotated secret shows as changed, never its value; a secret key alone reaches one environment', async () => {
            const file = writeConfig();
            const planned = await cli(['plan', '-f', file], { GH_SECRET: GH_SECRET_2 });
            assert.equal(planned.code, 0, planned.stderr);
            assert.match(planned.stdout, /~ integration github-my-app \(update\)\n\s+credentials\.client_secret: \(secret changed\)$/m);
            assertNoSecrets(planned.stdout + planned.stderr, 'plan');
            const withSecretKey = await cli(['apply', '-f', file], {
                GH_SECRET: GH_SECRET_2,
                SWITCHBOARD_ADMIN_KEY: '',
                SWITCHBOARD_SECRET_KEY: server.secretKey
            });
            assert.equal(withSecretKey.code, 0, withSecretKey.stderr);
            assert.match(withSecretKey.stdout, /Applied 1 change/);
            const gh = await get(server, server.secretKey, '/integrations/github-my-app?include=credentials');
            assert.equal((gh.body['data'] as { credentials: { client_secret: string } }).credentials.client_secret, GH_SECRET_2);

            const two = writeConfig({ extra: '' }).replace('switchboard.yaml', 'two.yaml');
            writeFileSync(two, 'environments:\n  dev: {}\n  prod: {}\n');
            const refused = await cli(['plan', '-f', two], { SWITCHBOARD_ADMIN_KEY: '', SWITCHBOARD_SECRET_KEY: server.secretKey });
            assert.equal(refused.code, 1);
            assert.match(refused.stderr, /names 2 environments; a secret key reaches only its own/);
        });

        it('an integration the file drops is kept without --prune, and deleted with --prune only after consent', async () => {
            const file = writeConfig({ slack: false });
            const kept = await cli(['apply', '-f', file], { GH_SECRET: GH_SECRET_2 });
            assert.equal(kept.code, 0, kept.stderr);
            assert.match(kept.stdout, /Not in the file, kept \(--prune deletes them\):\n\s+dev: integration slack/);
            assert.equal((await get(server, server.secretKey, '/integrations/slack')).status, 200);

            const unconfirmed = await cli(['apply', '-f', file, '--prune'], { GH_SECRET: GH_SECRET_2 });
            assert.equal(unconfirmed.code, 1);
            assert.match(unconfirmed.stdout, /- integration slack \(delete, with its connections\)/);
            assert.match(unconfirmed.stderr, /DESTRUCTIVE_REFUSED/);
            assert.equal((await get(server, server.secretKey, '/integrations/slack')).status, 200, 'deleted without consent');

            const pruned = await cli(['apply', '-f', file, '--prune', '--yes'], { GH_SECRET: GH_SECRET_2 });
            assert.equal(pruned.code, 0, pruned.stderr);
            assert.equal((await get(server, server.secretKey, '/integrations/slack')).status, 404);
            assert.equal((await get(server, prodKey, '/integrations/slack')).status, 200, "prod's slack went too");
        });

        it('on a terminal, --prune asks first, and only "yes" deletes', async () => {
            const made = await fetch(`${server.url}/integrations`, {
                method: 'POST',
                headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({ unique_key: 'extra', provider: 'slack', credentials: { type: 'OAUTH2', client_id: 'x', client_secret: 'y' } })
            });
            assert.equal(made.status, 200);
            const file = writeConfig({ slack: false });
            const env = { SWITCHBOARD_HOST: server.url, SWITCHBOARD_ADMIN_KEY: server.adminKey, GH_SECRET: GH_SECRET_2, VAR_VALUE };
            const questions: string[] = [];
            const apply = (answer: string) =>
                runCliInProcess(
                    ['apply', '-f', file, '--prune'],
                    env,
                    () => undefined,
                    () => undefined,
                    async (q) => {
                        questions.push(q);
                        return answer;
                    }
                );
            assert.equal(await apply('no'), 1);
            assert.equal((await get(server, server.secretKey, '/integrations/extra')).status, 200, 'deleted on "no"');
            assert.equal(await apply('yes\n'), 0);
            assert.equal((await get(server, server.secretKey, '/integrations/extra')).status, 404);
            assert.equal(questions.length, 2);
            assert.match(questions[0]!, /deletes or replaces 1 integration\(s\) and their connections\. Type "yes"/);
        });

        it('a wrong field names the file, line and field, and nothing is sent', async () => {
            const file = writeConfig({ extra: '        forward_webhook: true\n' });
            const res = await cli(['apply', '-f', file], { GH_SECRET: GH_SECRET_2 });
            assert.equal(res.code, 1);
            assert.match(res.stderr, /switchboard\.yaml:13:9: environments\.dev\.integrations\.github-my-app\.forward_webhook: unknown field/);
            assert.doesNotMatch(res.stdout, /Applied/);
            assert.equal((await get(server, server.secretKey, '/integrations/slack')).status, 404, 'the valid part was applied');
        });

        it("the server's refusal names the line of the refused value", async () => {
            const file = writeConfig({ slack: false });
            writeFileSync(file, `${'environments:\n  dev:\n    integrations:\n'}      ai:\n        provider: no-such-provider\n`);
            const res = await cli(['apply', '-f', file]);
            assert.equal(res.code, 1);
            assert.match(res.stderr, /switchboard\.yaml:5:19: environments\.dev\.integrations\.ai\.provider: the broker refused \(invalid_body\)/);
        });
    });

    describe(`SWITCHBOARD_CONFIG at start (${kind})`, () => {
        let db: Awaited<ReturnType<typeof backend>>;
        const dirs: string[] = [];
        before(async () => {
            db = await backend(kind);
        });
        after(async () => {
            for (const d of dirs) removeDir(d);
            await db?.drop();
        });

        it('applies the file before listening, again at restart with nothing to do, and logs no secret', async () => {
            const file = writeConfig();
            const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
            dirs.push(dataDir);
            const env = {
                ...db.env,
                SWITCHBOARD_DATA_DIR: dataDir,
                SWITCHBOARD_CONFIG: file,
                GH_SECRET,
                VAR_VALUE,
                SWITCHBOARD_ADMIN_KEY: 'admin-config-test-0001'
            };
            const first = await startServer(env);
            try {
                // The integration exists at the first request: it was applied before the port opened.
                const gh = await get(first, first.secretKey, '/integrations/github-my-app?include=credentials');
                assert.equal(gh.status, 200);
                assert.equal((gh.body['data'] as { credentials: { client_secret: string } }).credentials.client_secret, GH_SECRET);
                assert.match(first.output(), /"changes":3[^\n]*"msg":"config file applied"/);
                assertNoSecrets(first.output(), 'the log');
            } finally {
                await first.stop();
            }
            const second = await startServer({ ...env, SWITCHBOARD_SECRET_KEY: first.secretKey });
            try {
                assert.match(second.output(), /"changes":0[^\n]*"msg":"config file applied"/);
                assert.equal((await get(second, first.secretKey, '/integrations/slack')).status, 200);
            } finally {
                await second.stop();
            }
        });

        it('instances starting together apply the file once: one makes the changes, the other finds none', {
            skip: kind === 'embedded' && 'one data folder per process'
        }, async () => {
            const fresh = await createTestDatabase();
            const file = writeConfig();
            const shared = {
                SWITCHBOARD_DATABASE_URL: fresh.url,
                SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(),
                SWITCHBOARD_SECRET_KEY: 'sk-together-0123456789',
                SWITCHBOARD_ADMIN_KEY: 'admin-together-0123456789',
                SWITCHBOARD_CONFIG: file,
                GH_SECRET,
                VAR_VALUE
            };
            const servers = await Promise.all([startServer(shared), startServer(shared)]);
            try {
                const counts = servers.map((sv) => Number(/"changes":(\d+)[^\n]*"msg":"config file applied"/.exec(sv.output())?.[1]));
                assert.deepEqual(counts.sort(), [0, 3]);
                const list = await get(servers[0]!, shared.SWITCHBOARD_SECRET_KEY, '/integrations');
                assert.deepEqual((list.body['data'] as Array<{ unique_key: string }>).map((i) => i.unique_key).sort(), ['github-my-app', 'slack']);
            } finally {
                for (const sv of servers) {
                    await sv.stop();
                    removeDir(sv.dataDir);
                }
                await fresh.drop();
            }
        });

        it('refuses to start on a bad file, naming the file, line and field', async () => {
            const file = writeConfig({ extra: '        display_nam: GitHub\n' });
            const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
            dirs.push(dataDir);
            await assert.rejects(startServer({ ...db.env, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_CONFIG: file, GH_SECRET, VAR_VALUE }), (err: Error) => {
                assert.match(err.message, /server exited with 78/);
                assert.match(
                    err.message,
                    /SWITCHBOARD_CONFIG: \S*switchboard\.yaml:13:9: environments\.dev\.integrations\.github-my-app\.display_nam: unknown field/
                );
                assertNoSecrets(err.message, 'the error');
                return true;
            });
        });

        it("refuses to start when the server refuses the file's content, naming the line", async () => {
            const file = writeConfig({ slack: false });
            writeFileSync(
                file,
                'environments:\n  dev:\n    integrations:\n      gh:\n        provider: github\n        credentials: { type: APP, app_id: "1", app_link: x, private_key: nope }\n'
            );
            const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
            dirs.push(dataDir);
            await assert.rejects(startServer({ ...db.env, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_CONFIG: file }), (err: Error) => {
                assert.match(err.message, /server exited with 78/);
                assert.match(err.message, /SWITCHBOARD_CONFIG: \S*switchboard\.yaml:6:\d+: environments\.dev\.integrations\.gh\.credentials/);
                assert.doesNotMatch(err.message, /"msg":"listening"/);
                return true;
            });
        });
    });
}
