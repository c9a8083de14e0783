// Runs a snippet of storage code in a child Node process, for failures that hang or crash a process
// (a deadlocked pool, an unhandled 'error' event) and so cannot be observed safely in the test process.
import { spawn } from 'node:child_process';

const serverDir = new URL('../../', import.meta.url);

/** file:// URL of a module under packages/server (e.g. 'src/storage/postgres.ts'), for imports in a child script. */
export const moduleUrl = (path: string): string => new URL(path, serverDir).href;

export interface ChildResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** Runs `script` as an ES module with cwd packages/server; kills it after `timeoutMs`. */
export function runChildScript(script: string, timeoutMs = 30_000): Promise<ChildResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL(serverDir).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', reject);
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
    });
}
