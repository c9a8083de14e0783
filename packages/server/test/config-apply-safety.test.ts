// Regressions in the config-file tooling (@switchboard/apply, `switchboard apply -f`), embedded and on PostgreSQL:
// - a secret key with a file naming another environment changed (and with --prune, pruned) the key's own
//   environment: now refused before anything is read or changed (GET /environment names the key's environment);
// - a provider change deleted the integration, then created the new one: a refused create left it gone; now the
//   broker replaces it in one transaction (POST /admin/integrations/:key/replace) and a refusal changes nothing;
// - a create that met an integration created meanwhile was recognised by its error message and updated whatever
//   provider it had; now the issue code (duplicate_provider_config) decides and another provider is left alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
    apply,
    BrokerClient,
    BrokerError,
    PlanOutdated,
    plan,
    readCurrent,
    upsertIntegration,
    WrongEnvironment,
    type DesiredIntegration,
    type DesiredState
} from '@switchboard/apply';
import { removeDir, startServer, storageEnv, type TestServer } from './support/server.ts';
import { runCli } from './support/cli.ts';
import { rsaKeyPair } from './support/github-app.ts';

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

const oauth = (id: string, secret: string) => ({ type: 'OAUTH2' as const, client_id: id, client_secret: secret });

for (const kind of ['embedded', 'postgres'] as const) {
    describe(`config-file tooling refuses what it used to get wrong (${kind})`, () => {
        let server: TestServer;
        let db: Awaited<ReturnType<typeof storageEnv>>;
        let prodKey: string;
        /** Every integration of an environment, credentials and config included: what "nothing changed" compares. */
        const snapshot = async (key: string) => {
            const list = await api(server, key, 'GET', '/integrations');
            const keys = (list.json['data'] as Array<{ unique_key: string }>).map((i) => i.unique_key).sort();
            const all: Record<string, unknown> = {};
            for (const k of keys) all[k] = (await api(server, key, 'GET', `/integrations/${k}?include=credentials&include=config`)).json;
            return all;
        };

        before(async () => {
            db = await storageEnv(kind);
            server = await startServer(db.env);
            const prod = await api(server, server.adminKey, 'POST', '/admin/environments', { name: 'prod' });
            prodKey = (prod.json['data'] as { secret_key: string }).secret_key;
            for (const [key, unique_key, provider] of [
                [server.secretKey, 'dev-github', 'github'],
                [server.secretKey, 'dev-slack', 'slack'],
                [prodKey, 'prod-slack', 'slack']
            ] as const) {
                const made = await api(server, key, 'POST', '/integrations', {
                    unique_key,
                    provider,
                    credentials: oauth(`${unique_key}-id`, `${unique_key}-secret`)
                });
                assert.equal(made.status, 200, JSON.stringify(made.json));
            }
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await db?.drop();
        });

        it("GET /environment names the key's environment, and nothing more", async () => {
            assert.deepEqual((await api(server, server.secretKey, 'GET', '/environment')).json, { data: { name: 'dev' } });
            assert.deepEqual((await api(server, prodKey, 'GET', '/environment')).json, { data: { name: 'prod' } });
            // A secret key is not redirected by the header; the admin key needs it.
            assert.deepEqual((await api(server, server.secretKey, 'GET', '/environment', undefined, 'prod')).json, { data: { name: 'dev' } });
            assert.deepEqual((await api(server, server.adminKey, 'GET', '/environment', undefined, 'prod')).json, { data: { name: 'prod' } });
            assert.equal((await api(server, server.adminKey, 'GET', '/environment')).status, 403);
            assert.equal((await api(server, 'not-a-key', 'GET', '/environment')).status, 401);
            const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
            assert.ok(doc.paths['/environment']?.['get'], 'GET /environment is not in /openapi.json');
            assert.ok(doc.paths['/admin/integrations/{uniqueKey}/replace']?.['post'], 'the replace route is not in /openapi.json');
        });

        it("dev's secret key with a file naming prod is refused before anything changes, even with --prune --yes", async () => {
            const dir = mkdtempSync(join(tmpdir(), 'sb-wrong-env-'));
            const file = join(dir, 'prod.yaml');
            writeFileSync(
                file,
                'environments:\n  prod:\n    integrations:\n      prod-github:\n        provider: github\n        credentials: { type: OAUTH2, client_id: p, client_secret: s }\n'
            );
            const devBefore = await snapshot(server.secretKey);
            const prodBefore = await snapshot(prodKey);
            assert.deepEqual(Object.keys(devBefore), ['dev-github', 'dev-slack']);
            const refused = await runCli(['apply', '-f', file, '--prune', '--yes'], { SWITCHBOARD_HOST: server.url, SWITCHBOARD_SECRET_KEY: server.secretKey });
            assert.equal(refused.code, 1, refused.stdout);
            assert.match(refused.stderr, /^error \[WRONG_ENVIRONMENT\] .*prod\.yaml: the secret key belongs to environment "dev", but the file names "prod"/m);
            assert.equal(refused.stdout, '', 'a plan was printed');
            assert.deepEqual(await snapshot(server.secretKey), devBefore, "dev's integrations changed");
            assert.deepEqual(await snapshot(prodKey), prodBefore, "prod's integrations changed");

            // The library refuses too (what the CLI calls), and prod's own key plans prod as before.
            const desired: DesiredState = { environments: { prod: { integrations: {} } } };
            const dev = new BrokerClient({ baseUrl: server.url, auth: { kind: 'secret', key: server.secretKey } });
            await assert.rejects(readCurrent(dev, desired), WrongEnvironment);
            const prod = new BrokerClient({ baseUrl: server.url, auth: { kind: 'secret', key: prodKey } });
            assert.deepEqual(plan(desired, await readCurrent(prod, desired), { prune: true }).actions, [
                { kind: 'delete-integration', environment: 'prod', key: 'prod-slack' }
            ]);
        });

        it('a replace the broker refuses leaves the integration as it was; an accepted one replaces it', async () => {
            const admin = new BrokerClient({ baseUrl: server.url, auth: { kind: 'admin', key: server.adminKey } });
            const imported = await api(server, server.secretKey, 'POST', '/connections', {
                provider_config_key: 'dev-github',
                connection_id: 'user-1',
                credentials: { type: 'OAUTH2', access_token: 'gh-token', expires_at: new Date(Date.now() + 24 * 3600_000).toISOString() }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.json));
            // The connection as stored (a read moves its last_fetched_at, which says nothing about a replace).
            const connection = async () => {
                const res = await api(server, server.secretKey, 'GET', '/connections/user-1?provider_config_key=dev-github');
                const { last_fetched_at: _read, ...stored } = res.json;
                return { status: res.status, stored };
            };
            const connectionBefore = await connection();
            assert.equal(connectionBefore.status, 200);
            const before = await snapshot(server.secretKey);
            // A private key that does not parse (refused by the body schema) and a credentials type the provider does
            // not take (refused by the auth-mode check): both planned as replacing github.
            const { privateKey } = rsaKeyPair();
            const badKey: DesiredIntegration = {
                provider: 'github-app',
                credentials: { type: 'APP', app_id: '1', app_link: 'https://github.com/apps/x', private_key: 'not a key' }
            };
            for (const integration of [
                badKey,
                { provider: 'gitlab', credentials: { type: 'APP' as const, app_id: '1', app_link: 'https://x', private_key: privateKey } }
            ]) {
                const desired: DesiredState = { environments: { dev: { integrations: { 'dev-github': integration, 'dev-slack': { provider: 'slack' } } } } };
                const p = plan(desired, await readCurrent(admin, desired));
                assert.deepEqual(
                    p.actions.map((a) => a.kind),
                    ['replace-integration']
                );
                const err = await apply(admin, p, { allowDestructive: true }).then(
                    () => assert.fail('applied'),
                    (e: unknown) => e
                );
                assert.ok(err instanceof BrokerError && err.status === 400, String(err));
                assert.deepEqual(err.path?.slice(0, 5), ['environments', 'dev', 'integrations', 'dev-github', 'credentials']);
                assert.deepEqual(await snapshot(server.secretKey), before, 'the refused replace changed the environment');
                assert.deepEqual(await connection(), connectionBefore, "the refused replace dropped the integration's connection");
            }
            // The operator's path (one integration, allowReplace) goes through the same replace.
            const env = new BrokerClient({ baseUrl: server.url, auth: { kind: 'secret', key: server.secretKey } }).environment('dev');
            await assert.rejects(upsertIntegration(env, 'dev-github', badKey, { allowReplace: true }), BrokerError);
            assert.deepEqual(await snapshot(server.secretKey), before);
            // Another environment's key cannot replace dev's integration: it names prod's (absent) one.
            const other = await api(server, prodKey, 'POST', '/admin/integrations/dev-github/replace', { provider: 'gitlab', credentials: oauth('a', 'b') });
            assert.equal(other.status, 404);
            assert.deepEqual(await snapshot(server.secretKey), before);

            const accepted = await upsertIntegration(
                env,
                'dev-github',
                { provider: 'gitlab', credentials: oauth('gl-id', 'gl-secret') },
                { allowReplace: true }
            );
            assert.equal(accepted.outcome, 'replaced');
            assert.equal((await connection()).status, 404, 'the connections of a replaced integration go with it');
            const now = (await api(server, server.secretKey, 'GET', '/integrations/dev-github?include=credentials')).json['data'] as Record<string, unknown>;
            assert.equal(now['provider'], 'gitlab');
            assert.deepEqual(now['credentials'], { type: 'OAUTH2', client_id: 'gl-id', client_secret: 'gl-secret', scopes: null, webhook_secret: null });
            assert.deepEqual(
                (await upsertIntegration(env, 'dev-github', { provider: 'gitlab', credentials: oauth('gl-id', 'gl-secret') })).outcome,
                'unchanged'
            );
        });

        it('an integration created meanwhile with another provider is left alone; with the same provider it is updated', async () => {
            const dup = await api(server, server.secretKey, 'POST', '/integrations', {
                unique_key: 'dev-slack',
                provider: 'slack',
                credentials: oauth('x', 'y')
            });
            assert.equal(dup.status, 400);
            assert.deepEqual(dup.json['error'], {
                code: 'invalid_body',
                message: 'The request body is invalid',
                errors: [{ code: 'duplicate_provider_config', message: 'Unique key already exists', path: ['uniqueKey'] }]
            });

            const admin = new BrokerClient({ baseUrl: server.url, auth: { kind: 'admin', key: server.adminKey } });
            const want = (): DesiredState => ({
                environments: { dev: { integrations: { race: { provider: 'github', display_name: 'From the file', credentials: oauth('f-id', 'f-secret') } } } }
            });
            const p = plan(want(), await readCurrent(admin, want()));
            assert.deepEqual(
                p.actions.map((a) => a.kind),
                ['create-integration']
            );
            // Someone else creates it between plan and apply, with another provider.
            assert.equal(
                (
                    await api(server, server.secretKey, 'POST', '/integrations', {
                        unique_key: 'race',
                        provider: 'gitlab',
                        credentials: oauth('o-id', 'o-secret')
                    })
                ).status,
                200
            );
            const theirs = await api(server, server.secretKey, 'GET', '/integrations/race?include=credentials&include=config');
            await assert.rejects(apply(admin, p), (err: unknown) => err instanceof PlanOutdated && /provider "gitlab"/.test(err.message));
            assert.deepEqual(await api(server, server.secretKey, 'GET', '/integrations/race?include=credentials&include=config'), theirs, 'it was changed');

            // With the same provider, apply makes it as the file says (apply is idempotent).
            assert.equal((await api(server, server.secretKey, 'DELETE', '/integrations/race')).status, 200);
            const again = plan(want(), await readCurrent(admin, want()));
            assert.equal(
                (
                    await api(server, server.secretKey, 'POST', '/integrations', {
                        unique_key: 'race',
                        provider: 'github',
                        credentials: oauth('o-id', 'o-secret')
                    })
                ).status,
                200
            );
            await apply(admin, again);
            const ours = (await api(server, server.secretKey, 'GET', '/integrations/race?include=credentials')).json['data'] as Record<string, unknown>;
            assert.equal(ours['display_name'], 'From the file');
            assert.equal((ours['credentials'] as { client_secret: string }).client_secret, 'f-secret');
        });
    });
}
