// The read cache: unambiguous keys (issue #10 item 4) and LRU eviction instead of emptying when full (item 11).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { openPglite } from '../src/storage/pglite.ts';
import { ReadCache, cacheKey } from '../src/storage/read-cache.ts';
import type { Db } from '../src/storage/db.ts';
import { removeDir, startServer, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { json, startUpstream } from './support/upstream.ts';

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`read cache keys through /proxy (${backend})`, () => {
        let upstream: Awaited<ReturnType<typeof startUpstream>>;
        let server: TestServer;
        let nango: Nango;
        let drop: (() => Promise<void>) | undefined;

        before(async () => {
            upstream = await startUpstream((req, res) => json(res, 200, { auth: req.headers.authorization ?? null }));
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `keyed-api:\n  display_name: Keyed\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${upstream.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
                )
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            drop = storage.drop;
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({ provider: 'keyed-api', unique_key: 'col' });
            await nango.createIntegration({ provider: 'keyed-api', unique_key: 'col:one' });
            for (const [key, id, apiKey] of [
                ['col', 'one:two', 'key-of-col'],
                ['col:one', 'two', 'key-of-col-one']
            ] as const) {
                const res = await fetch(`${server.url}/connections`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
                    body: JSON.stringify({ provider_config_key: key, connection_id: id, credentials: { type: 'API_KEY', apiKey } })
                });
                assert.equal(res.status, 201, await res.text());
            }
        });
        after(async () => {
            await server?.stop();
            await upstream?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        // issue #10 item 4: `conn:env:col:one:two` named both connections, so the second lookup got the first one's API key.
        it('sends each connection its own API key when the joined ids collide', async () => {
            for (let round = 0; round < 2; round++) {
                const a = await nango.get<{ auth: string }>({ endpoint: '/whoami', providerConfigKey: 'col', connectionId: 'one:two' });
                const b = await nango.get<{ auth: string }>({ endpoint: '/whoami', providerConfigKey: 'col:one', connectionId: 'two' });
                assert.equal(a.data.auth, 'Bearer key-of-col');
                assert.equal(b.data.auth, 'Bearer key-of-col-one');
            }
            const seen = upstream.requests.map((r) => r.headers.authorization);
            assert.deepEqual(seen, ['Bearer key-of-col', 'Bearer key-of-col-one', 'Bearer key-of-col', 'Bearer key-of-col-one']);
        });
    });
}

describe('ReadCache', () => {
    let db: Db;
    before(async () => {
        db = await openPglite('memory://');
    });
    after(async () => {
        await db.close();
    });

    it('keys from parts are unambiguous', () => {
        assert.notEqual(cacheKey('conn', 1, 'col', 'one:two'), cacheKey('conn', 1, 'col:one', 'two'));
    });

    // issue #10 item 11: a full cache used to evict everything; now only the least recently used entry goes.
    it('evicts the least recently used entry when full, and keeps the tag index in step', async () => {
        const cache = new ReadCache<string>(db, 'test_cache', { ttlMs: 60_000, max: 3 });
        await cache.start();
        cache.set('a', 'A', ['t1'], cache.generation);
        cache.set('b', 'B', ['t1'], cache.generation);
        cache.set('c', 'C', ['t2'], cache.generation);
        assert.equal(cache.get('a'), 'A'); // a is now the most recently used
        cache.set('d', 'D', ['t2'], cache.generation);
        assert.equal(cache.size, 3);
        assert.equal(cache.get('b'), undefined, 'the least recently used entry went');
        assert.deepEqual([cache.get('a'), cache.get('c'), cache.get('d')], ['A', 'C', 'D']);
        await cache.invalidate('t2');
        assert.deepEqual([cache.get('a'), cache.get('c'), cache.get('d')], ['A', undefined, undefined]);
        cache.set('b', 'B2', ['t3'], cache.generation);
        await cache.invalidate('t1');
        assert.deepEqual([cache.get('a'), cache.get('b')], [undefined, 'B2']);
    });

    it('does not cache a value read before an invalidation', async () => {
        const cache = new ReadCache<string>(db, 'test_cache2', { ttlMs: 60_000 });
        await cache.start();
        const generation = cache.generation;
        await cache.invalidate('x');
        cache.set('k', 'stale', ['x'], generation);
        assert.equal(cache.get('k'), undefined);
    });
});
