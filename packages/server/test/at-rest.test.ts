// No plaintext secret at rest (docs/security.md, items 13 and 7): run the real server, store secrets through the API, stop it,
// then grep every byte it left behind (PGlite data folder, PostgreSQL dump, its own logs) for them.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, type TestServer } from './support/server.ts';
import { apiOf, findMarkers, marker, readAllFiles } from './support/storage-secrets.ts';

const run = promisify(execFile);

/** Secrets (must never be found) and plain values (must be found: proves the scan can see stored data). */
function newValues() {
    return {
        secrets: {
            clientSecret: marker('cs'),
            webhookSecret: marker('wh'),
            customWebhookSecret: marker('cwh'),
            accessToken: marker('at'),
            refreshToken: marker('rt'),
            idToken: marker('idt'),
            rawField: marker('raw'),
            apiKey: marker('ak')
        },
        plain: {
            connectionId: marker('conn'),
            metadataValue: marker('meta')
        }
    };
}

/** Creates the integrations and connections through the HTTP API, then reads them back as an app would. */
async function storeSecrets(server: TestServer, v: ReturnType<typeof newValues>): Promise<void> {
    const api = apiOf(server);
    const s = v.secrets;
    let res = await api('POST', '/integrations', {
        provider: 'google-calendar',
        unique_key: 'gcal',
        credentials: { type: 'OAUTH2', client_id: 'client-id-not-secret', client_secret: s.clientSecret, scopes: 'openid', webhook_secret: s.webhookSecret }
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await api('POST', '/connections', {
        provider_config_key: 'gcal',
        connection_id: v.plain.connectionId,
        credentials: {
            type: 'OAUTH2',
            access_token: s.accessToken,
            refresh_token: s.refreshToken,
            expires_at: new Date(Date.now() + 24 * 3600_000).toISOString(), // far enough that reads never try a refresh
            raw: { access_token: s.accessToken, refresh_token: s.refreshToken, id_token: s.idToken, custom_field: s.rawField, token_type: 'Bearer' }
        },
        metadata: { note: v.plain.metadataValue }
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // Stripe's endpoint secret lives in custom.webhookSecret, as in Nango (migration 023: encrypted too).
    res = await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe', custom: { webhookSecret: s.customWebhookSecret } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await api('POST', '/connections', {
        provider_config_key: 'stripe',
        connection_id: 'stripe-conn',
        credentials: { type: 'API_KEY', apiKey: s.apiKey }
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));

    // Read paths too: a secret that leaks into logs usually does so on the way out.
    res = await api('GET', `/connections/${encodeURIComponent(v.plain.connectionId)}?provider_config_key=gcal&refresh_token=true`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.credentials.access_token, s.accessToken);
    assert.equal(res.body.credentials.refresh_token, s.refreshToken);
    res = await api('GET', '/connections/stripe-conn?provider_config_key=stripe');
    assert.equal(res.body.credentials.apiKey, s.apiKey);
    res = await api('GET', '/integrations/gcal?include=credentials');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(JSON.stringify(res.body).includes(s.clientSecret), 'the integration secret did not round-trip');
    res = await api('GET', '/config/gcal?include_creds=true');
    assert.equal(res.body.config.client_secret, s.clientSecret);
    res = await api('PATCH', '/connections/metadata', { provider_config_key: 'gcal', connection_id: v.plain.connectionId, metadata: { second: 'value' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await api('GET', '/connections?search=conn');
    assert.equal(res.status, 200);
    assert.ok(!JSON.stringify(res.body).includes(s.accessToken), 'the connection list returned credentials');
}

function assertNoMarkers(where: string, data: Buffer, secrets: Record<string, string>): void {
    const found = findMarkers(data, secrets);
    assert.deepEqual(found, [], `${where} contains ${found.join(', ')}`);
}

describe('no plaintext secret at rest', () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    after(async () => {
        for (const c of cleanups.reverse()) await c();
    });

    test('embedded PGlite: no file in the data folder holds a secret; neither do the logs', async () => {
        const v = newValues();
        const server = await startServer();
        cleanups.push(
            () => server.stop(),
            () => removeDir(server.dataDir)
        );
        await storeSecrets(server, v);
        await server.stop();

        const secrets = { ...v.secrets, environmentSecretKey: server.secretKey };
        const files = readAllFiles(server.dataDir);
        assert.ok(files.length > 10, `only ${files.length} files in ${server.dataDir}`);
        for (const f of files) assertNoMarkers(f.path, f.data, secrets);
        // The scan can fail: the plain values we stored are there, in the same files.
        const all = Buffer.concat(files.map((f) => f.data));
        assert.deepEqual(findMarkers(all, { connectionId: v.plain.connectionId }).slice(0, 1), ['connectionId (utf8)'], 'the scan did not see the stored rows');
        assert.ok(all.includes(Buffer.from(v.plain.metadataValue)), 'the scan did not see the stored metadata');
        assertNoMarkers('the server output', Buffer.from(server.output()), secrets);
        assert.match(server.output(), /"msg":"listening"/);
    });

    test('PostgreSQL: a pg_dump holds no secret (but does hold the plain values); neither do the data folder or the logs', async () => {
        const v = newValues();
        const database = await createTestDatabase();
        cleanups.push(() => database.drop());
        const encryptionKey = testEncryptionKey();
        const server = await startServer({ SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: encryptionKey });
        cleanups.push(
            () => server.stop(),
            () => removeDir(server.dataDir)
        );
        await storeSecrets(server, v);
        await server.stop();

        const { stdout: dump } = await run('pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', new URL(database.url).pathname.slice(1)], {
            maxBuffer: 64 * 1024 * 1024,
            encoding: 'buffer'
        });
        const secrets = { ...v.secrets, environmentSecretKey: server.secretKey, encryptionKey };
        assertNoMarkers('the pg_dump', dump, secrets);
        assert.ok(dump.includes(Buffer.from(v.plain.connectionId)), 'the dump lacks the connection id: the check above proves nothing');
        assert.ok(dump.includes(Buffer.from(v.plain.metadataValue)), 'the dump lacks the metadata value');
        assert.match(dump.toString('utf8'), /sbv1\.[0-9a-f]{16}\./, 'the dump holds no vault ciphertext');
        for (const f of readAllFiles(server.dataDir)) assertNoMarkers(f.path, f.data, secrets);
        assertNoMarkers('the server output', Buffer.from(server.output()), secrets);
    });
});
