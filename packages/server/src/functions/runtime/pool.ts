/**
 * RunnerPool: runs scripts in at most `size` runner child processes, one run per process at a time, reusing
 * healthy processes and replacing any that died, timed out, were killed after an abort or ran out of memory.
 * Runs beyond `size` wait in FIFO order. The server's own event loop is never blocked by a script.
 *
 * A process only ever serves one environment (`props.environmentId` of its first run): the process is the
 * boundary between environments, so whatever a script leaves behind in it can only meet later scripts of the
 * same environment (issue #10 item 2). An idle process of another environment is retired to make room.
 */
import { RunnerProcess, type RuntimeLogger } from './runner.ts';
import type { RunRequest, RunResult, ScriptHost } from './types.ts';

export type { RuntimeLogger } from './runner.ts';

export interface RunnerPoolOptions {
    /** Max concurrent runner processes (default 2). */
    size?: number;
    /** JS heap cap per process in MB (default 512); the OS data-segment cap is this plus a fixed headroom. */
    memoryMb?: number;
    logger?: RuntimeLogger;
    /** Action output JSON limit in bytes (default 2 MB, as Nango's non-enterprise plans). */
    maxOutputBytes?: number;
    /** How long an aborted script may take to notice the abort before its process is killed (default 2 s). */
    abortGraceMs?: number;
}

export class RunnerPool {
    private readonly size: number;
    private readonly runnerOpts: ConstructorParameters<typeof RunnerProcess>[0];
    /** Idle processes with the environment they served, least recently used first. */
    private readonly idle: Array<{ proc: RunnerProcess; environmentId: number }> = [];
    private readonly busy = new Set<RunnerProcess>();
    private readonly waiting: Array<() => void> = [];
    private inUse = 0;
    private closed = false;

    constructor(opts: RunnerPoolOptions = {}) {
        this.size = Math.max(1, opts.size ?? 2);
        this.runnerOpts = {
            memoryMb: opts.memoryMb ?? 512,
            maxOutputBytes: opts.maxOutputBytes ?? 2 * 1024 * 1024,
            abortGraceMs: opts.abortGraceMs ?? 2_000,
            logger: opts.logger ?? (() => undefined)
        };
    }

    /** Runs one script to completion. Never rejects: failures are `{ok:false, error:{type, message}}`. */
    async run(req: RunRequest, host: ScriptHost, signal?: AbortSignal): Promise<RunResult> {
        if (this.closed) return closedBeforeStart;
        if (!(await this.acquireSlot(signal))) return this.closed ? closedBeforeStart : fail('script_aborted', 'The script was aborted before it started');
        let proc: RunnerProcess | undefined;
        try {
            const environmentId = req.props.environmentId;
            proc = this.takeProcess(environmentId);
            this.busy.add(proc);
            this.runnerOpts.logger('debug', { runId: req.runId, environmentId, runnerPid: proc.pid }, 'script run started');
            const { result, reusable } = await proc.run(req, host, signal);
            this.busy.delete(proc);
            if (reusable && proc.alive && !this.closed) this.idle.push({ proc, environmentId });
            else proc.kill();
            return result;
        } finally {
            if (proc) this.busy.delete(proc);
            this.releaseSlot();
        }
    }

    /** Usage for metrics: the configured size, runs in progress, idle processes kept warm, and runs waiting for a slot. */
    stats(): { size: number; inUse: number; idle: number; waiting: number } {
        return { size: this.size, inUse: this.inUse, idle: this.idle.length, waiting: this.waiting.length };
    }

    /** Kills every runner process; queued runs resolve with `runtime_closed`. */
    async close(): Promise<void> {
        this.closed = true;
        for (const wake of this.waiting.splice(0)) wake();
        for (const p of [...this.idle.splice(0).map((i) => i.proc), ...this.busy]) p.shutdown();
    }

    /** An idle process that served this environment, or a new one; never one that served another environment. */
    private takeProcess(environmentId: number): RunnerProcess {
        for (let i = this.idle.length - 1; i >= 0; i--) {
            const { proc, environmentId: served } = this.idle[i]!;
            if (!proc.alive) {
                this.idle.splice(i, 1);
            } else if (served === environmentId) {
                this.idle.splice(i, 1);
                return proc;
            }
        }
        // Keep at most `size` processes: the caller holds a slot, so busy + idle + this one may exceed it by one.
        while (this.idle.length > 0 && this.idle.length + this.busy.size >= this.size) this.idle.shift()!.proc.kill();
        return new RunnerProcess(this.runnerOpts);
    }

    /** Resolves true once a slot is held; false when aborted or closed while queued. */
    private acquireSlot(signal?: AbortSignal): Promise<boolean> {
        if (signal?.aborted) return Promise.resolve(false);
        if (this.inUse < this.size) {
            this.inUse++;
            return Promise.resolve(true);
        }
        return new Promise<boolean>((resolve) => {
            const wake = () => {
                signal?.removeEventListener('abort', onAbort);
                if (this.closed) return resolve(false);
                this.inUse++;
                resolve(true);
            };
            const onAbort = () => {
                const i = this.waiting.indexOf(wake);
                if (i >= 0) this.waiting.splice(i, 1);
                resolve(false);
            };
            signal?.addEventListener('abort', onAbort, { once: true });
            this.waiting.push(wake);
        });
    }

    private releaseSlot(): void {
        this.inUse--;
        this.waiting.shift()?.();
    }
}

const closedBeforeStart: RunResult = {
    ok: false,
    error: { type: 'runtime_closed', message: 'The script runtime is shutting down' },
    notStarted: true
};

function fail(type: string, message: string): RunResult {
    return { ok: false, error: { type, message } };
}
