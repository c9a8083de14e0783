// @switchboard/apply against a real server, embedded and on PostgreSQL (issue #14 item 1): plan → apply → plan
// is empty; a rotated secret is planned without its value; prune only when asked; an environment the file does
// not name is untouched; the broker's refusal names the field; one integration upserted with a secret key (the
// operator's path).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
    apply,
    BrokerClient,
    BrokerError,
    deleteIntegration,
    formatPlan,
    parseConfigText,
    plan,
    readCurrent,
    upsertIntegration,
    type DesiredState
} from '@switchboard/apply';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, type TestServer } from './support/server.ts';
import { rsaKeyPair } from './support/github-app.ts';

const SECRET_1 = 'gh-client-secret-aaaa-1111';
const SECRET_2 = 'gh-client-secret-bbbb-2222';
const VAR_VALUE = 'script-variable-value-cccc';

const configText = (withSlack = true) => `
environments:
  dev:
    integrations:
      github-my-app:
        provider: github
        display_name: GitHub (mine)
        credentials: { type: OAUTH2, client_id: gh-id, client_secret: { fromEnv: GH_SECRET }, scopes: [repo, user] }
        base_url_allowlist: [https://uploads.github.com]
        forward_webhooks: true
${
    withSlack
        ? `      slack:
        provider: slack
        credentials: { type: OAUTH2, client_id: sl-id, client_secret: sl-secret }
`
        : ''
}    variables:
      API_TOKEN: { fromEnv: VAR_VALUE }
    webhooks:
      url: https://hooks.example.com/switchboard
  staging:
    integrations:
      github-staging:
        provider: github
        credentials: { type: OAUTH2, client_id: gh-st, client_secret: st-secret }
`;

const desired = (secret: string, withSlack = true): DesiredState =>
    parseConfigText(configText(withSlack), 'switchboard.yaml', { env: { GH_SECRET: secret, VAR_VALUE } }).desired;

