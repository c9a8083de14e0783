// Embedded database candidates, measured in one run (issue #13 item 1): time to a healthy /health on a fresh
// folder and on a restart, idle RSS and PSS of every process the server runs (itself and its children, from
// /proc), and the same after inserting 100,000 rows. Prints one JSON object; progress goes to stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS } from '../../packages/server/src/runtime/heap.ts';

const candidates = (process.env['BENCH_CANDIDATES'] ?? 'pglite,postgres').split(',');
const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
// Past the pool's 10 s idle timeout, so idle means what a quiet server keeps.
const settleMs = Number(process.env['BENCH_SETTLE_MS'] ?? 12_000);
const serve = new URL('./serve.ts', import.meta.url).pathname;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pid and every descendant of it, from /proc. */
function tree(root: number): number[] {
    const parent = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
            parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        } catch {
            // gone meanwhile
        }
    }
    const out = [root];
    for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
    return out;
}

function kb(file: string, field: string): number {
    try {
        const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
        return m ? Number(m[1]) : 0;
    } catch {
        return 0;
    }
}

function memory(root: number) {
    const pids = tree(root);
    const rss = pids.map((p) => kb(`/proc/${p}/status`, 'VmRSS'));
    const pss = pids.map((p) => kb(`/proc/${p}/smaps_rollup`, 'Pss'));
    const mb = (n: number) => Math.round(n / 102.4) / 10;
    return {
        processes: pids.length,
        rss_mb: mb(rss.reduce((a, b) => a + b, 0)),
        pss_mb: mb(pss.reduce((a, b) => a + b, 0)),
        parent_rss_mb: mb(rss[0] ?? 0),
        parent_pss_mb: mb(pss[0] ?? 0),
        children_rss_mb: mb(rss.slice(1).reduce((a, b) => a + b, 0)),
        children_pss_mb: mb(pss.slice(1).reduce((a, b) => a + b, 0))
    };
}

interface Started {
    child: ChildProcess;
    healthMs: number;
    send(line: string): void;
    next(): Promise<string>;
    stop(): Promise<void>;
}

async function startServer(candidate: string, dataDir: string): Promise<Started> {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, serve], {
        env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '',
            PORT: '0',
            HOST: '127.0.0.1',
            SWITCHBOARD_DATA_DIR: dataDir,
            SWITCHBOARD_SECRET_KEY: 'bench-secret-key-0001',
            SWITCHBOARD_EMBEDDED: candidate,
            SWITCHBOARD_LOG_LEVEL: 'warn',
            SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: '0'
        },
        stdio: ['pipe', 'pipe', 'inherit']
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
        const r = await lines.next();
        if (r.done) throw new Error(`${candidate}: the server exited`);
        return r.value;
    };
    let url: string | undefined;
    while (!url) url = /^ready (\S+)$/.exec(await next())?.[1];
    // Time to the first healthy answer, as a load balancer or `docker run` would see it.
    for (;;) {
        const ok = await fetch(`${url}/health`).then(
            (r) => r.ok,
            () => false
        );
        if (ok) break;
        await sleep(10);
    }
    const healthMs = Math.round(performance.now() - t0);
    return {
        child,
        healthMs,
        send: (line) => child.stdin!.write(`${line}\n`),
        next,
        stop: () =>
            new Promise<void>((resolve) => {
                child.once('exit', () => resolve());
                child.kill('SIGTERM');
            })
    };
}

async function measure(candidate: string) {
    const dataDir = mkdtempSync(join(tmpdir(), `sb-bench-embedded-${candidate}-`));
    try {
        process.stderr.write(`${candidate}: fresh start\n`);
        const fresh = await startServer(candidate, dataDir);
        await fresh.stop();
        process.stderr.write(`${candidate}: restart\n`);
        const again = await startServer(candidate, dataDir);
        await sleep(settleMs);
        const idle = memory(again.child.pid!);
        process.stderr.write(`${candidate}: inserting ${rows} rows\n`);
        const t0 = performance.now();
        again.send(`insert ${rows}`);
        while ((await again.next()) !== 'inserted');
        const insertMs = Math.round(performance.now() - t0);
        await sleep(settleMs);
        const loaded = memory(again.child.pid!);
        await again.stop();
        const leftovers = tree(again.child.pid!).length - 1;
        return {
            fresh_start_ms: fresh.healthMs,
            restart_ms: again.healthMs,
            idle,
            insert_ms: insertMs,
            after_insert: loaded,
            processes_left_after_stop: leftovers
        };
    } finally {
        rmSync(dataDir, { recursive: true, force: true });
    }
}

const results: Record<string, unknown> = {};
for (const c of candidates) results[c] = await measure(c);
process.stdout.write(
    `${JSON.stringify(
        {
            goal: { fresh_start_ms: 3000, restart_ms: 2000, rss_mb_all_processes: 150 },
            rows,
            machine: { cpus: (await import('node:os')).cpus().length, loadavg_1m_at_end: Math.round(loadavg()[0]! * 100) / 100 },
            results
        },
        null,
        2
    )}\n`
);
