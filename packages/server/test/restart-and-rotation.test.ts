// Restarts and master-key rotation on the real server (started as the README starts it), on PGlite and PostgreSQL,
// plus the boot-time configuration errors that must name their variable.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, type TestServer } from './support/server.ts';
import { apiOf, marker } from './support/storage-secrets.ts';
import { openDatabase } from '../src/storage/open.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { keyId } from '../src/vault/keys.ts';
import type { Db } from '../src/storage/db.ts';

interface Stored {
    clientSecret: string;
    accessToken: string;
    refreshToken: string;
    apiKey: string;
    connectionId: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
    for (const c of cleanups.reverse()) await c();
});

/** Starts a server and registers its stop for the end of the file (stopping twice is harmless). */
async function start(env: Record<string, string>): Promise<TestServer> {
    const server = await startServer(env);
    cleanups.push(() => server.stop());
    return server;
}

async function createData(server: TestServer): Promise<Stored> {
    const api = apiOf(server);
    const v: Stored = {
        clientSecret: marker('cs'),
        accessToken: marker('at'),
        refreshToken: marker('rt'),
        apiKey: marker('ak'),
        connectionId: `conn-${randomUUID()}`
    };
    let res = await api('POST', '/integrations', {
        provider: 'google-calendar',
        unique_key: 'gcal',
        credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: v.clientSecret }
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await api('POST', '/connections', {
        provider_config_key: 'gcal',
        connection_id: v.connectionId,
        credentials: {
            type: 'OAUTH2',
            access_token: v.accessToken,
            refresh_token: v.refreshToken,
            expires_at: new Date(Date.now() + 24 * 3600_000).toISOString(),
            raw: { scope: 'calendar' }
        }
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    res = await api('POST', '/connections/metadata', { provider_config_key: 'gcal', connection_id: v.connectionId, metadata: { plan: 'pro', seats: 3 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    res = await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await api('POST', '/connections', { provider_config_key: 'stripe', connection_id: 'stripe-1', credentials: { type: 'API_KEY', apiKey: v.apiKey } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return v;
}

/** Reads everything back through the API and checks every secret and value came through intact. */
async function assertReadable(server: TestServer, v: Stored, when: string): Promise<void> {
    const api = apiOf(server);
    let res = await api('GET', `/connections/${v.connectionId}?provider_config_key=gcal&refresh_token=true`);
    assert.equal(res.status, 200, `${when}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.credentials.access_token, v.accessToken, when);
    assert.equal(res.body.credentials.refresh_token, v.refreshToken, when);
    assert.deepEqual(res.body.metadata, { plan: 'pro', seats: 3 }, when);
    res = await api('GET', '/connections/stripe-1?provider_config_key=stripe');
    assert.equal(res.status, 200, `${when}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.credentials.apiKey, v.apiKey, when);
    res = await api('GET', '/integrations/gcal?include=credentials');
    assert.equal(res.status, 200, `${when}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.data.credentials.client_secret, v.clientSecret, when);
}

/** Key ids of every stored ciphertext (connections and integrations). */
async function storedKeyIds(db: Db): Promise<string[]> {
    const rows = await db.query<{ kid: string }>(
        "SELECT split_part(credentials, '.', 2) AS kid FROM connections UNION ALL SELECT split_part(credentials, '.', 2) FROM integrations WHERE credentials IS NOT NULL"
    );
    return rows.map((r) => r.kid);
}

async function pgliteKeyIds(dataDir: string): Promise<string[]> {
    const db = await openDatabase({ databaseUrl: undefined, dataDir });
    try {
        return await storedKeyIds(db);
    } finally {
        await db.close();
    }
}

/** Starts with `env` expecting the boot to fail; returns the error message (with the output). A server that did start is stopped. */
async function bootFailure(env: Record<string, string>): Promise<string> {
    const outcome = await startServer(env).then(
        (server) => server,
        (err: Error) => err
    );
    if (outcome instanceof Error) return outcome.message;
    await outcome.stop();
    assert.fail(`the server started:\n${outcome.output()}`);
}

/** A rotation answer: the current key id, how many secrets moved to it, and no failure listed. */
function assertRotated(
    body: any,
    keyId: string,
    reencrypted: {
        integrations: number;
        connections: number;
        webhook_settings: number;
        environment_variables?: number;
        environment_hmac_keys?: number;
        action_runs?: number;
    }
): void {
    assert.equal(body?.data?.key_id, keyId, JSON.stringify(body));
    assert.deepEqual(body.data.reencrypted, { environment_variables: 0, environment_hmac_keys: 0, action_runs: 0, ...reencrypted }, JSON.stringify(body));
    assert.deepEqual(
        body.data.failed,
        { integrations: [], connections: [], webhook_settings: [], environment_variables: [], environment_hmac_keys: [], action_runs: [] },
        JSON.stringify(body)
    );
}

const readKeyFile = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'encryption.key'), 'utf8')) as { current: string; previous: string[] };
const idOf = (base64Key: string) => keyId(Buffer.from(base64Key, 'base64'));

describe('embedded (PGlite, key file)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-restart-'));
    const secretKey = randomUUID();
    const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey };
    cleanups.push(() => removeDir(dataDir));
    let stored: Stored;

    test('a restart (SIGTERM, start again on the same folder and secret key) keeps everything', async () => {
        const first = await start(env);
        stored = await createData(first);
        await assertReadable(first, stored, 'before the restart');
        await first.stop('SIGTERM');
        assert.match(first.output(), /"msg":"shutting down"/);

        const second = await start(env);
        assert.doesNotMatch(second.output(), /generated an encryption key/, 'the restart made a new key');
        await assertReadable(second, stored, 'after the restart');
        await second.stop();
    });

    test('POST /admin/keys/rotate {"generate":true} rotates the key file and re-encrypts; restarts still read everything', async () => {
        const before = readKeyFile(dataDir);
        assert.deepEqual(before.previous, []);
        const server = await start(env);
        const api = apiOf(server, server.adminKey);
        const res = await api('POST', '/admin/keys/rotate', { generate: true });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const after = readKeyFile(dataDir);
        assert.notEqual(after.current, before.current);
        assert.deepEqual(after.previous, [before.current], 'the old key must stay as a previous key');
        assert.equal(statSync(join(dataDir, 'encryption.key')).mode & 0o777, 0o600);
        assertRotated(res.body, idOf(after.current), { integrations: 1, connections: 2, webhook_settings: 1 });
        await assertReadable(server, stored, 'right after the rotation');

        const again = await api('POST', '/admin/keys/rotate', {});
        assertRotated(again.body, idOf(after.current), { integrations: 0, connections: 0, webhook_settings: 0 });
        await server.stop();

        assert.deepEqual([...new Set(await pgliteKeyIds(dataDir))], [idOf(after.current)], 'a ciphertext is still under the old key');
        const restarted = await start(env);
        await assertReadable(restarted, stored, 'after rotating and restarting');
        await restarted.stop();
    });

    test('a second server on the same data folder refuses to start, naming SWITCHBOARD_DATA_DIR', async () => {
        const running = await start(env);
        const message = await bootFailure(env);
        assert.match(message, /exited with 78/);
        assert.match(message, /SWITCHBOARD_DATA_DIR/);
        await assertReadable(running, stored, 'the first server, after the second was refused');
        await running.stop();
    });

    test('after a crash (SIGKILL) the next start recovers the data and is not blocked by the stale lock', async () => {
        const crashing = await start(env);
        const api = apiOf(crashing);
        const late = await api('POST', '/connections', {
            provider_config_key: 'stripe',
            connection_id: 'written-before-crash',
            credentials: { type: 'API_KEY', apiKey: 'k-crash' }
        });
        assert.equal(late.status, 201, JSON.stringify(late.body));
        await crashing.stop('SIGKILL');
        const restarted = await start(env);
        await assertReadable(restarted, stored, 'after a crash');
        const res = await apiOf(restarted)('GET', '/connections/written-before-crash?provider_config_key=stripe');
        assert.equal(res.status, 200, `a connection acknowledged (201) before the crash was lost: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.credentials.apiKey, 'k-crash');
        await restarted.stop();
    });

    test('a key file readable by others stops the boot, naming the file and the fix', async () => {
        const file = join(dataDir, 'encryption.key');
        chmodSync(file, 0o644);
        try {
            const message = await bootFailure(env);
            assert.match(message, /exited with 78/);
            assert.ok(message.includes(file), message);
            assert.match(message, /chmod 600/);
        } finally {
            chmodSync(file, 0o600);
        }
    });

    // Regression: with encryption.key lost (a backup restored without it, a volume that kept pgdata only) the server generated
    // a fresh key and started normally: every stored secret unreadable, and new ones written under a key the backup lacks.
    test('a lost key file with encrypted data present stops the boot', async () => {
        const copy = mkdtempSync(join(tmpdir(), 'sb-restart-lost-'));
        cleanups.push(() => removeDir(copy));
        const server = await start({ ...env, SWITCHBOARD_DATA_DIR: copy });
        await createData(server);
        await server.stop();
        rmSync(join(copy, 'encryption.key'));
        const message = await bootFailure({ ...env, SWITCHBOARD_DATA_DIR: copy });
        assert.match(message, /exited with 78/);
        assert.ok(message.includes(join(copy, 'encryption.key')), message);
    });
});

describe('SWITCHBOARD_ENCRYPTION_KEY on PostgreSQL', () => {
    const keyA = testEncryptionKey();
    const keyB = testEncryptionKey();
    const secretKey = randomUUID();
    let url: string;
    let stored: Stored;
    let sql: Db;
    const envWith = (keys: Record<string, string>) => ({ SWITCHBOARD_DATABASE_URL: url, SWITCHBOARD_SECRET_KEY: secretKey, ...keys });

    test('start with key A and store data', async () => {
        const database = await createTestDatabase();
        url = database.url;
        cleanups.push(() => database.drop());
        const server = await start(envWith({ SWITCHBOARD_ENCRYPTION_KEY: keyA }));
        cleanups.push(() => removeDir(server.dataDir));
        stored = await createData(server);
        await server.stop();
        sql = await openPostgres(url, 1);
        cleanups.push(() => sql.close());
        assert.deepEqual([...new Set(await storedKeyIds(sql))], [idOf(keyA)]);
    });

    test('restarting with only key B before rotating: refuses to start, naming both key ids; nothing is damaged', async () => {
        await assert.rejects(start(envWith({ SWITCHBOARD_ENCRYPTION_KEY: keyB })), (err: Error) => {
            assert.match(err.message, /server exited with 78/);
            assert.match(err.message, /encryption key does not match the stored data/);
            assert.ok(err.message.includes(idOf(keyA)) && err.message.includes(idOf(keyB)), err.message);
            assert.match(err.message, /SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS/);
            return true;
        });
        assert.deepEqual([...new Set(await storedKeyIds(sql))], [idOf(keyA)]);
    });

    test('B with A as previous reads everything; rotate re-encrypts under B; then B alone reads everything', async () => {
        const rotating = await start(envWith({ SWITCHBOARD_ENCRYPTION_KEY: keyB, SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS: keyA }));
        cleanups.push(() => removeDir(rotating.dataDir));
        await assertReadable(rotating, stored, 'with B and previous A');
        const api = apiOf(rotating, rotating.adminKey);
        const refused = await api('POST', '/admin/keys/rotate', { generate: true });
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.match(refused.body.error.message, /SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS/);
        const res = await api('POST', '/admin/keys/rotate', {});
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assertRotated(res.body, idOf(keyB), { integrations: 1, connections: 2, webhook_settings: 1 });
        assert.deepEqual([...new Set(await storedKeyIds(sql))], [idOf(keyB)]);
        await assertReadable(rotating, stored, 'right after rotating');
        await rotating.stop();

        const onlyB = await start(envWith({ SWITCHBOARD_ENCRYPTION_KEY: keyB }));
        cleanups.push(() => removeDir(onlyB.dataDir));
        await assertReadable(onlyB, stored, 'with B alone after rotating');
        await onlyB.stop();
    });
});

describe('configuration errors fail fast and name the variable', () => {
    /** Starts with `env`, expects the process to exit with 78, and returns what it printed. */
    async function refusedBoot(env: Record<string, string>): Promise<string> {
        const dataDir = mkdtempSync(join(tmpdir(), 'sb-config-'));
        cleanups.push(() => removeDir(dataDir));
        const message = await bootFailure({ SWITCHBOARD_DATA_DIR: dataDir, ...env });
        assert.match(message, /server exited with 78:/, message);
        assert.match(message, /switchboard: configuration error: /, message);
        return message;
    }

    test('SWITCHBOARD_DATABASE_URL without an encryption key', async () => {
        const out = await refusedBoot({ SWITCHBOARD_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/never_opened' });
        assert.match(out, /SWITCHBOARD_ENCRYPTION_KEY: required when SWITCHBOARD_DATABASE_URL is set/);
    });

    test('an encryption key that is too short, without echoing it', async () => {
        const out = await refusedBoot({ SWITCHBOARD_ENCRYPTION_KEY: 'short' });
        assert.match(out, /SWITCHBOARD_ENCRYPTION_KEY/);
        assert.match(out, /32-byte key/);
        const secretish = `not-a-key-${randomBytes(8).toString('hex')}`;
        const out2 = await refusedBoot({ SWITCHBOARD_ENCRYPTION_KEY: secretish });
        assert.ok(!out2.includes(secretish), 'the error message echoed the key');
    });

    test('an invalid previous key names SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS', async () => {
        const out = await refusedBoot({ SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey(), SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS: 'short' });
        assert.match(out, /SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS/);
    });

    test('PORT=abc', async () => {
        const out = await refusedBoot({ PORT: 'abc' });
        assert.match(out, /configuration error: PORT: /);
    });
});
