// Storage integration tests: one suite, run unchanged against embedded PGlite and real PostgreSQL (CONTRIBUTING.md, "Test rules").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Db } from '../src/storage/db.ts';
import { migrate } from '../src/storage/migrate.ts';
import { openDatabase } from '../src/storage/open.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { ReadCache } from '../src/storage/read-cache.ts';
import { Vault, VaultError } from '../src/vault/vault.ts';
import { makeKeyring } from '../src/vault/keys.ts';
import { Environments } from '../src/environments/environments.ts';
import { IntegrationStore, type Integration } from '../src/integrations/store.ts';
import { ConnectionStore, type ListFilters } from '../src/connections/store.ts';
import type { StoredCredentials } from '../src/connections/credentials.ts';
import { createTestDatabase } from './support/server.ts';
import { backends, deferred, sleep, waitFor, withTimeout, type OpenedBackend } from './support/storage-backends.ts';
import { moduleUrl, runChildScript } from './support/storage-child.ts';

// What migrate() should apply: every NNN_name.sql shipped in src/storage/migrations.
const migrationFiles = readdirSync(new URL('../src/storage/migrations/', import.meta.url))
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();

const masterKey = randomBytes(32);
const vault = new Vault(makeKeyring(masterKey, []));

const oauth2 = (accessToken: string, expiresAt?: Date, refreshToken = `rt-${randomUUID()}`): StoredCredentials => ({
    type: 'OAUTH2',
    access_token: accessToken,
    refresh_token: refreshToken,
    ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
    raw: { access_token: accessToken, scope: 'a b' }
});

/** Records enter/exit of every holder; two holders of one lock must never interleave. */
function assertNoOverlap(events: string[], holders: number): void {
    assert.equal(events.length, holders * 2, events.join(', '));
    for (let i = 0; i < events.length; i += 2) {
        assert.match(events[i]!, /^enter /, events.join(', '));
        assert.equal(events[i + 1], events[i]!.replace('enter', 'exit'), `holders overlapped: ${events.join(', ')}`);
    }
}

async function holdConcurrently(dbs: Db[], key: string): Promise<string[]> {
    const events: string[] = [];
    await Promise.all(
        dbs.map((db, i) =>
            db.withLock(key, async () => {
                events.push(`enter ${i}`);
                await sleep(40);
                await db.query('SELECT 1');
                events.push(`exit ${i}`);
            })
        )
    );
    return events;
}

/** Proves two keys can be held at once: each holder waits for the other to be inside (a barrier). */
async function assertKeysIndependent(a: Db, b: Db): Promise<void> {
    const inA = deferred();
    const inB = deferred();
    const k = randomUUID();
    await Promise.all([
        a.withLock(`sb-test:${k}:1`, async () => {
            inA.resolve();
            await withTimeout(inB.promise, 5000, 'lock 2 could not be taken while lock 1 was held');
        }),
        b.withLock(`sb-test:${k}:2`, async () => {
            inB.resolve();
            await withTimeout(inA.promise, 5000, 'lock 1 could not be taken while lock 2 was held');
        })
    ]);
}

/** Proves `b` waits while `a` holds the key, and gets it once `a` lets go. */
async function assertWaitsForHolder(a: Db, b: Db): Promise<void> {
    const key = `sb-test:${randomUUID()}`;
    const aInside = deferred();
    const releaseA = deferred();
    let bEntered = false;
    const holdA = a.withLock(key, async () => {
        aInside.resolve();
        await releaseA.promise;
    });
    await aInside.promise;
    const holdB = b.withLock(key, async () => {
        bEntered = true;
    });
    await sleep(300);
    assert.equal(bEntered, false, 'the second holder entered while the first held the lock');
    releaseA.resolve();
    await withTimeout(Promise.all([holdA, holdB]), 5000, 'the second holder never got the lock');
    assert.equal(bEntered, true);
}

