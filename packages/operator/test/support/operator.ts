import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const operatorDir = new URL('../../', import.meta.url).pathname;

export interface RunningOperator {
    identity: string;
    output(): string;
    stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the operator as a Deployment runs it (`node src/main.ts`, configured by environment variables). */
export async function startOperator(env: Record<string, string>): Promise<RunningOperator> {
    const identity = env['POD_NAME'] ?? `operator-${Math.random().toString(16).slice(2, 8)}`;
    const child: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
        cwd: operatorDir,
        env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '',
            POD_NAME: identity,
            POD_NAMESPACE: 'default',
            SWITCHBOARD_OPERATOR_HEALTH_PORT: '0',
            SWITCHBOARD_OPERATOR_LEASE_DURATION_MS: '3000',
            SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS: '2000',
            SWITCHBOARD_OPERATOR_RETRY_PERIOD_MS: '300',
            SWITCHBOARD_OPERATOR_RETRY_BASE_MS: '200',
            SWITCHBOARD_OPERATOR_RETRY_MAX_MS: '2000',
            ...env
        },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
        // Generous: loading the Kubernetes client takes seconds on a busy machine. A child that never says it
        // started is killed, so a failed start does not keep the test process alive.
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`operator did not start:\n${out}`));
        }, 120_000);
        const onData = (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('"msg":"started"')) {
                clearTimeout(timer);
                resolve();
            }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`operator exited with ${code}:\n${out}`));
        });
    });
    child.removeAllListeners('exit');
    return {
        identity,
        output: () => out,
        stop: (signal = 'SIGTERM') =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once('exit', () => resolve());
                child.kill(signal);
            })
    };
}

/** A free loopback port, so a broker can be stopped and started again at the same URL. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address() as { port: number };
            s.close(() => resolve(port));
        });
    });
}

/** Polls `check` until it returns a value (not undefined), with a generous overall deadline; no timed assertions. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        await new Promise((r) => setTimeout(r, 200));
    }
}
