// Records cache benchmark: batchSave (new, unchanged, updated), paged reads (the text GET /records sends), reads
// beside a concurrent ingest, on the embedded default (embedded PostgreSQL) and on an external PostgreSQL, and the
// peak RSS of the process while one connection holds the large set. Prints one JSON object with the goals and the
// ratios; progress on stderr. Each backend runs in its own child process so its peak RSS is its own. See README.md.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { calibrationCpuMs } from '../support/calibrate.ts';

const postgresRecords = Number(process.env['BENCH_POSTGRES_RECORDS'] ?? 1_000_000);
const embeddedRecords = Number(process.env['BENCH_EMBEDDED_RECORDS'] ?? 1_000_000);
const deadlineSeconds = Number(process.env['BENCH_DEADLINE_SECONDS'] ?? 900);
const backends = (process.env['BENCH_BACKENDS'] || 'embedded,postgres').split(',').map((b) => b.trim());

function runChild(backend: string, records: number, deadline: number): Promise<unknown> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [new URL('./backend.ts', import.meta.url).pathname, backend, String(records)], {
            stdio: ['ignore', 'pipe', 'inherit']
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        // The child cleans up its database on SIGTERM; the deadline keeps the whole run bounded.
        const timer = setTimeout(() => child.kill('SIGTERM'), deadline * 1000);
        const stop = () => child.kill('SIGTERM');
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            try {
                resolve(JSON.parse(out));
            } catch {
                resolve({ backend, error: `exited with ${code ?? signal}`, output: out.slice(-2000) });
            }
        });
    });
}

const started = Date.now();
const loadAtStart = loadavg();
const calibrationAtStart = calibrationCpuMs();
const results: Record<string, unknown> = {};
for (const backend of backends) {
    const records = backend === 'postgres' ? postgresRecords : embeddedRecords;
    const left = deadlineSeconds - (Date.now() - started) / 1000;
    results[backend] = await runChild(backend, records, Math.max(60, left / (backends.length - backends.indexOf(backend))));
}
process.stdout.write(
    `${JSON.stringify(
        {
            node: process.version,
            cpus: cpus().length,
            loadavg_at_start: loadAtStart.map((n) => Math.round(n * 100) / 100),
            loadavg_at_end: loadavg().map((n) => Math.round(n * 100) / 100),
            calibration_cpu_ms: [calibrationAtStart, calibrationCpuMs()],
            seconds: Math.round((Date.now() - started) / 1000),
            ...results
        },
        null,
        2
    )}\n`
);
