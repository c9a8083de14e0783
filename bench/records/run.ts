// Records cache benchmark: batchSave (new, unchanged, updated) and paged reads on PGlite and PostgreSQL, and the
// peak RSS of the process while one connection holds the large set. Prints one JSON object; progress on stderr.
// Each backend runs in its own child process so its peak RSS is its own. See README.md.
import { spawn } from 'node:child_process';

const postgresRecords = Number(process.env['BENCH_POSTGRES_RECORDS'] ?? 1_000_000);
const pgliteRecords = Number(process.env['BENCH_PGLITE_RECORDS'] ?? 200_000);
const deadlineSeconds = Number(process.env['BENCH_DEADLINE_SECONDS'] ?? 900);

function runChild(backend: 'pglite' | 'postgres', records: number, deadline: number): Promise<unknown> {
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
const pglite = await runChild('pglite', pgliteRecords, deadlineSeconds / 2);
const postgres = await runChild('postgres', postgresRecords, Math.max(60, deadlineSeconds - (Date.now() - started) / 1000));
const [load1] = (await import('node:os')).loadavg();
process.stdout.write(
    `${JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, loadavg_1m_at_end: load1, seconds: Math.round((Date.now() - started) / 1000), pglite, postgres }, null, 2)}\n`
);