async function api(server: TestServer, key: string, method: string, path: string, body?: unknown, env?: string) {
    const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
            authorization: `Bearer ${key}`,
            ...(env ? { 'switchboard-environment': env } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`apply against a real server (${backend})`, () => {
        let server: TestServer;
        let drop: (() => Promise<void>) | undefined;
        let prodKey: string;
        let broker: BrokerClient;

        before(async () => {
            if (backend === 'postgres') {
                const db = await createTestDatabase();
                drop = db.drop;
                server = await startServer({ SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() });
            } else server = await startServer();
            broker = new BrokerClient({ baseUrl: server.url, auth: { kind: 'admin', key: server.adminKey } });
            // An environment the file never names, with an integration of the same key as one in the file.
            const prod = await api(server, server.adminKey, 'POST', '/admin/environments', { name: 'prod' });
            prodKey = (prod.json['data'] as { secret_key: string }).secret_key;
            const created = await api(server, prodKey, 'POST', '/integrations', {
                unique_key: 'github-my-app',
                provider: 'github',
                credentials: { type: 'OAUTH2', client_id: 'prod-id', client_secret: 'prod-secret' }
            });
            assert.equal(created.status, 200, JSON.stringify(created.json));
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('plan → apply → plan shows nothing; the other environment is untouched', async () => {
            const prodBefore = await api(server, prodKey, 'GET', '/integrations/github-my-app?include=credentials&include=config');
            const first = plan(desired(SECRET_1), await readCurrent(broker, desired(SECRET_1)));
            const kinds = first.actions.map((a) => `${a.environment}:${a.kind}`);
            assert.deepEqual(kinds, [
                'dev:create-integration',
                'dev:create-integration',
                'dev:set-variables',
                'dev:update-webhooks',
                'staging:create-environment',
                'staging:create-integration'
            ]);
            await apply(broker, first);
            const second = plan(desired(SECRET_1), await readCurrent(broker, desired(SECRET_1)));
            assert.deepEqual(second.actions, [], formatPlan(second).join('\n'));

            const gh = await api(server, server.secretKey, 'GET', '/integrations/github-my-app?include=credentials&include=config');
            const data = gh.json['data'] as Record<string, unknown>;
            assert.equal(data['display_name'], 'GitHub (mine)');
            assert.equal(data['forward_webhooks'], true);
            assert.deepEqual(data['integration_config'], { base_url_allowlist: 'https://uploads.github.com' });
            assert.deepEqual(data['credentials'], { type: 'OAUTH2', client_id: 'gh-id', client_secret: SECRET_1, scopes: 'repo,user', webhook_secret: null });
            const vars = await api(server, server.secretKey, 'GET', '/environment-variables');
            assert.deepEqual(vars.json, [{ name: 'API_TOKEN', value: VAR_VALUE }]);
            const hooks = await api(server, server.secretKey, 'GET', '/admin/webhooks/settings');
            assert.equal((hooks.json['data'] as { url: string }).url, 'https://hooks.example.com/switchboard');
            assert.deepEqual(await api(server, prodKey, 'GET', '/integrations/github-my-app?include=credentials&include=config'), prodBefore);
        });

        it('a rotated secret is planned as changed, without its value, and applied', async () => {
            const p = plan(desired(SECRET_2), await readCurrent(broker, desired(SECRET_2)));
            assert.deepEqual(p.actions, [
                {
                    kind: 'update-integration',
                    environment: 'dev',
                    key: 'github-my-app',
                    changes: [{ field: 'credentials.client_secret', secret: true, change: 'changed' }]
                }
            ]);
            for (const dump of [JSON.stringify(p), inspect(p, { showHidden: true, depth: null }), formatPlan(p).join('\n')]) {
                for (const s of [SECRET_1, SECRET_2, VAR_VALUE, 'sl-secret', 'st-secret']) assert.ok(!dump.includes(s), 'a secret is in the plan');
            }
            await apply(broker, p);
            assert.deepEqual(plan(desired(SECRET_2), await readCurrent(broker, desired(SECRET_2))).actions, []);
        });

        it('an integration the file drops is kept without prune, deleted with it', async () => {
            const kept = plan(desired(SECRET_2, false), await readCurrent(broker, desired(SECRET_2, false)));
            assert.deepEqual(kept.actions, []);
            assert.deepEqual(kept.unmanaged, [{ environment: 'dev', key: 'slack' }]);
            const pruned = plan(desired(SECRET_2, false), await readCurrent(broker, desired(SECRET_2, false)), { prune: true });
            assert.deepEqual(pruned.actions, [{ kind: 'delete-integration', environment: 'dev', key: 'slack' }]);
            await assert.rejects(apply(broker, pruned), /allowDestructive/);
            assert.equal((await api(server, server.secretKey, 'GET', '/integrations/slack')).status, 200, 'deleted without consent');
            await apply(broker, pruned, { allowDestructive: true });
            assert.equal((await api(server, server.secretKey, 'GET', '/integrations/slack')).status, 404);
            assert.equal((await api(server, prodKey, 'GET', '/integrations/github-my-app')).status, 200);
        });

        it("the broker's refusal carries the place in the desired state, and nothing else changed", async () => {
            const bad = desired(SECRET_2, false);
            bad.environments['dev']!.integrations!['github-my-app']!.credentials = { type: 'APP', app_id: '1', app_link: 'x', private_key: 'not a key' };
            const p = plan(bad, await readCurrent(broker, bad));
            const err = await apply(broker, p).then(
                () => assert.fail('applied'),
                (e: unknown) => e
            );
            assert.ok(err instanceof BrokerError, String(err));
            assert.deepEqual(err.path?.slice(0, 5), ['environments', 'dev', 'integrations', 'github-my-app', 'credentials']);
            assert.deepEqual(plan(desired(SECRET_2, false), await readCurrent(broker, desired(SECRET_2, false))).actions, []);
        });

        it('an APP integration with a webhook secret plans nothing once applied; the same plan applied twice is harmless', async () => {
            const { privateKey } = rsaKeyPair();
            const want: DesiredState = {
                environments: {
                    staging: {
                        integrations: {
                            'gh-app': {
                                provider: 'github-app',
                                credentials: {
                                    type: 'APP',
                                    app_id: '42',
                                    app_link: 'https://github.com/apps/x',
                                    private_key: privateKey,
                                    webhook_secret: 'app-hook-secret'
                                }
                            }
                        }
                    }
                }
            };
            const p = plan(want, await readCurrent(broker, want));
            assert.deepEqual(
                p.actions.map((a) => a.kind),
                ['create-integration']
            );
            await apply(broker, p);
            await apply(broker, p);
            assert.deepEqual(plan(want, await readCurrent(broker, want)).actions, []);
            want.environments['staging']!.integrations!['gh-app']!.credentials = {
                type: 'APP',
                app_id: '42',
                app_link: 'https://github.com/apps/x',
                private_key: privateKey
            };
            assert.deepEqual(
                plan(want, await readCurrent(broker, want)).actions.flatMap((a) => ('changes' in a ? a.changes : [])),
                [{ field: 'credentials.webhook_secret', secret: true, change: 'removed' }]
            );
        });

        it("the environment header never redirects an app's secret key, and the admin key needs it", async () => {
            // dev's key naming prod: the key decides, so dev's list and dev's integration, never prod's.
            const listed = await api(server, server.secretKey, 'GET', '/integrations', undefined, 'prod');
            assert.equal(listed.status, 200);
            assert.equal((listed.json['data'] as Array<{ display_name: string }>)[0]?.display_name, 'GitHub (mine)', "dev's list");
            const one = await api(server, server.secretKey, 'GET', '/integrations/github-my-app?include=credentials', undefined, 'prod');
            assert.equal(
                (one.json['data'] as { credentials: { client_id: string } }).credentials.client_id,
                'gh-id',
                "prod's integration was read with dev's key"
            );
            const before = await api(server, prodKey, 'GET', '/integrations/github-my-app?include=credentials');
            const patched = await api(server, server.secretKey, 'PATCH', '/integrations/github-my-app', { display_name: 'via dev key' }, 'prod');
            assert.equal(patched.status, 200);
            assert.deepEqual(await api(server, prodKey, 'GET', '/integrations/github-my-app?include=credentials'), before, "prod's integration changed");
            // The admin key without the header is not an environment's key.
            assert.equal((await api(server, server.adminKey, 'GET', '/integrations')).json['error'] !== undefined, true);
            assert.equal((await api(server, server.adminKey, 'GET', '/integrations/github-my-app')).status, 403);
            assert.equal((await api(server, server.adminKey, 'GET', '/integrations', undefined, 'no-such-env')).status, 404);
            // Put dev back as the file has it.
            await apply(broker, plan(desired(SECRET_2, false), await readCurrent(broker, desired(SECRET_2, false))));
        });

        it("upserts and deletes one integration with an environment's secret key (the operator's path)", async () => {
            const env = new BrokerClient({ baseUrl: server.url, auth: { kind: 'secret', key: prodKey } }).environment('prod');
            const want = { provider: 'slack', display_name: 'Slack', credentials: { type: 'OAUTH2' as const, client_id: 'a', client_secret: 'b' } };
            assert.equal((await upsertIntegration(env, 'slack-op', want)).outcome, 'created');
            assert.deepEqual(await upsertIntegration(env, 'slack-op', want), { outcome: 'unchanged', changes: [] });
            const rotated = await upsertIntegration(env, 'slack-op', { ...want, credentials: { ...want.credentials, client_secret: 'c' } });
            assert.deepEqual(rotated, { outcome: 'updated', changes: [{ field: 'credentials.client_secret', secret: true, change: 'changed' }] });
            // The admin key's view of dev never saw it: the secret key decides the environment.
            assert.equal((await api(server, server.secretKey, 'GET', '/integrations/slack-op')).status, 404);
            assert.equal(await deleteIntegration(env, 'slack-op'), true);
            assert.equal(await deleteIntegration(env, 'slack-op'), false);
        });
    });
}