for (const backend of backends) {
    describe(`storage on ${backend.name}`, () => {
        let opened: OpenedBackend;
        let db: Db;
        let envId: number;
        let integrations: IntegrationStore;
        let connections: ConnectionStore;
        const cleanups: Array<() => Promise<void>> = [];

        before(async () => {
            opened = await backend.open();
            db = opened.db;
            integrations = new IntegrationStore(db, vault);
            connections = new ConnectionStore(db, vault);
        });
        after(async () => {
            for (const c of cleanups.reverse()) await c().catch(() => undefined);
            await opened?.cleanup();
        });

        /** A second environment row, so scoping by environment is checked, not assumed. */
        async function newEnvironment(): Promise<number> {
            const [row] = await db.query<{ id: number }>('INSERT INTO environments (uuid, name) VALUES ($1, $2) RETURNING id', [
                randomUUID(),
                `env-${randomUUID()}`
            ]);
            return row!.id;
        }

        async function newIntegration(environmentId: number, uniqueKey = `int-${randomUUID()}`): Promise<Integration> {
            const created = await integrations.create(environmentId, {
                uniqueKey,
                provider: 'github',
                credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: `cs-${randomUUID()}` }
            });
            assert.ok(created, `integration ${uniqueKey} was not created`);
            return created;
        }

        describe('migrations', () => {
            test('apply once and re-running is a no-op', async () => {
                const versions = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
                assert.deepEqual(
                    versions.map((v) => v.version),
                    migrationFiles
                );
                assert.deepEqual(await migrate(db), []);
                assert.deepEqual(await migrate(db), []);
                const after = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
                assert.deepEqual(
                    after.map((v) => v.version),
                    migrationFiles
                );
                const tables = await db.query<{ table_name: string }>(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('environments', 'integrations', 'connections', 'audit_events') ORDER BY table_name"
                );
                assert.deepEqual(
                    tables.map((t) => t.table_name),
                    ['audit_events', 'connections', 'environments', 'integrations']
                );
            });

            if (backend.name !== 'postgres') {
                test('reopening the data folder keeps the data and applies nothing', async () => {
                    const other = await backend.open();
                    cleanups.push(other.cleanup);
                    await other.db.query("INSERT INTO environments (uuid, name) VALUES ($1, 'kept')", [randomUUID()]);
                    await other.db.close();
                    const reopened = await openDatabase({ databaseUrl: undefined, dataDir: other.dataDir! });
                    try {
                        assert.deepEqual(await migrate(reopened), []);
                        assert.equal((await reopened.query("SELECT 1 FROM environments WHERE name = 'kept'")).length, 1);
                    } finally {
                        await reopened.close();
                    }
                });

                // Regression: PGlite has no cross-process lock; two processes on one SWITCHBOARD_DATA_DIR both opened it and the
                // later writer silently erased the other's rows. The data folder now carries a pid lock file.
                test('a second open of a data folder in use is refused', async () => {
                    const other = await backend.open();
                    cleanups.push(other.cleanup);
                    let second: Db | undefined;
                    try {
                        await assert.rejects(async () => {
                            second = await openDatabase({ databaseUrl: undefined, dataDir: other.dataDir! });
                        });
                    } finally {
                        await second?.close();
                    }
                });
            }

            if (backend.name === 'postgres') {
                test('two instances migrating a fresh database at once apply each migration exactly once', async () => {
                    const fresh = await createTestDatabase();
                    const a = await openPostgres(fresh.url);
                    const b = await openPostgres(fresh.url);
                    try {
                        const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
                        assert.deepEqual([...ra, ...rb].sort(), migrationFiles);
                        assert.ok(ra.length === 0 || rb.length === 0, `both instances applied migrations: ${ra.join(',')} / ${rb.join(',')}`);
                        assert.equal((await a.query('SELECT version FROM schema_migrations')).length, migrationFiles.length);
                    } finally {
                        await a.close();
                        await b.close();
                        await fresh.drop();
                    }
                });
            }
        });

        describe('environments', () => {
            test('bootstrap generates a key once, stores only its hash, and a configured key replaces it', async () => {
                const envs = new Environments(db);
                const first = await envs.bootstrap(undefined);
                assert.equal(typeof first.generatedKey, 'string');
                const generated = first.generatedKey!;
                envId = first.environment.id;
                assert.deepEqual(await envs.authenticate(generated), first.environment);
                assert.equal(await envs.authenticate(`${generated}x`), undefined);

                const again = await new Environments(db).bootstrap(undefined);
                assert.equal(again.generatedKey, undefined, 'a second start must not generate another key');
                assert.deepEqual(again.environment, first.environment);
                assert.deepEqual(await new Environments(db).authenticate(generated), first.environment);

                const stored = await db.query<{ key_hash: string }>('SELECT key_hash FROM environment_keys WHERE environment_id = $1', [envId]);
                assert.deepEqual(
                    stored.map((r) => r.key_hash),
                    [createHash('sha256').update(generated).digest('hex')]
                );

                const configured = `configured-${randomUUID()}`;
                const replaced = await new Environments(db).bootstrap(configured);
                assert.equal(replaced.generatedKey, undefined);
                assert.deepEqual(replaced.environment, first.environment);
                const fresh = new Environments(db);
                assert.deepEqual(await fresh.authenticate(configured), first.environment);
                assert.equal(await fresh.authenticate(generated), undefined, 'the generated key still authenticates after being replaced');
                assert.equal((await db.query("SELECT 1 FROM environments WHERE name = 'dev'")).length, 1);
            });

            test('concurrent first starts create one environment and generate one key', async () => {
                const other = await backend.open();
                cleanups.push(other.cleanup);
                const results = await Promise.all([1, 2, 3].map(() => new Environments(other.db).bootstrap(undefined)));
                assert.equal(results.filter((r) => r.generatedKey !== undefined).length, 1);
                assert.equal(new Set(results.map((r) => r.environment.id)).size, 1);
            });

            // Regression: Environments cached key hash → environment forever, so with several instances on one database a key
            // replaced by one instance's restart kept authenticating on every instance that had cached it.
            test('a replaced key stops authenticating on an instance that cached it', async () => {
                const oldKey = `old-${randomUUID()}`;
                // Two instances, each with its own read cache listening on the shared database.
                const cacheA = new ReadCache<unknown>(db, 'switchboard_cache', { ttlMs: 60_000 });
                const cacheB = new ReadCache<unknown>(db, 'switchboard_cache', { ttlMs: 60_000 });
                await cacheA.start();
                await cacheB.start();
                await new Environments(db, cacheB).bootstrap(oldKey);
                const instanceA = new Environments(db, cacheA);
                assert.ok(await instanceA.authenticate(oldKey));
                await new Environments(db, cacheB).bootstrap(`new-${randomUUID()}`); // instance B restarts with a new key
                let stillValid = true;
                for (let i = 0; i < 50 && stillValid; i++) {
                    stillValid = (await instanceA.authenticate(oldKey)) !== undefined;
                    if (stillValid) await new Promise((r) => setTimeout(r, 50));
                }
                assert.equal(stillValid, false, 'the old key still authenticates on the instance that cached it');
            });
        });

        describe('integrations', () => {
            test('create, get, list, update and delete; client secrets are stored encrypted', async () => {
                const env = await newEnvironment();
                const secret = `cs-${randomUUID()}`;
                const created = await integrations.create(env, {
                    uniqueKey: 'github-prod',
                    provider: 'github',
                    displayName: 'GitHub',
                    integrationConfig: { a: '1' },
                    custom: { x: 'y' },
                    credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: secret, scopes: 'repo' }
                });
                assert.ok(created);
                assert.equal(created.uniqueKey, 'github-prod');
                assert.equal(created.forwardWebhooks, true);
                assert.deepEqual(created.integrationConfig, { a: '1' });
                assert.deepEqual(created.custom, { x: 'y' });
                assert.ok(created.createdAt instanceof Date);
                assert.match(created.credentialsCiphertext!, /^sbv1\./);
                assert.ok(!created.credentialsCiphertext!.includes(secret));
                assert.deepEqual(integrations.credentials(created), { type: 'OAUTH2', client_id: 'cid', client_secret: secret, scopes: 'repo' });

                const [row] = await db.query<{ credentials: string }>('SELECT credentials FROM integrations WHERE id = $1', [created.id]);
                assert.ok(!row!.credentials.includes(secret), 'client secret stored in plaintext');

                const got = await integrations.get(env, 'github-prod');
                assert.deepEqual(got, created);
                assert.equal(await integrations.get(env, 'nope'), undefined);
                assert.equal(await integrations.get(envId, 'github-prod'), undefined, 'get crossed environments');

                const second = await integrations.create(env, { uniqueKey: 'slack', provider: 'slack' });
                assert.ok(second);
                assert.equal(second.credentialsCiphertext, null);
                assert.equal(integrations.credentials(second), null);
                assert.deepEqual(
                    (await integrations.list(env)).map((i) => i.uniqueKey),
                    ['github-prod', 'slack']
                );

                const renamed = await integrations.update(created, { uniqueKey: 'github', displayName: 'GitHub (prod)' });
                assert.notEqual(renamed, 'conflict');
                if (renamed === 'conflict') return;
                assert.equal(renamed.uniqueKey, 'github');
                assert.equal(renamed.displayName, 'GitHub (prod)');
                assert.equal(renamed.uuid, created.uuid);
                assert.deepEqual(renamed.integrationConfig, { a: '1' }, 'a partial update dropped a field');
                assert.deepEqual(renamed.custom, { x: 'y' });
                assert.deepEqual(integrations.credentials(renamed), integrations.credentials(created));
                assert.ok(renamed.updatedAt >= created.updatedAt);

                const newSecret = `cs-${randomUUID()}`;
                const rekeyed = await integrations.update(renamed, { credentials: { type: 'OAUTH2', client_id: 'cid2', client_secret: newSecret } });
                assert.notEqual(rekeyed, 'conflict');
                if (rekeyed === 'conflict') return;
                assert.deepEqual(integrations.credentials(rekeyed), { type: 'OAUTH2', client_id: 'cid2', client_secret: newSecret });

                assert.equal(await integrations.update(rekeyed, { uniqueKey: 'slack' }), 'conflict');
                assert.equal((await integrations.get(env, 'github'))?.uniqueKey, 'github', 'a refused rename changed the row');

                await integrations.delete(rekeyed.id);
                assert.equal(await integrations.get(env, 'github'), undefined);
                assert.deepEqual(
                    (await integrations.list(env)).map((i) => i.uniqueKey),
                    ['slack']
                );
            });

            test('a duplicate unique key is refused within an environment, allowed in another', async () => {
                const env = await newEnvironment();
                const other = await newEnvironment();
                assert.ok(await integrations.create(env, { uniqueKey: 'dup', provider: 'github' }));
                assert.equal(await integrations.create(env, { uniqueKey: 'dup', provider: 'slack' }), undefined);
                assert.equal((await integrations.get(env, 'dup'))?.provider, 'github', 'the refused duplicate overwrote the original');
                assert.ok(await integrations.create(other, { uniqueKey: 'dup', provider: 'slack' }));
            });

            test('an integration secret copied to another row does not decrypt', async () => {
                const env = await newEnvironment();
                const a = await newIntegration(env);
                const b = await integrations.create(env, { uniqueKey: `b-${randomUUID()}`, provider: 'github' });
                assert.ok(b);
                await db.query('UPDATE integrations SET credentials = $1 WHERE id = $2', [a.credentialsCiphertext, b.id]);
                const copied = (await integrations.get(env, b.uniqueKey))!;
                assert.throws(
                    () => integrations.credentials(copied),
                    (err: unknown) => err instanceof VaultError && err.code === 'VAULT_DECRYPT_FAILED'
                );
                await integrations.delete(b.id); // an undecryptable row would make later key rotation tests fail
            });
        });

        describe('connections', () => {
            test('upsert creates, then overrides; credentials_version increments; credentials are encrypted at rest', async () => {
                const integration = await newIntegration(envId);
                const expiresAt = new Date(Date.now() + 3600_000);
                const first = oauth2(`at-${randomUUID()}`, expiresAt);
                const created = await connections.upsert(integration.id, envId, {
                    connectionId: 'conn-1',
                    credentials: first,
                    connectionConfig: { subdomain: 'acme' },
                    metadata: { plan: 'pro' },
                    endUser: { id: 'user-1', email: 'user@example.com' },
                    tags: { team: 'red' },
                    webhookUrlOverride: 'https://hooks.example.com/a'
                });
                assert.equal(created.created, true);
                const c1 = created.connection;
                assert.equal(c1.credentialsVersion, 1);
                assert.deepEqual(c1.credentials, first);
                assert.equal(c1.authType, 'OAUTH2');
                assert.equal(c1.providerConfigKey, integration.uniqueKey);
                assert.equal(c1.provider, 'github');
                assert.equal(c1.expiresAt?.getTime(), expiresAt.getTime());
                assert.deepEqual(c1.connectionConfig, { subdomain: 'acme' });
                assert.deepEqual(c1.metadata, { plan: 'pro' });
                assert.deepEqual(c1.endUser, { id: 'user-1', email: 'user@example.com' });
                assert.deepEqual(c1.tags, { team: 'red' });
                assert.equal(c1.webhookUrlOverride, 'https://hooks.example.com/a');
                assert.equal(c1.status, 'active');

                const [stored] = await db.query<{ credentials: string }>('SELECT credentials FROM connections WHERE uuid = $1', [c1.uuid]);
                assert.match(stored!.credentials, /^sbv1\./);
                const plain = first.type === 'OAUTH2' ? first : assert.fail();
                assert.ok(!stored!.credentials.includes(plain.access_token), 'access token stored in plaintext');
                assert.ok(!stored!.credentials.includes(plain.refresh_token!), 'refresh token stored in plaintext');

                const second = oauth2(`at-${randomUUID()}`);
                const overridden = await connections.upsert(integration.id, envId, {
                    connectionId: 'conn-1',
                    credentials: second,
                    connectionConfig: { region: 'eu' },
                    tags: { tier: 'gold' }
                });
                assert.equal(overridden.created, false);
                const c2 = overridden.connection;
                assert.equal(c2.uuid, c1.uuid);
                assert.equal(c2.id, c1.id);
                assert.equal(c2.credentialsVersion, 2);
                assert.deepEqual(c2.credentials, second);
                assert.equal(c2.expiresAt, null);
                assert.deepEqual(c2.connectionConfig, { subdomain: 'acme', region: 'eu' });
                assert.deepEqual(c2.metadata, { plan: 'pro' }, 'an override without metadata erased it');
                assert.deepEqual(c2.endUser, { id: 'user-1', email: 'user@example.com' });
                assert.deepEqual(c2.tags, { team: 'red', tier: 'gold' });
                assert.equal(c2.webhookUrlOverride, 'https://hooks.example.com/a');

                const third = await connections.upsert(integration.id, envId, { connectionId: 'conn-1', credentials: { type: 'API_KEY', apiKey: 'k' } });
                assert.equal(third.connection.credentialsVersion, 3);
                assert.equal(third.connection.authType, 'API_KEY');
                assert.equal((await db.query('SELECT 1 FROM connections WHERE integration_id = $1', [integration.id])).length, 1);
            });

            test('get and getByUuid decrypt the credentials; unknown ids give undefined', async () => {
                const integration = await newIntegration(envId);
                const creds: StoredCredentials = { type: 'BASIC', username: 'u', password: `pw-${randomUUID()}` };
                const { connection } = await connections.upsert(integration.id, envId, { connectionId: 'basic-1', credentials: creds });
                const got = await connections.get(envId, integration.uniqueKey, 'basic-1');
                assert.deepEqual(got, connection);
                assert.deepEqual(got?.credentials, creds);
                assert.deepEqual(await connections.getByUuid(connection.uuid), connection);
                assert.equal(await connections.get(envId, integration.uniqueKey, 'missing'), undefined);
                assert.equal(await connections.get(envId, 'missing-integration', 'basic-1'), undefined);
                assert.equal(await connections.get(await newEnvironment(), integration.uniqueKey, 'basic-1'), undefined, 'get crossed environments');
                assert.equal(await connections.getByUuid(randomUUID()), undefined);
            });

            test('a credentials ciphertext copied to another connection does not decrypt', async () => {
                const integration = await newIntegration(envId);
                const a = (await connections.upsert(integration.id, envId, { connectionId: 'copy-a', credentials: oauth2('at-a') })).connection;
                const b = (await connections.upsert(integration.id, envId, { connectionId: 'copy-b', credentials: oauth2('at-b') })).connection;
                await db.query('UPDATE connections SET credentials = (SELECT credentials FROM connections WHERE uuid = $1) WHERE uuid = $2', [a.uuid, b.uuid]);
                await assert.rejects(connections.getByUuid(b.uuid), (err: unknown) => err instanceof VaultError && err.code === 'VAULT_DECRYPT_FAILED');
                await connections.delete(b.uuid); // an undecryptable row would make later key rotation tests fail
            });

            describe('list filters', () => {
                let env: number;
                const ids = async (f: Partial<ListFilters>) => (await connections.list(env, { limit: 100, page: 0, ...f })).map((c) => c.connectionId);

                before(async () => {
                    env = await newEnvironment();
                    const a = await newIntegration(env, 'list-a');
                    const b = await newIntegration(env, 'list-b');
                    const add = (i: Integration, connectionId: string, extra: Record<string, unknown> = {}) =>
                        connections.upsert(i.id, i.environmentId, { connectionId, credentials: { type: 'API_KEY', apiKey: `k-${connectionId}` }, ...extra });
                    await add(a, 'alpha-1', { endUser: { id: 'user-1', organization: { id: 'org-1' } }, tags: { team: 'red', tier: 'gold' } });
                    await add(a, 'alpha_2', { endUser: { id: 'user-2' }, tags: { team: 'blue' } });
                    await add(a, 'ALPHA%3');
                    await add(b, 'beta-1', { endUser: { id: 'user-1' }, tags: { team: 'red' } });
                    // Same ids in another environment must never show up.
                    const elsewhere = await newEnvironment();
                    const c = await newIntegration(elsewhere, 'list-a');
                    await add(c, 'alpha-1', { endUser: { id: 'user-1' }, tags: { team: 'red' } });
                });

                test('no filter lists the environment, in creation order, without credentials', async () => {
                    assert.deepEqual(await ids({}), ['alpha-1', 'alpha_2', 'ALPHA%3', 'beta-1']);
                    const [first] = await connections.list(env, { limit: 1, page: 0 });
                    assert.ok(first);
                    assert.equal('credentials' in first, false, 'list returned credentials');
                    assert.equal(first.providerConfigKey, 'list-a');
                    assert.deepEqual(first.tags, { team: 'red', tier: 'gold' });
                });
                test('connectionId matches exactly', async () => {
                    assert.deepEqual(await ids({ connectionId: 'alpha-1' }), ['alpha-1']);
                    assert.deepEqual(await ids({ connectionId: 'alpha' }), []);
                });
                test('search is a case-insensitive substring match with LIKE wildcards escaped', async () => {
                    assert.deepEqual(await ids({ search: 'alpha' }), ['alpha-1', 'alpha_2', 'ALPHA%3']);
                    assert.deepEqual(await ids({ search: 'HA-1' }), ['alpha-1']);
                    assert.deepEqual(await ids({ search: '_' }), ['alpha_2']);
                    assert.deepEqual(await ids({ search: '%' }), ['ALPHA%3']);
                    assert.deepEqual(await ids({ search: '\\' }), []);
                });
                test('endUserId and endUserOrganizationId', async () => {
                    assert.deepEqual(await ids({ endUserId: 'user-1' }), ['alpha-1', 'beta-1']);
                    assert.deepEqual(await ids({ endUserId: 'user-9' }), []);
                    assert.deepEqual(await ids({ endUserOrganizationId: 'org-1' }), ['alpha-1']);
                });
                test('integrationIds', async () => {
                    assert.deepEqual(await ids({ integrationIds: ['list-b'] }), ['beta-1']);
                    assert.deepEqual(await ids({ integrationIds: ['list-a', 'list-b'] }), ['alpha-1', 'alpha_2', 'ALPHA%3', 'beta-1']);
                    assert.deepEqual(await ids({ integrationIds: ['nope'] }), []);
                    assert.deepEqual(await ids({ integrationIds: [] }), ['alpha-1', 'alpha_2', 'ALPHA%3', 'beta-1']);
                });
                test('tags match by containment (every given tag must be present)', async () => {
                    assert.deepEqual(await ids({ tags: { team: 'red' } }), ['alpha-1', 'beta-1']);
                    assert.deepEqual(await ids({ tags: { team: 'red', tier: 'gold' } }), ['alpha-1']);
                    assert.deepEqual(await ids({ tags: { team: 'green' } }), []);
                });
                test('filters combine', async () => {
                    assert.deepEqual(await ids({ tags: { team: 'red' }, integrationIds: ['list-b'] }), ['beta-1']);
                    assert.deepEqual(await ids({ endUserId: 'user-1', search: 'alpha' }), ['alpha-1']);
                });
                test('limit and page', async () => {
                    assert.deepEqual(await ids({ limit: 2, page: 0 }), ['alpha-1', 'alpha_2']);
                    assert.deepEqual(await ids({ limit: 2, page: 1 }), ['ALPHA%3', 'beta-1']);
                    assert.deepEqual(await ids({ limit: 2, page: 2 }), []);
                    assert.deepEqual(await ids({ limit: 3, page: 1 }), ['beta-1']);
                });
            });

            test('swapCredentials is a compare-and-swap: a stale version changes nothing', async () => {
                const integration = await newIntegration(envId);
                const { connection } = await connections.upsert(integration.id, envId, {
                    connectionId: 'cas',
                    credentials: oauth2('at-0', new Date(Date.now() + 60_000)),
                    connectionConfig: { a: 1 }
                });
                const next = oauth2('at-1', new Date(Date.now() + 3600_000));
                const swapped = await connections.swapCredentials(connection.uuid, 1, next, { instance_url: 'https://x.example.com' });
                assert.ok(swapped);
                assert.equal(swapped.credentialsVersion, 2);
                assert.deepEqual(swapped.credentials, next);
                assert.ok(swapped.refreshedAt instanceof Date);
                assert.deepEqual(swapped.connectionConfig, { a: 1, instance_url: 'https://x.example.com' });

                assert.equal(await connections.swapCredentials(connection.uuid, 1, oauth2('at-stale')), undefined);
                const now = await connections.getByUuid(connection.uuid);
                assert.equal(now?.credentialsVersion, 2);
                assert.deepEqual(now?.credentials, next);

                // Racing writers with the same expected version: exactly one wins.
                const racers = await Promise.all([1, 2, 3, 4, 5].map((i) => connections.swapCredentials(connection.uuid, 2, oauth2(`at-race-${i}`))));
                const winners = racers.filter((r) => r !== undefined);
                assert.equal(winners.length, 1);
                const final = await connections.getByUuid(connection.uuid);
                assert.equal(final?.credentialsVersion, 3);
                assert.deepEqual(final?.credentials, winners[0]!.credentials);
                assert.equal(await connections.swapCredentials(randomUUID(), 1, next), undefined);
            });

            test('recordRefreshFailure records the reason, optionally the status; a successful swap clears it', async () => {
                const integration = await newIntegration(envId);
                const { connection } = await connections.upsert(integration.id, envId, { connectionId: 'fail', credentials: oauth2('at') });
                const error = { type: 'refresh_token_external_error', description: 'invalid_grant' };
                await connections.recordRefreshFailure(connection.uuid, error, undefined);
                let now = (await connections.getByUuid(connection.uuid))!;
                assert.ok(now.refreshFailedAt instanceof Date);
                assert.deepEqual(now.refreshError, error);
                assert.equal(now.status, 'active');
                await connections.recordRefreshFailure(connection.uuid, error, 'expired');
                now = (await connections.getByUuid(connection.uuid))!;
                assert.equal(now.status, 'expired');
                assert.equal(now.credentialsVersion, 1, 'a failure must not bump the credentials version');
                const swapped = (await connections.swapCredentials(connection.uuid, 1, oauth2('at-2')))!;
                assert.equal(swapped.refreshFailedAt, null);
                assert.equal(swapped.refreshError, null);
                assert.equal(swapped.status, 'active');
            });

            test('setMetadata replaces or merges, and changes nothing when one id is missing', async () => {
                const integration = await newIntegration(envId);
                const other = await newIntegration(envId);
                for (const id of ['m1', 'm2', 'm3']) await connections.upsert(integration.id, envId, { connectionId: id, credentials: oauth2('at') });
                await connections.upsert(other.id, envId, { connectionId: 'only-elsewhere', credentials: oauth2('at') });
                const meta = async (id: string) => (await connections.get(envId, integration.uniqueKey, id))?.metadata;
                const set = (ids: string[], m: Record<string, unknown>, merge: boolean) => connections.setMetadata(envId, integration.uniqueKey, ids, m, merge);

                assert.deepEqual(await set(['m1', 'm2'], { a: 1, nested: { x: 1 } }, false), []);
                assert.deepEqual(await meta('m1'), { a: 1, nested: { x: 1 } });
                assert.deepEqual(await meta('m2'), { a: 1, nested: { x: 1 } });
                assert.deepEqual(await set(['m1'], { b: 2, nested: { y: 2 } }, true), []);
                assert.deepEqual(await meta('m1'), { a: 1, b: 2, nested: { y: 2 } }, 'merge is shallow');
                assert.deepEqual(await meta('m2'), { a: 1, nested: { x: 1 } });
                assert.deepEqual(await set(['m1'], { c: 3 }, false), []);
                assert.deepEqual(await meta('m1'), { c: 3 });
                assert.equal(await meta('m3'), null);
                assert.deepEqual(await set(['m3'], { first: true }, true), []);
                assert.deepEqual(await meta('m3'), { first: true }, 'merge onto no metadata');

                assert.deepEqual(await set(['m1', 'missing-1', 'm2', 'only-elsewhere'], { z: 9 }, false), ['missing-1', 'only-elsewhere']);
                assert.deepEqual(await meta('m1'), { c: 3 }, 'a refused update changed m1');
                assert.deepEqual(await meta('m2'), { a: 1, nested: { x: 1 } }, 'a refused update changed m2');
                assert.deepEqual(await set(['m2', 'missing-2'], { z: 9 }, true), ['missing-2']);
                assert.deepEqual(await meta('m2'), { a: 1, nested: { x: 1 } });
                assert.equal((await connections.get(envId, other.uniqueKey, 'only-elsewhere'))?.metadata, null);
            });

            test('listExpiring returns active OAuth connections expiring soon and not in backoff, soonest first', async () => {
                const integration = await newIntegration(envId);
                const inMin = (m: number) => new Date(Date.now() + m * 60_000);
                const add = async (connectionId: string, credentials: StoredCredentials) =>
                    (await connections.upsert(integration.id, envId, { connectionId, credentials })).connection.uuid;
                const overdue = await add('overdue', oauth2('at', inMin(-5)));
                const soon = await add('soon', oauth2('at', inMin(1)));
                const failedLongAgo = await add('failed-long-ago', oauth2('at', inMin(2)));
                const clientCredentials = await add('cc', {
                    type: 'OAUTH2_CC',
                    token: 't',
                    expires_at: inMin(3).toISOString(),
                    client_id: 'c',
                    client_secret: 's',
                    raw: {}
                });
                const later = await add('later', oauth2('at', inMin(120)));
                const apiKey = await add('api-key', { type: 'API_KEY', apiKey: 'k' });
                const revoked = await add('revoked', oauth2('at', inMin(1)));
                const failedJustNow = await add('failed-just-now', oauth2('at', inMin(1)));
                await db.query("UPDATE connections SET status = 'revoked' WHERE uuid = $1", [revoked]);
                await connections.recordRefreshFailure(failedJustNow, { type: 'x', description: 'y' }, undefined);
                await connections.recordRefreshFailure(failedLongAgo, { type: 'x', description: 'y' }, undefined);
                await db.query("UPDATE connections SET refresh_failed_at = now() - interval '1 minute' WHERE uuid = $1", [failedLongAgo]);

                const mine = new Set([overdue, soon, failedLongAgo, clientCredentials, later, apiKey, revoked, failedJustNow]);
                const found = (await connections.listExpiring(inMin(15), 1000)).filter((u) => mine.has(u));
                assert.deepEqual(found, [overdue, soon, failedLongAgo, clientCredentials]);
                assert.equal((await connections.listExpiring(inMin(15), 1)).length, 1);
            });

            test('delete removes one connection; deleting the integration cascades to its connections', async () => {
                const integration = await newIntegration(envId);
                const a = (await connections.upsert(integration.id, envId, { connectionId: 'del-a', credentials: oauth2('at') })).connection;
                const b = (await connections.upsert(integration.id, envId, { connectionId: 'del-b', credentials: oauth2('at') })).connection;
                await connections.delete(a.uuid);
                assert.equal(await connections.getByUuid(a.uuid), undefined);
                assert.ok(await connections.getByUuid(b.uuid));
                await integrations.delete(integration.id);
                assert.equal(await connections.getByUuid(b.uuid), undefined);
                assert.equal((await db.query('SELECT 1 FROM connections WHERE integration_id = $1', [integration.id])).length, 0);
            });
        });

        describe('Db', () => {
            test('withLock: holders of one key never overlap; different keys do not block each other', async () => {
                const key = `sb-test:${randomUUID()}`;
                assertNoOverlap(await holdConcurrently([db, db, db, db], key), 4);
                await assertKeysIndependent(db, db);
                await assertWaitsForHolder(db, db);
            });

            test('withLock releases the lock when fn throws, and passes the error through', async () => {
                const key = `sb-test:${randomUUID()}`;
                await assert.rejects(
                    db.withLock(key, async () => {
                        throw new Error('boom');
                    }),
                    /boom/
                );
                assert.equal(
                    await withTimeout(
                        db.withLock(key, async () => 'again'),
                        5000,
                        'lock not released after a throw'
                    ),
                    'again'
                );
            });

            if (backend.name === 'postgres') {
                test('withLock is exclusive across two Db instances (two pools on one database)', async () => {
                    const a = await openPostgres(opened.url!);
                    const b = await openPostgres(opened.url!);
                    try {
                        const key = `sb-test:${randomUUID()}`;
                        assertNoOverlap(await holdConcurrently([a, b, a, b], key), 4);
                        await assertWaitsForHolder(a, b);
                        await assertWaitsForHolder(b, a);
                        await assertKeysIndependent(a, b);
                    } finally {
                        await a.close();
                        await b.close();
                    }
                });

                // Regression: withLock held a connection of the shared pool while fn ran, and fn's own queries needed another one:
                // `poolSize` concurrent holders (of different keys, e.g. refreshes of different connections) deadlocked for good.
                test('withLock holders that query do not starve the pool', async () => {
                    const fresh = await createTestDatabase();
                    cleanups.push(fresh.drop);
                    const out = await runChildScript(`
                        import { openPostgres } from '${moduleUrl('src/storage/postgres.ts')}';
                        const db = await openPostgres(${JSON.stringify(fresh.url)}, 2);
                        const work = Promise.all([1, 2].map((i) => db.withLock('sb-test:starve:' + i, () => db.query('SELECT 1'))));
                        const r = await Promise.race([work.then(() => 'finished'), new Promise((r) => setTimeout(() => r('deadlocked'), 3000))]);
                        console.log(r);
                        process.exit(0);
                    `);
                    assert.equal(out.stdout.trim(), 'finished', out.stderr);
                });

                // Regression: pg emits 'error' on a client whose session the server ends (restart, failover, pg_terminate_backend,
                // idle_session_timeout); with no listener on the pool or the withLock client the whole process died.
                test('a pooled connection ended by the server does not crash the process', async () => {
                    const fresh = await createTestDatabase();
                    cleanups.push(fresh.drop);
                    const out = await runChildScript(`
                        import { openPostgres } from '${moduleUrl('src/storage/postgres.ts')}';
                        import pg from 'pg';
                        const url = ${JSON.stringify(fresh.url)};
                        const db = await openPostgres(url);
                        await db.query('SELECT 1');
                        const admin = new pg.Client(url);
                        await admin.connect();
                        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'switchboard'");
                        await admin.end();
                        await new Promise((r) => setTimeout(r, 500));
                        const [row] = await db.query('SELECT 1 AS x');
                        console.log(row.x === 1 ? 'survived' : 'wrong');
                        await db.close();
                    `);
                    assert.equal(out.stdout.trim(), 'survived', out.stderr.split('\n').slice(0, 6).join('\n'));
                });

                test('a lock connection ended by the server while fn runs does not crash the process', async () => {
                    const fresh = await createTestDatabase();
                    cleanups.push(fresh.drop);
                    const out = await runChildScript(`
                        import { openPostgres } from '${moduleUrl('src/storage/postgres.ts')}';
                        import pg from 'pg';
                        const url = ${JSON.stringify(fresh.url)};
                        const db = await openPostgres(url);
                        const outcome = await db.withLock('sb-test:killed', async () => {
                            const admin = new pg.Client(url);
                            await admin.connect();
                            await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'switchboard' AND query ILIKE '%advisory_lock%'");
                            await admin.end();
                            await new Promise((r) => setTimeout(r, 500));
                            return 'fn finished';
                        }).catch((err) => 'withLock rejected: ' + err.message);
                        console.log('survived: ' + outcome);
                        await db.close();
                    `);
                    assert.match(out.stdout, /^survived: /, out.stderr.split('\n').slice(0, 6).join('\n'));
                });
            }

            test('transaction commits on success and rolls back on throw', async () => {
                const name = `tx-${randomUUID()}`;
                const out = await db.transaction(async (tx) => {
                    await tx.query('INSERT INTO environments (uuid, name) VALUES ($1, $2)', [randomUUID(), name]);
                    return 'done';
                });
                assert.equal(out, 'done');
                assert.equal((await db.query('SELECT 1 FROM environments WHERE name = $1', [name])).length, 1);

                const doomed = `tx-${randomUUID()}`;
                const boom = new Error('boom');
                await assert.rejects(
                    db.transaction(async (tx) => {
                        await tx.query('INSERT INTO environments (uuid, name) VALUES ($1, $2)', [randomUUID(), doomed]);
                        assert.equal((await tx.query('SELECT 1 FROM environments WHERE name = $1', [doomed])).length, 1);
                        throw boom;
                    }),
                    (err: unknown) => err === boom
                );
                assert.equal((await db.query('SELECT 1 FROM environments WHERE name = $1', [doomed])).length, 0);

                // A failing statement also rolls back what came before it.
                await assert.rejects(
                    db.transaction(async (tx) => {
                        await tx.query('INSERT INTO environments (uuid, name) VALUES ($1, $2)', [randomUUID(), doomed]);
                        await tx.query('INSERT INTO environments (uuid, name) VALUES ($1, $2)', [randomUUID(), name]); // duplicate name
                    }),
                    (err: unknown) => (err as { code?: string }).code === '23505'
                );
                assert.equal((await db.query('SELECT 1 FROM environments WHERE name = $1', [doomed])).length, 0);
                // And the connection is usable afterwards.
                assert.equal((await db.query<{ x: number }>('SELECT 1 AS x'))[0]?.x, 1);
            });
        });

        describe('notifications and the read cache', () => {
            /** A second instance on the same data: another pool on PostgreSQL; an embedded database has one owner, so the same Db. */
            async function secondInstance(): Promise<Db> {
                if (backend.name !== 'postgres') return db;
                const other = await openPostgres(opened.url!);
                cleanups.push(() => other.close());
                return other;
            }

            test('listen receives notify payloads of its channel only, in order, across instances', async () => {
                const other = await secondInstance();
                const got: string[] = [];
                const elsewhere: string[] = [];
                await db.listen('sb_test_one', (p) => got.push(p));
                await db.listen('sb_test_two', (p) => elsewhere.push(p));
                await other.notify('sb_test_one', 'a');
                await other.notify('sb_test_one', 'b');
                await db.notify('sb_test_one', 'c');
                await waitFor(() => got.length >= 3, 5000, `notifications did not arrive: ${JSON.stringify(got)}`);
                assert.deepEqual(got, ['a', 'b', 'c']);
                assert.deepEqual(elsewhere, []);
            });

            test('a write on one instance evicts what another instance cached', async () => {
                const other = await secondInstance();
                const cacheA = new ReadCache<unknown>(db, 'sb_test_cache', { ttlMs: 60_000 });
                const cacheB = new ReadCache<unknown>(other, 'sb_test_cache', { ttlMs: 60_000 });
                await cacheA.start();
                await cacheB.start();
                const intA = new IntegrationStore(db, vault, cacheA);
                const intB = new IntegrationStore(other, vault, cacheB);
                const connA = new ConnectionStore(db, vault, cacheA);
                const connB = new ConnectionStore(other, vault, cacheB);
                const env = await newEnvironment();
                const integration = (await intB.create(env, { uniqueKey: 'cached', provider: 'github' }))!;
                const { connection } = await connB.upsert(integration.id, env, { connectionId: 'c', credentials: oauth2('at-1') });
                const readA = () => connA.get(env, 'cached', 'c');
                assert.equal((await readA())?.credentialsVersion, 1);
                assert.ok(await intA.get(env, 'cached'));

                await connB.setMetadata(env, 'cached', ['c'], { plan: 'pro' }, false);
                await waitFor(async () => (await readA())?.metadata?.['plan'] === 'pro', 5000, 'instance A kept serving metadata from before the write');
                await connB.swapCredentials(connection.uuid, 1, oauth2('at-2'));
                await waitFor(async () => (await readA())?.credentialsVersion === 2, 5000, 'instance A kept serving the old credentials');
                await intB.update((await intB.get(env, 'cached'))!, { uniqueKey: 'renamed' });
                await waitFor(async () => (await intA.get(env, 'cached')) === undefined, 5000, 'instance A still finds the integration under its old key');
                // The integration may have left A's cache before the rename's notification arrived (then A read the
                // database): the connection entry goes with that notification, so wait for it too.
                await waitFor(async () => (await readA()) === undefined, 5000, 'instance A still finds the connection under the old integration key');
                assert.ok(await connA.get(env, 'renamed', 'c'));
                await connB.delete(connection.uuid);
                await waitFor(async () => (await connA.get(env, 'renamed', 'c')) === undefined, 5000, 'instance A still serves a deleted connection');
            });

            if (backend.name === 'postgres') {
                test('after the listening connection is lost, listeners are told to drop everything and notifications resume', async () => {
                    const fresh = await createTestDatabase();
                    cleanups.push(fresh.drop);
                    const a = await openPostgres(fresh.url);
                    const b = await openPostgres(fresh.url);
                    cleanups.push(
                        () => a.close(),
                        () => b.close()
                    );
                    const got: string[] = [];
                    await a.listen('sb_test_resume', (p) => got.push(p));
                    await terminate(fresh.url, 'switchboard-listen');
                    await waitFor(() => got.includes('*'), 5000, 'listeners were not told that notifications may have been lost');
                    await waitFor(
                        async () => {
                            await b.notify('sb_test_resume', 'after');
                            return got.includes('after');
                        },
                        10_000,
                        'notifications never resumed after the listening connection was lost'
                    );
                });

                // Regression: the listener retried only from the 'error' event of a connected client, so one failed reconnect
                // (database restarting, connections refused) ended the retries and the instance never heard another invalidation.
                test('notifications resume even when the first reconnect attempt fails', async () => {
                    const fresh = await createTestDatabase();
                    cleanups.push(fresh.drop);
                    const name = new URL(fresh.url).pathname.slice(1);
                    const a = await openPostgres(fresh.url);
                    cleanups.push(() => a.close());
                    const got: string[] = [];
                    await a.listen('sb_test_retry', (p) => got.push(p));
                    const admin = await openPostgres('postgresql://postgres@127.0.0.1:5432/test', 1);
                    try {
                        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
                        await terminate(fresh.url, 'switchboard-listen');
                        await waitFor(() => got.includes('*'), 5000, 'listeners were not told');
                        await sleep(1500); // the reconnect attempt (after 1 s) fails while connections are refused
                    } finally {
                        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
                        await admin.close();
                    }
                    const b = await openPostgres(fresh.url);
                    cleanups.push(() => b.close());
                    await waitFor(
                        async () => {
                            await b.notify('sb_test_retry', 'after');
                            return got.includes('after');
                        },
                        10_000,
                        'notifications never resumed'
                    );
                });
            }
        });

        describe('key rotation', () => {
            test('reencryptAll moves every secret to the current key; a vault without the old key then reads everything', async () => {
                const integration = await newIntegration(envId);
                const { connection } = await connections.upsert(integration.id, envId, { connectionId: 'rotate', credentials: oauth2('at-rotate') });
                const newKey = randomBytes(32);
                const rotating = new Vault(makeKeyring(newKey, [masterKey]));
                const [{ n: connectionCount } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM connections');
                const [{ n: integrationCount } = { n: 0 }] = await db.query<{ n: number }>(
                    'SELECT count(*)::int AS n FROM integrations WHERE credentials IS NOT NULL'
                );
                assert.equal(await new IntegrationStore(db, rotating).reencryptAll(), integrationCount);
                assert.equal(await new ConnectionStore(db, rotating).reencryptAll(), connectionCount);
                assert.equal(await new ConnectionStore(db, rotating).reencryptAll(), 0, 'a second pass re-encrypted again');

                const onlyNew = new Vault(makeKeyring(newKey, []));
                const got = await new ConnectionStore(db, onlyNew).getByUuid(connection.uuid);
                assert.deepEqual(got?.credentials, connection.credentials);
                assert.equal(got?.credentialsVersion, connection.credentialsVersion, 're-encryption must not look like a refresh');
                const rows = await db.query<{ uuid: string; credentials: string }>('SELECT uuid, credentials FROM connections');
                for (const r of rows) assert.equal(onlyNew.keyIdOf(r.credentials), onlyNew.currentKeyId);
                for (const i of await db.query<{ uuid: string; credentials: string }>(
                    'SELECT uuid, credentials FROM integrations WHERE credentials IS NOT NULL'
                )) {
                    assert.doesNotThrow(() => onlyNew.decryptJson(i.credentials, `integration:${i.uuid}`));
                }
                await assert.rejects(connections.getByUuid(connection.uuid), (err: unknown) => err instanceof VaultError && err.code === 'VAULT_UNKNOWN_KEY');
            });

            // Regression: reencryptAll stopped at the first row it could not decrypt, leaving every later row (in an unspecified
            // order) on the old key, and POST /admin/keys/rotate answered a 500 that did not say which row was at fault.
            test('one undecryptable row does not stop the others from being re-encrypted', async () => {
                const own = await backend.open();
                cleanups.push(own.cleanup);
                const { environment } = await new Environments(own.db).bootstrap(undefined);
                const store = new ConnectionStore(own.db, vault);
                const integration = (await new IntegrationStore(own.db, vault).create(environment.id, { uniqueKey: 'k', provider: 'github' }))!;
                const uuids: string[] = [];
                for (const id of ['c1', 'c2', 'c3', 'c4'])
                    uuids.push((await store.upsert(integration.id, environment.id, { connectionId: id, credentials: oauth2('at') })).connection.uuid);
                // c2 holds c1's ciphertext: bound to another owner, it can never decrypt.
                await own.db.query('UPDATE connections SET credentials = (SELECT credentials FROM connections WHERE uuid = $1) WHERE uuid = $2', [
                    uuids[0],
                    uuids[1]
                ]);
                const rotating = new Vault(makeKeyring(randomBytes(32), [masterKey]));
                await new ConnectionStore(own.db, rotating).reencryptAll();
                const rows = await own.db.query<{ uuid: string; credentials: string }>('SELECT uuid, credentials FROM connections WHERE uuid <> $1', [
                    uuids[1]
                ]);
                for (const r of rows) assert.equal(rotating.keyIdOf(r.credentials), rotating.currentKeyId, `row ${r.uuid} was left on the old key`);
            });
        });
    });
}

/** Ends the sessions of one application on the database of `url` (from an admin session on another database). */
async function terminate(url: string, applicationName: string): Promise<void> {
    const admin = await openPostgres('postgresql://postgres@127.0.0.1:5432/test', 1);
    try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [
            new URL(url).pathname.slice(1),
            applicationName
        ]);
    } finally {
        await admin.close();
    }
}
