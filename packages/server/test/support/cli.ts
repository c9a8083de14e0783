// Helpers for tests that drive the Switchboard CLI (packages/cli) against a test server.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, type TestServer } from './server.ts';

export const cliEntry = new URL('../../../cli/src/main.ts', import.meta.url).pathname;

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs `switchboard <args>` as a child process with this Node (process.execPath: TypeScript type stripping).
 * Asynchronous on purpose: the Google fakes live in the test process and must keep answering meanwhile.
 * Only PATH/HOME are inherited so a developer's NANGO_* / SWITCHBOARD_* variables cannot leak in.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [cliEntry, ...args],
            { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, encoding: 'utf8', timeout: 120_000 },
            (err, stdout, stderr) => {
                const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
                resolve({ code, stdout, stderr });
            }
        );
    });
}

/** A zero-YAML project in a temp folder: `.nango/`, and an index.ts importing the given scripts (path → source). */
export function makeProject(scripts: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-project-'));
    mkdirSync(join(dir, '.nango'));
    writeFileSync(
        join(dir, 'index.ts'),
        Object.keys(scripts)
            .map((p) => `import './${p.replace(/\.ts$/, '.js')}';\n`)
            .join('')
    );
    for (const [path, source] of Object.entries(scripts)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), source);
    }
    return dir;
}

/**
 * Copies a CLI project into a temp folder without its build output and tests: compile writes build/ and
 * .nango/nango.json into the project, which must not land in the repository or race another test run.
 */
export function copyProject(dir: string): string {
    const dest = mkdtempSync(join(tmpdir(), 'sb-project-'));
    const skipped = new Set(['build', 'test', 'node_modules', join('.nango', 'nango.json')]);
    cpSync(dir, dest, {
        recursive: true,
        filter: (src) => {
            const rel = relative(dir, src);
            return !skipped.has(rel) && !skipped.has(rel.split(sep)[0]!);
        }
    });
    return dest;
}

/** One entry of GET /sync/status (packages/server/src/functions/routes/sync-status.ts). */
export interface SyncStatus {
    name: string;
    type: 'INITIAL' | 'INCREMENTAL';
    status: string;
    finishedAt: string | null;
    latestExecutionStatus: string | null;
    latestResult: Record<string, { added: number; updated: number; deleted: number }>;
    recordCount: Record<string, number>;
    checkpoint: Record<string, unknown> | null;
}

/**
 * Waits until the sync has a run that finished at or after `sinceMs` and returns its status; a failed run
 * fails the test with the status (which names the error) rather than timing out, unless `allowError`.
 */
export async function waitForRun(
    server: TestServer,
    key: string,
    connectionId: string,
    sync: string,
    sinceMs: number,
    timeoutMs = 60_000,
    allowError = false
): Promise<SyncStatus> {
    const end = Date.now() + timeoutMs;
    const query = new URLSearchParams({ syncs: sync, provider_config_key: key, connection_id: connectionId });
    for (;;) {
        const res = await fetch(`${server.url}/sync/status?${query}`, { headers: { authorization: `Bearer ${server.secretKey}` } });
        const body = (await res.json()) as { syncs?: SyncStatus[] };
        if (!res.ok) throw new Error(`GET /sync/status answered ${res.status}: ${JSON.stringify(body)}`);
        const s = body.syncs?.[0];
        const done = s?.finishedAt && s.latestExecutionStatus !== 'RUNNING' && Date.parse(s.finishedAt) >= sinceMs;
        if (done) {
            if (s.latestExecutionStatus !== 'SUCCESS' && !allowError) throw new Error(`${key}/${sync} run failed: ${JSON.stringify(s)}`);
            return s;
        }
        if (Date.now() > end) throw new Error(`timed out waiting for a ${key}/${sync} run: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** A zero-YAML sync that saves 25 numbered `Num` records without HTTP, auto-started every hour. */
export const NUMBERS_SYNC = `import { createSync } from 'nango';
import * as z from 'zod';

export default createSync({
    description: 'Twenty-five numbered records, no HTTP',
    version: '1.0.0',
    frequency: 'every hour',
    autoStart: true,
    models: { Num: z.object({ id: z.string(), n: z.number() }) },
    exec: async (nango) => {
        await nango.batchSave(Array.from({ length: 25 }, (_, n) => ({ id: 'n' + n, n })), 'Num');
    }
});
`;

/**
 * A server for NUMBERS_SYNC-style projects: an API_KEY provider nothing calls (the scripts make no HTTP requests),
 * its integration `key`, and an imported connection `connectionId`; the scheduler ticks every 200 ms.
 */
export async function startNumbersServer(key: string, connectionId: string): Promise<{ server: TestServer; nango: Nango }> {
    const providers = writeProvidersFile(`numbers-api:\n  display_name: Numbers\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:9\n`);
    const server = await startServer({ SWITCHBOARD_PROVIDERS: providers, SWITCHBOARD_SCHEDULER_TICK_MS: '200' });
    const nango = new Nango({ host: server.url, secretKey: server.secretKey });
    await nango.createIntegration({ provider: 'numbers-api', unique_key: key });
    const imported = await fetch(`${server.url}/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider_config_key: key, connection_id: connectionId, credentials: { type: 'API_KEY', apiKey: 'k' } })
    });
    if (imported.status !== 201) throw new Error(`importing the connection answered ${imported.status}: ${await imported.text()}`);
    return { server, nango };
}
