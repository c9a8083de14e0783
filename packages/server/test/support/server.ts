import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { SERVER_NODE_FLAGS } from '../../src/runtime/heap.ts';

const serverDir = new URL('../../', import.meta.url).pathname;

export interface TestServer {
    url: string;
    /** The public listener's URL when SWITCHBOARD_PUBLIC_PORT is set. */
    publicUrl: string | undefined;
    /** The default environment's (`dev`) secret key: what an app holds. */
    secretKey: string;
    /** The operator's admin key (SWITCHBOARD_ADMIN_KEY) for operator-only routes (/admin/keys/rotate, /admin/environments*). */
    adminKey: string;
    dataDir: string;
    /** The server process's pid (to read its memory from /proc/<pid>/status). */
    pid: number;
    /** Everything the process printed (stdout + stderr), for log assertions. */
    output(): string;
    stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts Switchboard as `npm start` does (`node <SERVER_NODE_FLAGS> src/main.ts`, configured by environment
 * variables) on an ephemeral port, and resolves once it logs "listening". `nodeFlags` replaces the flags.
 */
export async function startServer(env: Record<string, string> = {}, opts: { nodeFlags?: readonly string[] } = {}): Promise<TestServer> {
    const dataDir = env['SWITCHBOARD_DATA_DIR'] ?? mkdtempSync(join(tmpdir(), 'sb-test-'));
    const secretKey = env['SWITCHBOARD_SECRET_KEY'] ?? randomUUID();
    const adminKey = env['SWITCHBOARD_ADMIN_KEY'] ?? `admin-${randomUUID()}`;
    const child: ChildProcess = spawn(process.execPath, [...(opts.nodeFlags ?? SERVER_NODE_FLAGS), 'src/main.ts'], {
        cwd: serverDir,
        env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '',
            PORT: '0',
            HOST: '127.0.0.1',
            SWITCHBOARD_DATA_DIR: dataDir,
            SWITCHBOARD_SECRET_KEY: secretKey,
            SWITCHBOARD_ADMIN_KEY: adminKey,
            SWITCHBOARD_ALLOW_PRIVATE_EGRESS: 'true',
            SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: '0',
            ...env
        },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
            // Not left running behind a failed suite: it was started here, so it is stopped here, by its PID.
            child.kill('SIGKILL');
            reject(new Error(`server did not start:\n${out}`));
        }, 60_000);
        const onData = (chunk: Buffer) => {
            out += chunk.toString();
            const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]!);
            }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code}:\n${out}`));
        });
    });
    child.removeAllListeners('exit');
    const publicUrl = /"publicUrl":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/.exec(out)?.[1];
    return {
        url,
        publicUrl,
        secretKey,
        adminKey,
        dataDir,
        pid: child.pid!,
        output: () => out,
        stop: (signal = 'SIGTERM') =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once('exit', () => resolve());
                child.kill(signal);
            })
    };
}

/** Writes an extra providers file (SWITCHBOARD_PROVIDERS) into a temp folder and returns its path. */
export function writeProvidersFile(yaml: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'sb-providers-'));
    const file = join(dir, 'providers.yaml');
    writeFileSync(file, yaml);
    return file;
}

export function removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
}

export const testEncryptionKey = () => randomBytes(32).toString('base64');

const adminUrl = 'postgresql://postgres@127.0.0.1:5432/test';

/** A fresh PostgreSQL database for one suite; drop() removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
    const name = `sb_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return {
        url: `postgresql://postgres@127.0.0.1:5432/${name}`,
        async drop() {
            const c = new pg.Client({ connectionString: adminUrl });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            await c.end();
        }
    };
}

/**
 * What puts a test server on `backend`: nothing for the embedded default; for `postgres`, a fresh database and an
 * encryption key. drop() removes the database (a no-op for the embedded default).
 */
export async function storageEnv(backend: string): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
    if (backend !== 'postgres') return { env: {}, drop: async () => {} };
    const database = await createTestDatabase();
    return { env: { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() }, drop: database.drop };
}
