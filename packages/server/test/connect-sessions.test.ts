// Connect sessions (issue #3, item 1 — the server half) with the official SDK as client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, type TestServer } from './support/server.ts';
import { openDatabase } from '../src/storage/open.ts';
import { ConnectSessionStore, SESSION_TTL_MS } from '../src/connect/sessions.ts';

describe('connect sessions', () => {
    let server: TestServer;
    let nango: Nango;
    const asSession = (token: string, path: string, init: RequestInit = {}) =>
        fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

    before(async () => {
        server = await startServer();
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'stripe', unique_key: 'stripe' });
        await nango.createIntegration({ provider: 'openai', unique_key: 'openai' });
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('creates a session with Nango token format, 30-minute expiry and connect link', async () => {
        const before = Date.now();
        const res = await nango.createConnectSession({
            end_user: { id: 'u1', email: 'u1@example.com', display_name: 'Ann' },
            organization: { id: 'org1' },
            allowed_integrations: ['stripe'],
            tags: { plan: 'pro' }
        });
        assert.match(res.data.token, /^nango_connect_session_[0-9a-f]{64}$/);
        const ttl = new Date(res.data.expires_at).getTime() - before;
        assert.ok(ttl > SESSION_TTL_MS - 60_000 && ttl <= SESSION_TTL_MS + 1000);
        assert.equal(res.data.connect_link, `${server.url.replace('127.0.0.1', 'localhost')}/connect/?session_token=${res.data.token}`);

        const session = (await (await asSession(res.data.token, '/connect/session')).json()) as {
            data: { endUser: { id: string; email: string }; allowed_integrations: string[] };
        };
        assert.equal(session.data.endUser.id, 'u1');
        assert.deepEqual(session.data.allowed_integrations, ['stripe']);

        // The session token lists only its allowed integrations, and reads providers.
        const list = (await (await asSession(res.data.token, '/integrations')).json()) as { data: Array<{ unique_key: string }> };
        assert.deepEqual(
            list.data.map((i) => i.unique_key),
            ['stripe']
        );
        assert.equal((await asSession(res.data.token, '/providers/stripe')).status, 200);
        // …but it is not a secret key.
        const denied = await asSession(res.data.token, '/connections');
        assert.equal(denied.status, 401);

        assert.equal((await asSession(res.data.token, '/connect/session', { method: 'DELETE' })).status, 204);
        const gone = await asSession(res.data.token, '/connect/session');
        assert.equal(gone.status, 401);
        assert.equal(((await gone.json()) as { error: { code: string } }).error.code, 'unknown_connect_session_token');
    });

    it('refuses bad session input and tokens with Nango codes', async () => {
        const fail = async (p: Promise<unknown>) =>
            p.then(
                () => assert.fail('expected failure'),
                (e: { response: { status: number; data: { error: { code: string; errors?: Array<{ path: unknown[] }> } } } }) => e.response
            );
        const unknown = await fail(nango.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: ['stripe', 'nope'] }));
        assert.equal(unknown.status, 400);
        assert.equal(unknown.data.error.code, 'invalid_body');
        assert.deepEqual(unknown.data.error.errors?.[0]?.path, ['allowed_integrations', 1]);
        const noUser = await fail(nango.createConnectSession({} as never));
        assert.equal(noUser.data.error.code, 'invalid_body');
        const extra = await fail(nango.createConnectSession({ end_user: { id: 'u1' }, surprise: true } as never));
        assert.equal(extra.data.error.code, 'invalid_body');
        const reconnect = await fail(nango.createReconnectSession({ connection_id: 'missing', integration_id: 'stripe' }));
        assert.equal(reconnect.data.error.code, 'invalid_body');

        const malformed = await asSession('nango_connect_session_xyz', '/connect/session');
        assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'invalid_connect_session_token_format');
        const unknownToken = await asSession(`nango_connect_session_${'0'.repeat(64)}`, '/integrations');
        assert.equal(((await unknownToken.json()) as { error: { code: string } }).error.code, 'unknown_connect_session_token');
    });

    it('creates reconnect sessions pinned to the connection integration', async () => {
        await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: 'openai', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'sk' }, end_user: { id: 'u9' } })
        });
        const res = await nango.createReconnectSession({ connection_id: 'c1', integration_id: 'openai' });
        const session = (await (await asSession(res.data.token, '/connect/session')).json()) as {
            data: { isReconnecting: boolean; allowed_integrations: string[]; endUser: { id: string } };
        };
        assert.equal(session.data.isReconnecting, true);
        assert.deepEqual(session.data.allowed_integrations, ['openai']);
        assert.equal(session.data.endUser.id, 'u9');
    });

    it('expired sessions are refused and purged', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sb-sessions-'));
        const db = await openDatabase({ databaseUrl: undefined, dataDir: dir });
        try {
            const [env] = await db.query<{ id: number }>("INSERT INTO environments (uuid, name) VALUES (gen_random_uuid(), 'x') RETURNING id");
            const store = new ConnectSessionStore(db);
            const t0 = Date.now();
            const { token } = await store.create(
                env!.id,
                {
                    endUser: { id: 'u' },
                    organization: null,
                    tags: {},
                    allowedIntegrations: null,
                    integrationsConfigDefaults: null,
                    webhookUrlOverride: null,
                    reconnectConnectionUuid: null
                },
                t0
            );
            assert.ok(await store.find(token, new Date(t0 + SESSION_TTL_MS - 1000)));
            assert.equal(await store.find(token, new Date(t0 + SESSION_TTL_MS + 1)), undefined);
            assert.equal(await store.purgeExpired(new Date(t0 + SESSION_TTL_MS + 1)), 1);
        } finally {
            await db.close();
            removeDir(dir);
        }
    });
});
