// Environments and keys (issue #12 item 3): create, list, rename and delete environments with the admin key (API and
// CLI); secret keys added, rotated with an overlap window and revoked; the admin key is the only credential for
// operator routes and is never an app key. On PGlite and on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { removeDir, startServer, type TestServer, storageEnv } from './support/server.ts';
import { adminApi, api, waitFor } from './support/webhooks.ts';
import { runCli } from './support/cli.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`environments and keys (${backend})`, () => {
        let server: TestServer;
        let drop: (() => Promise<void>) | undefined;
        const as = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
            api(server, method, path, body, { ...bearer(key), ...headers });
        const names = async () => ((await adminApi(server, 'GET', '/admin/environments')).body.data as Array<{ name: string }>).map((e) => e.name);

        before(async () => {
            const env: Record<string, string> = {};
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('creates, lists, renames and deletes environments; each has its own key; bad input changes nothing', async () => {
            assert.deepEqual(await names(), ['dev']);
            const created = await adminApi(server, 'POST', '/admin/environments', { name: 'prod' });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const prodKey: string = created.body.data.secret_key;
            assert.match(prodKey, /^[0-9a-f-]{36}$/);
            assert.deepEqual(await names(), ['dev', 'prod']);

            // The official SDK works with the new environment's key, and sees only that environment.
            const prod = new Nango({ host: server.url, apiKey: prodKey });
            await prod.createIntegration({ provider: 'openai', unique_key: 'llm' });
            assert.deepEqual(
                (await prod.listIntegrations()).configs.map((c) => c.unique_key),
                ['llm']
            );
            assert.deepEqual((await as(server.secretKey, 'GET', '/integrations')).body.data, []);

            for (const [body, code] of [
                [{ name: 'prod' }, 'environment_already_exists'],
                [{ name: 'Prod!' }, 'invalid_body'],
                [{ name: '' }, 'invalid_body'],
                [{ name: 'x', extra: 1 }, 'invalid_body']
            ] as const) {
                const res = await adminApi(server, 'POST', '/admin/environments', body);
                assert.equal(res.body.error.code, code, JSON.stringify(res.body));
            }
            assert.equal((await adminApi(server, 'PATCH', '/admin/environments/prod', { name: 'dev' })).body.error.code, 'environment_already_exists');
            assert.equal((await adminApi(server, 'PATCH', '/admin/environments/nope', { name: 'x' })).body.error.code, 'unknown_environment');
            assert.equal((await adminApi(server, 'DELETE', '/admin/environments/dev')).body.error.code, 'default_environment_not_deletable');
            assert.deepEqual(await names(), ['dev', 'prod']);

            const renamed = await adminApi(server, 'PATCH', '/admin/environments/prod', { name: 'production' });
            assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
            assert.equal(renamed.body.data.name, 'production');
            assert.equal(renamed.body.data.uuid, created.body.data.uuid, 'a rename keeps the environment (and its webhook URL uuid)');
            assert.deepEqual(
                (await prod.listIntegrations()).configs.map((c) => c.unique_key),
                ['llm'],
                'the key still works after a rename'
            );

            const deleted = await adminApi(server, 'DELETE', '/admin/environments/production');
            assert.equal(deleted.status, 204);
            assert.deepEqual(await names(), ['dev']);
            assert.equal((await as(prodKey, 'GET', '/integrations')).body.error.code, 'unknown_account', 'a deleted environment keeps no working key');
        });

        it('keys: added keys work beside the old; rotation keeps the old key until its overlap ends; revocation is immediate', async () => {
            const { body } = await adminApi(server, 'POST', '/admin/environments', { name: 'staging' });
            const first: string = body.data.secret_key;
            const ok = async (key: string) => (await as(key, 'GET', '/integrations')).status === 200;

            const added = await adminApi(server, 'POST', '/admin/environments/staging/keys', { label: 'ci' });
            assert.equal(added.status, 201, JSON.stringify(added.body));
            const second: string = added.body.data.secret_key;
            assert.ok((await ok(first)) && (await ok(second)));

            // Rotation with an hour of overlap: the new key works, the old ones still do and now carry an expiry.
            const rotated = await adminApi(server, 'POST', '/admin/environments/staging/keys/rotate', { overlap_seconds: 3600 });
            assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
            const third: string = rotated.body.data.secret_key;
            assert.equal(rotated.body.data.retired.length, 2);
            for (const k of rotated.body.data.retired) assert.ok(Date.parse(k.expires_at) > Date.now() + 3_000_000, k.expires_at);
            assert.ok((await ok(first)) && (await ok(second)) && (await ok(third)));

            // Revocation is at once, also on a key this instance has cached.
            const keys = (await adminApi(server, 'GET', '/admin/environments/staging/keys')).body.data as Array<{ id: string; label: string | null }>;
            assert.equal(keys.length, 3);
            assert.ok(!JSON.stringify(keys).includes(first) && !JSON.stringify(keys).includes(second), 'the key list shows no key');
            const ci = keys.find((k) => k.label === 'ci')!;
            const revoked = await adminApi(server, 'DELETE', `/admin/environments/staging/keys/${ci.id}`);
            assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
            assert.equal((await as(second, 'GET', '/integrations')).body.error.code, 'unknown_account');
            assert.ok(await ok(first));

            // A short overlap: the old keys stop once it ends (waited for, not timed), the new one keeps working.
            const again = await adminApi(server, 'POST', '/admin/environments/staging/keys/rotate', { overlap_seconds: 1 });
            const fourth: string = again.body.data.secret_key;
            await waitFor('the old key to expire', async () => !(await ok(first)) && !(await ok(third)));
            assert.ok(await ok(fourth));

            const unknown = await adminApi(server, 'DELETE', '/admin/environments/staging/keys/00000000-0000-4000-8000-000000000000');
            assert.equal(unknown.body.error.code, 'unknown_environment_key');
            // Another environment's key id is unknown here.
            const devKeys = (await adminApi(server, 'GET', '/admin/environments/dev/keys')).body.data as Array<{ id: string }>;
            assert.equal((await adminApi(server, 'DELETE', `/admin/environments/staging/keys/${devKeys[0]!.id}`)).body.error.code, 'unknown_environment_key');
            assert.ok(await ok(server.secretKey));
        });

        it('the admin key is no app key, and an app key is no admin key', async () => {
            const asApp = await as(server.secretKey, 'GET', '/admin/environments');
            assert.equal(asApp.status, 403);
            assert.equal(asApp.body.error.code, 'admin_key_required');
            assert.equal((await as(server.secretKey, 'POST', '/admin/keys/rotate', {})).body.error.code, 'admin_key_required');
            assert.equal((await as(server.adminKey, 'GET', '/integrations')).body.error.code, 'unknown_account');
            // Per-environment admin routes: an app key acts on its own environment; the admin key names one.
            const missing = await as(server.adminKey, 'GET', '/admin/webhooks/settings');
            assert.equal(missing.body.error.code, 'admin_key_required');
            const own = await as(server.secretKey, 'GET', '/admin/webhooks/settings');
            const named = await as(server.adminKey, 'GET', '/admin/webhooks/settings', undefined, { 'switchboard-environment': 'dev' });
            assert.deepEqual(named.body, own.body);
            const nowhere = await as(server.adminKey, 'GET', '/admin/webhooks/settings', undefined, { 'switchboard-environment': 'nope' });
            assert.equal(nowhere.body.error.code, 'unknown_environment');
        });

        it('switchboard env: list, create, keys, rotate, revoke, rename, delete with the admin key', async () => {
            const cli = (...args: string[]) => runCli(args, { SWITCHBOARD_HOST: server.url, SWITCHBOARD_ADMIN_KEY: server.adminKey });
            const created = await cli('env', 'create', 'qa', '--json');
            assert.equal(created.code, 0, created.stderr);
            const qaKey: string = JSON.parse(created.stdout).secret_key;
            assert.equal((await as(qaKey, 'GET', '/integrations')).status, 200);

            const list = await cli('env', 'list');
            assert.equal(list.code, 0, list.stderr);
            assert.match(list.stdout, /^qa {2}[0-9a-f-]{36}/m);

            const rotated = await cli('env', 'key-rotate', 'qa', '--overlap', '0');
            assert.equal(rotated.code, 0, rotated.stderr);
            const newKey = /shown once; store it now\): (\S+)/.exec(rotated.stdout)![1]!;
            assert.equal((await as(newKey, 'GET', '/integrations')).status, 200);
            await waitFor('the rotated-out key to stop', async () => (await as(qaKey, 'GET', '/integrations')).status === 401);

            const keys = JSON.parse((await cli('env', 'keys', 'qa', '--json')).stdout) as Array<{ id: string; expires_at: string | null }>;
            const current = keys.find((k) => k.expires_at === null)!;
            const revoked = await cli('env', 'key-revoke', 'qa', current.id);
            assert.equal(revoked.code, 0, revoked.stderr);
            assert.equal((await as(newKey, 'GET', '/integrations')).status, 401);

            assert.equal((await cli('env', 'rename', 'qa', 'qa2')).code, 0);
            assert.equal((await cli('env', 'delete', 'qa2')).code, 0);
            assert.ok(!(await names()).includes('qa2'));

            const refused = await runCli(['env', 'list'], { SWITCHBOARD_HOST: server.url, SWITCHBOARD_ADMIN_KEY: server.secretKey });
            assert.notEqual(refused.code, 0);
            assert.match(refused.stderr, /admin_key_required/);
            const noKey = await runCli(['env', 'list'], { SWITCHBOARD_HOST: server.url });
            assert.match(noKey.stderr, /MISSING_ADMIN_KEY/);
        });
    });
}

