// Liveness and readiness probes (issue #11 item 8): /health answers while the process runs; /health/ready
// answers 503 when the database does not answer in time, so an orchestrator stops routing to the instance.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, type TestServer } from './support/server.ts';

async function probe(server: TestServer, path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: await res.json() };
}

describe('health probes on the embedded database (PGlite)', () => {
    let server: TestServer;
    before(async () => {
        server = await startServer();
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('answers ok for liveness and readiness, with no credentials', async () => {
        assert.deepEqual(await probe(server, '/health'), { status: 200, body: { result: 'ok' } });
        assert.deepEqual(await probe(server, '/health/ready'), { status: 200, body: { result: 'ok' } });
    });
});

describe('health probes on PostgreSQL', () => {
    let server: TestServer;
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    before(async () => {
        db = await createTestDatabase();
        server = await startServer({ SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() });
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
        await db?.drop();
    });

    it('readiness answers 503 while the database does not answer, liveness stays ok, and readiness comes back', async () => {
        assert.deepEqual(await probe(server, '/health/ready'), { status: 200, body: { result: 'ok' } });
        // Another session holds the table every authenticated route reads: those routes would hang.
        const blocker = new pg.Client({ connectionString: db.url });
        await blocker.connect();
        try {
            await blocker.query('BEGIN');
            await blocker.query('LOCK TABLE environments IN ACCESS EXCLUSIVE MODE');
            assert.deepEqual(await probe(server, '/health/ready'), { status: 503, body: { result: 'unavailable', reason: 'database_timeout' } });
            assert.deepEqual(await probe(server, '/health'), { status: 200, body: { result: 'ok' } });
            await blocker.query('COMMIT');
        } finally {
            await blocker.end();
        }
        assert.deepEqual(await probe(server, '/health/ready'), { status: 200, body: { result: 'ok' } });
    });
});
