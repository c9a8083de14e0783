// Environment variables for scripts: set by the operator (PUT /admin/environment-variables), read by apps with the
// official SDK's getEnvironmentVariables() and by scripts with nango.getEnvironmentVariables(); values encrypted at
// rest, re-encrypted by key rotation, kept across restarts; bad input changes nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { adminApi, api } from './support/webhooks.ts';
import { sdkFailure } from './support/sdk.ts';
import { deploy } from './support/functions.ts';
import { readAllFiles, findMarkers } from './support/storage-secrets.ts';

const secret = `sk_live_${randomBytes(12).toString('hex')}`;

describe('environment variables', () => {
    let server: TestServer;
    let nango: Nango;
    const providers = writeProvidersFile(`vars-api:\n  display_name: Vars\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:9\n`);

    before(async () => {
        server = await startServer({ SWITCHBOARD_PROVIDERS: providers });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'vars-api', unique_key: 'vars' });
        assert.equal(
            (await api(server, 'POST', '/connections', { provider_config_key: 'vars', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k' } }))
                .status,
            201
        );
        assert.equal((await deploy(server, [{ type: 'action', name: 'env-vars', file: 'env-vars.cjs', providerConfigKey: 'vars' }])).status, 200);
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('none set: the SDK and a script see an empty list', async () => {
        assert.deepEqual(await nango.getEnvironmentVariables(), []);
        assert.deepEqual(await nango.triggerAction('vars', 'c1', 'env-vars'), { variables: [] });
    });

    it('set as a whole; the SDK and scripts read names and values; a new set replaces the old one', async () => {
        const set = await api(server, 'PUT', '/admin/environment-variables', {
            variables: [
                { name: 'STRIPE_KEY', value: secret },
                { name: 'API_BASE', value: 'https://api.example.com' }
            ]
        });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        assert.deepEqual(set.body, { data: { names: ['API_BASE', 'STRIPE_KEY'] } });
        const expected = [
            { name: 'API_BASE', value: 'https://api.example.com' },
            { name: 'STRIPE_KEY', value: secret }
        ];
        assert.deepEqual(await nango.getEnvironmentVariables(), expected);
        assert.deepEqual(await nango.triggerAction('vars', 'c1', 'env-vars'), { variables: expected });

        assert.equal((await api(server, 'PUT', '/admin/environment-variables', { variables: [{ name: 'STRIPE_KEY', value: secret }] })).status, 200);
        assert.deepEqual(await nango.getEnvironmentVariables(), [{ name: 'STRIPE_KEY', value: secret }]);
    });

    it('bad input is a 400 invalid_body and changes nothing', async () => {
        const before = await nango.getEnvironmentVariables();
        const bad: unknown[] = [
            {
                variables: [
                    { name: 'A', value: '1' },
                    { name: 'A', value: '2' }
                ]
            },
            { variables: [{ name: '1ABC', value: 'x' }] },
            { variables: [{ name: 'HAS SPACE', value: 'x' }] },
            { variables: [{ name: 'A', value: 'x'.repeat(64 * 1024 + 1) }] },
            { variables: [{ name: 'A', value: 'x', extra: true }] },
            { variables: [{ name: 'A' }] },
            { vars: [] },
            {}
        ];
        for (const body of bad) {
            const res = await api(server, 'PUT', '/admin/environment-variables', body);
            assert.equal(res.status, 400, JSON.stringify(body).slice(0, 100));
            assert.equal((res.body as { error: { code: string } }).error.code, 'invalid_body');
        }
        assert.deepEqual(await nango.getEnvironmentVariables(), before);
    });

    it('the read takes no query, and both routes need the secret key', async () => {
        assert.equal((await api(server, 'GET', '/environment-variables?x=1')).status, 400);
        const wrong = new Nango({ host: server.url, secretKey: 'not-the-key' });
        assert.equal((await sdkFailure(wrong.getEnvironmentVariables())).status, 401);
        const res = await fetch(`${server.url}/admin/environment-variables`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ variables: [] })
        });
        assert.equal(res.status, 401);
    });

    it('key rotation re-encrypts the values; a restart keeps them; the data folder and the log hold no plaintext', async () => {
        const rotated = await adminApi(server, 'POST', '/admin/keys/rotate', { generate: true });
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        assert.equal((rotated.body as { data: { reencrypted: { environment_variables: number } } }).data.reencrypted.environment_variables, 1);
        assert.deepEqual(await nango.getEnvironmentVariables(), [{ name: 'STRIPE_KEY', value: secret }]);

        await server.stop();
        const files = readAllFiles(server.dataDir);
        for (const f of files) assert.deepEqual(findMarkers(f.data, { secret }), [], f.path);
        assert.deepEqual(findMarkers(Buffer.from(server.output()), { secret }), []);

        server = await startServer({ SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        assert.deepEqual(await nango.getEnvironmentVariables(), [{ name: 'STRIPE_KEY', value: secret }]);
    });
});