describe('first start without SWITCHBOARD_ADMIN_KEY', () => {
    it('generates an admin key, prints it once with the SDK option apiKey, and keeps it across restarts', async () => {
        const server = await startServer({ SWITCHBOARD_ADMIN_KEY: '', SWITCHBOARD_SECRET_KEY: '' });
        try {
            const out = server.output();
            const adminKey = /generated the admin key[^\n]*\n\n\s+(\S+)/.exec(out)?.[1];
            const secretKey = /generated the secret key[^\n]*\n\n\s+(\S+)/.exec(out)?.[1];
            assert.ok(adminKey && secretKey, out);
            assert.match(out, /the SDK's apiKey \(new Nango\(\{ host, apiKey \}\)/);
            assert.equal((await api(server, 'GET', '/admin/environments', undefined, bearer(adminKey))).status, 200);
            assert.equal((await api(server, 'GET', '/admin/environments', undefined, bearer(secretKey))).status, 403);
            await server.stop();
            const again = await startServer({ SWITCHBOARD_ADMIN_KEY: '', SWITCHBOARD_SECRET_KEY: '', SWITCHBOARD_DATA_DIR: server.dataDir });
            try {
                assert.doesNotMatch(again.output(), /generated the admin key/);
                assert.equal((await api(again, 'GET', '/admin/environments', undefined, bearer(adminKey))).status, 200);
            } finally {
                await again.stop();
            }
        } finally {
            await server.stop();
            removeDir(server.dataDir);
        }
    });

    it('a configured secret key revoked through the API stays revoked after a restart, with a warning', async () => {
        const server = await startServer();
        try {
            const [key] = (await adminApi(server, 'GET', '/admin/environments/dev/keys')).body.data as Array<{ id: string; source: string }>;
            assert.equal(key!.source, 'config');
            assert.equal((await adminApi(server, 'DELETE', `/admin/environments/dev/keys/${key!.id}`)).status, 200);
            await server.stop();
            const again = await startServer({ SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
            try {
                assert.equal((await api(again, 'GET', '/integrations')).body.error.code, 'unknown_account');
                assert.match(again.output(), /SWITCHBOARD_SECRET_KEY was revoked or rotated out through the API and stays refused/);
            } finally {
                await again.stop();
            }
        } finally {
            await server.stop();
            removeDir(server.dataDir);
        }
    });
});
