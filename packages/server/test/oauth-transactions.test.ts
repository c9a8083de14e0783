// The transaction store on real PGlite: single use, expiry and browser binding (docs/security.md, item 1).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/storage/open.ts';
import { Vault } from '../src/vault/vault.ts';
import { makeKeyring, parseKey } from '../src/vault/keys.ts';
import { OAuthTransactionStore, newKeys, TRANSACTION_TTL_MS } from '../src/connect/transactions.ts';
import { ConnectSessionStore } from '../src/connect/sessions.ts';
import { removeDir, testEncryptionKey } from './support/server.ts';

it('a state is consumed once, expires, and only its own browser can use it; secrets are stored encrypted', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-tx-'));
    const db = await openDatabase({ databaseUrl: undefined, dataDir: dir });
    t.after(async () => {
        await db.close();
        removeDir(dir);
    });
    const vault = new Vault(makeKeyring(parseKey(testEncryptionKey()), []));
    const [env] = await db.query<{ id: number }>("INSERT INTO environments (uuid, name) VALUES ($1, 'dev') RETURNING id", [randomUUID()]);
    const [integration] = await db.query<{ id: number }>(
        "INSERT INTO integrations (uuid, environment_id, unique_key, provider) VALUES ($1, $2, 'k', 'github') RETURNING id",
        [randomUUID(), env!.id]
    );
    await new ConnectSessionStore(db).create(env!.id, {
        endUser: { id: 'u' },
        organization: null,
        tags: {},
        allowedIntegrations: null,
        integrationsConfigDefaults: null,
        webhookUrlOverride: null,
        reconnectConnectionUuid: null
    });
    const [session] = await db.query<{ id: number }>('SELECT id FROM connect_sessions');
    const store = new OAuthTransactionStore(db, vault);
    const input = {
        environmentId: env!.id,
        integrationId: integration!.id,
        connectSessionId: session!.id,
        authMode: 'OAUTH2' as const,
        connectionId: 'c',
        connectionConfig: {},
        wsClientId: null,
        redirectUri: 'http://localhost:3003/oauth/callback',
        expectedIssuer: 'https://issuer.example',
        secrets: { codeVerifier: 'the-verifier-value-that-must-not-leak' }
    };

    const a = newKeys();
    await store.create(input, a);
    const [row] = await db.query<Record<string, string>>('SELECT * FROM oauth_transactions');
    assert.ok(!JSON.stringify(row).includes('the-verifier-value'), 'verifier encrypted');
    assert.ok(!JSON.stringify(row).includes(a.state) && !JSON.stringify(row).includes(a.browserBinding), 'state and binding stored hashed');
    const ok = await store.consume(a.state, a.browserBinding);
    assert.equal(ok.ok, true);
    assert.equal(ok.transaction?.secrets.codeVerifier, 'the-verifier-value-that-must-not-leak');
    assert.deepEqual(await store.consume(a.state, a.browserBinding), { ok: false, reason: 'unknown_state' }, 'single use');

    const b = newKeys();
    await store.create(input, b);
    const foreign = await store.consume(b.state, newKeys().browserBinding);
    assert.equal(foreign.ok, false);
    assert.equal(!foreign.ok && foreign.reason, 'wrong_browser');
    assert.equal((await store.consume(b.state, b.browserBinding)).ok, false, 'a failed use consumes it too');

    const c = newKeys();
    await store.create(input, c, Date.now() - TRANSACTION_TTL_MS - 1000);
    const expired = await store.consume(c.state, c.browserBinding);
    assert.equal(!expired.ok && expired.reason, 'expired');

    const d = newKeys();
    await store.create(input, d, Date.now() - TRANSACTION_TTL_MS - 1000);
    assert.equal(await store.purgeExpired(), 1);
});
