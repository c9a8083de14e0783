// The V8 settings the server runs with (runtime/heap.ts): the start commands pass SERVER_NODE_FLAGS, main.ts applies
// tuneHeapForBodies() and says when it was started without the flags, and together they turn the full collections
// that large proxied bodies caused into young-generation ones (bench/proxy has the CPU figures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SERVER_NODE_FLAGS } from '../src/runtime/heap.ts';
import { removeDir, startServer } from './support/server.ts';

const repo = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, repo), 'utf8');

test('npm start (root and server package) and the Docker image pass SERVER_NODE_FLAGS before the entry point', () => {
    assert.ok(SERVER_NODE_FLAGS.length > 0);
    const commands: Array<[string, string[]]> = [
        ['package.json', (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(' ')],
        ['packages/server/package.json', (JSON.parse(read('packages/server/package.json')) as { scripts: { start: string } }).scripts.start.split(' ')],
        ['deploy/Dockerfile', JSON.parse(/^CMD (\[.*\])$/m.exec(read('deploy/Dockerfile'))?.[1] ?? '[]') as string[]]
    ];
    for (const [where, argv] of commands) {
        assert.equal(argv[0], 'node', where);
        const entry = argv.findIndex((a) => a.endsWith('src/main.ts'));
        assert.ok(entry > 0, `${where} runs src/main.ts`);
        assert.deepEqual(argv.slice(1, entry), [...SERVER_NODE_FLAGS], where);
    }
});

test('tuned, a gigabyte of short-lived external buffers costs young-generation collections, not full ones', () => {
    const run = (tuned: boolean) => {
        const child = spawnSync(process.execPath, [...(tuned ? SERVER_NODE_FLAGS : []), new URL('./support/external-churn.ts', import.meta.url).pathname], {
            env: { PATH: process.env['PATH'] ?? '', TUNE: tuned ? '1' : '0' },
            encoding: 'utf8',
            timeout: 120_000
        });
        assert.equal(child.status, 0, child.stderr);
        return JSON.parse(child.stdout) as { major: number; minor: number };
    };
    const untuned = run(false);
    const tuned = run(true);
    // Untuned, V8 counts every external byte since the last full collection against the old generation's limit.
    assert.ok(untuned.major >= 6, `the churn provokes full collections untuned: ${JSON.stringify(untuned)}`);
    assert.ok(tuned.major * 4 <= untuned.major, `tuned ${JSON.stringify(tuned)} against untuned ${JSON.stringify(untuned)}`);
    assert.ok(tuned.minor > 0, `young-generation collections free the buffers: ${JSON.stringify(tuned)}`);
});

test('main.ts says when it was started without SERVER_NODE_FLAGS, and is silent when started with them', async () => {
    const message = 'started without the recommended Node flags';
    const without = await startServer({ SWITCHBOARD_LOG_LEVEL: 'info' }, { nodeFlags: [] });
    try {
        const line = without
            .output()
            .split('\n')
            .find((l) => l.includes(message));
        assert.ok(line, 'logged');
        assert.deepEqual((JSON.parse(line) as { missing: string[] }).missing, [...SERVER_NODE_FLAGS]);
    } finally {
        await without.stop();
        removeDir(without.dataDir);
    }
    const withFlags = await startServer({ SWITCHBOARD_LOG_LEVEL: 'info' });
    try {
        assert.equal((await fetch(`${withFlags.url}/health`)).status, 200);
        assert.ok(!withFlags.output().includes(message));
    } finally {
        await withFlags.stop();
        removeDir(withFlags.dataDir);
    }
});
