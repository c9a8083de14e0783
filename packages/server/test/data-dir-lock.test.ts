// The data-folder lock of the embedded database (issue #10 item 8): a crash never blocks the next start, and a
// second live process on the same folder refuses with a clear message.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { removeDir, startServer } from './support/server.ts';

const serverDir = new URL('../', import.meta.url).pathname;

/** Starts the server as pid 1 of a new pid namespace (as `deploy/Dockerfile` runs it); resolves once it listens. */
async function startAsPid1(dataDir: string, secretKey: string): Promise<{ url: string; outer: ChildProcess }> {
    const outer = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, 'src/main.ts'], {
        cwd: serverDir,
        env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '',
            PORT: '0',
            HOST: '127.0.0.1',
            SWITCHBOARD_DATA_DIR: dataDir,
            SWITCHBOARD_SECRET_KEY: secretKey
        },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
            out += chunk.toString();
            const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/.exec(out);
            if (m) resolve(m[1]!);
        };
        outer.stdout!.on('data', onData);
        outer.stderr!.on('data', onData);
        outer.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    });
    outer.removeAllListeners('exit');
    return { url, outer };
}

/** The server's pid as seen from here: the only child of `unshare --fork`. */
function innerPid(outer: ChildProcess): number {
    const children = readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, 'utf8').trim().split(/\s+/);
    assert.equal(children.length, 1);
    return Number(children[0]);
}

describe('data folder lock', () => {
    const dirs: string[] = [];
    const running: ChildProcess[] = [];
    after(() => {
        // A failed assertion must not leave a server behind: end whatever namespace is still up.
        for (const outer of running) if (outer.exitCode === null && outer.signalCode === null) process.kill(innerPid(outer), 'SIGKILL');
        dirs.forEach(removeDir);
    });

    it('as pid 1: start, kill -9, start again as pid 1 → it starts and keeps its data', async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'sb-lock-'));
        dirs.push(dataDir);
        const secretKey = randomUUID();
        const first = await startAsPid1(dataDir, secretKey);
        running.push(first.outer);
        assert.equal(readFileSync(join(dataDir, 'switchboard.lock'), 'utf8').trim(), '1', 'the server ran as pid 1 of its namespace');
        const created = await fetch(`${first.url}/integrations`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider: 'openai', unique_key: 'kept' })
        });
        assert.ok(created.ok, await created.text());
        const exited = new Promise((resolve) => first.outer.once('exit', resolve));
        process.kill(innerPid(first.outer), 'SIGKILL');
        await exited;

        // The old pid lock named pid 1, and the new process is pid 1 again: it refused forever.
        const second = await startAsPid1(dataDir, secretKey);
        running.push(second.outer);
        try {
            assert.equal((await fetch(`${second.url}/health`)).status, 200);
            const list = await fetch(`${second.url}/integrations`, { headers: { authorization: `Bearer ${secretKey}` } });
            assert.match(await list.text(), /"kept"/);
        } finally {
            const gone = new Promise((resolve) => second.outer.once('exit', resolve));
            process.kill(innerPid(second.outer), 'SIGTERM');
            await gone;
        }
    });

    it('two live processes on one folder: the second refuses with a clear message, the first keeps serving', async () => {
        const first = await startServer();
        dirs.push(first.dataDir);
        try {
            await assert.rejects(startServer({ SWITCHBOARD_DATA_DIR: first.dataDir }), (err: Error) => {
                assert.match(err.message, /server exited with 78/);
                assert.match(err.message, /SWITCHBOARD_DATA_DIR .* is in use by another running process \(pid \d+\); run one process per data folder/);
                return true;
            });
            assert.equal((await fetch(`${first.url}/health`)).status, 200);
        } finally {
            await first.stop();
        }
        // A clean stop releases the folder at once.
        const again = await startServer({ SWITCHBOARD_DATA_DIR: first.dataDir });
        await again.stop();
    });
});
