/**
 * One runner child process seen from the server: spawn under OS limits, run one script at a time, answer its
 * host calls, and kill it on timeout, on an ignored abort or when it misbehaves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallMessage, ChildMessage, ParentMessage } from './protocol.ts';
import { isHostMethod } from './protocol.ts';
import type { RunRequest, RunResult, ScriptError, ScriptHost } from './types.ts';

export type RuntimeLogger = (level: 'debug' | 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void;

export interface RunnerOptions {
    memoryMb: number;
    maxOutputBytes: number;
    abortGraceMs: number;
    logger: RuntimeLogger;
}

export interface RunOutcome {
    result: RunResult;
    /** False when the process died, was killed or asked to be retired. */
    reusable: boolean;
}

const ENTRY = fileURLToPath(new URL('./runner-process.ts', import.meta.url));
/**
 * V8 reserves address space for its code range and other regions beyond the JS heap; measured on Linux x64,
 * Node 24 does not boot with a data cap of 512 MB but does with 768 MB. The heap itself is capped by
 * --max-old-space-size; this headroom covers the rest (buffers, code, native allocations).
 */
const DATA_HEADROOM_MB = 512;
const BOOT_TIMEOUT_MS = 15_000;
// Bundles a runner process keeps compiled; past this, it forgets them all and starts over (a process serves one
// environment, whose deployed functions rarely number more).
const MAX_CODES = 64;
const STDERR_TAIL_CHARS = 8_192;

interface ActiveRun {
    runId: string;
    host: ScriptHost;
    finish: (outcome: RunOutcome) => void;
}

export class RunnerProcess {
    private readonly child: ChildProcess;
    private readonly opts: RunnerOptions;
    private readonly booted: Promise<boolean>;
    private active: ActiveRun | undefined;
    private stderrTail = '';
    private exited = false;
    private shuttingDown = false;
    /** The bundles this process has compiled, by text (the function store hands out one string per deploy). */
    private readonly codes = new Map<string, number>();
    private nextCodeId = 1;

    constructor(opts: RunnerOptions) {
        this.opts = opts;
        const dataKb = (opts.memoryMb + DATA_HEADROOM_MB) * 1024;
        // --frozen-intrinsics: a script reaches the runner's realm through any object the runner hands it (zod, nango,
        // Buffer), so its prototypes must not be writable, or one run could hook what the next one does (sandbox.ts).
        // `ulimit -d` makes the kernel refuse the data segment (incl. anonymous mmap) beyond the cap, so a giant
        // Buffer fails to allocate instead of swapping the host; `exec` keeps the child's pid equal to node's.
        this.child = spawn(
            '/bin/sh',
            [
                '-c',
                `ulimit -d ${dataKb} && exec "$0" "$@"`,
                process.execPath,
                `--max-old-space-size=${opts.memoryMb}`,
                '--disallow-code-generation-from-strings',
                '--frozen-intrinsics',
                '--disable-warning=ExperimentalWarning',
                ENTRY
            ],
            {
                stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
                serialization: 'advanced',
                // No server secrets (vault keys, database URLs) reach the process that runs third-party code.
                env: {}
            }
        );
        this.child.stdout?.resume();
        this.child.stderr?.setEncoding('utf8');
        this.child.stderr?.on('data', (chunk: string) => {
            this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
        });
        this.booted = new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), BOOT_TIMEOUT_MS);
            this.child.once('message', (m: ChildMessage) => {
                clearTimeout(timer);
                resolve(m.t === 'ready');
            });
            this.child.once('close', () => {
                clearTimeout(timer);
                resolve(false);
            });
        });
        this.child.on('message', (m: ChildMessage) => this.onMessage(m));
        this.child.on('error', (err) => this.opts.logger('error', { err: err.message }, 'runner process error'));
        this.child.on('close', (code, signal) => this.onClose(code, signal));
    }

    /** The child's pid (logs and tests). */
    get pid(): number | undefined {
        return this.child.pid;
    }

    get alive(): boolean {
        return !this.exited;
    }

    /** Runs one script; never rejects. */
    async run(req: RunRequest, host: ScriptHost, signal?: AbortSignal): Promise<RunOutcome> {
        if (!(await this.booted) || this.exited) {
            this.kill();
            if (this.shuttingDown)
                return {
                    result: { ok: false, error: { type: 'runtime_closed', message: 'The script runtime shut down before the run started' }, notStarted: true },
                    reusable: false
                };
            return { result: fail('script_internal_error', 'The runner process failed to start'), reusable: false };
        }
        return new Promise<RunOutcome>((resolve) => {
            let settled = false;
            let graceTimer: ReturnType<typeof setTimeout> | undefined;
            const finish = (outcome: RunOutcome) => {
                if (settled) return;
                settled = true;
                clearTimeout(timeoutTimer);
                clearTimeout(graceTimer);
                signal?.removeEventListener('abort', onAbort);
                this.active = undefined;
                if (!outcome.reusable) this.kill();
                resolve(outcome);
            };
            const timeoutTimer = setTimeout(() => {
                this.opts.logger('warn', { runId: req.runId, timeoutMs: req.timeoutMs }, 'script timed out; killing its runner process');
                finish({ result: fail('execution_timeout', `The script did not finish within ${req.timeoutMs} ms and was stopped`), reusable: false });
            }, req.timeoutMs);
            const onAbort = () => {
                this.post({ t: 'abort', runId: req.runId });
                // A script only notices the abort at its next nango call; one busy computing is killed after the grace period.
                graceTimer = setTimeout(() => finish({ result: fail('script_aborted', 'The script was aborted'), reusable: false }), this.opts.abortGraceMs);
            };
            this.active = {
                runId: req.runId,
                host,
                finish: (outcome) => {
                    if (signal?.aborted && !(outcome.result.ok === false && outcome.result.error.type === 'script_aborted')) {
                        outcome = { result: fail('script_aborted', 'The script was aborted'), reusable: outcome.reusable };
                    }
                    finish(outcome);
                }
            };
            if (signal?.aborted) onAbort();
            else signal?.addEventListener('abort', onAbort, { once: true });
            // A run the child never received would otherwise hold this process until the timeout (issue #10
            // item 6): an input V8 cannot serialise (5,000 levels deep), or a child gone since it was taken.
            // The process is not reused, as a failed send may have left part of a message in the channel.
            // A bundle crosses the channel once per process; later runs name it by number (sandbox.ts compiles it once).
            // (A failed send retires the process, so a number in the table is one the child has received.)
            let codeId = this.codes.get(req.code);
            const known = codeId !== undefined;
            let forget = false;
            if (codeId === undefined) {
                if (this.codes.size >= MAX_CODES) {
                    this.codes.clear();
                    forget = true;
                }
                codeId = this.nextCodeId++;
                this.codes.set(req.code, codeId);
            }
            this.post(
                {
                    t: 'start',
                    runId: req.runId,
                    kind: req.kind,
                    codeId,
                    ...(known ? {} : { code: req.code }),
                    ...(forget ? { forget } : {}),
                    input: req.input,
                    props: req.props,
                    maxOutputBytes: this.opts.maxOutputBytes
                },
                (reason) => {
                    this.opts.logger('warn', { runId: req.runId, reason }, 'could not start a run in its runner process');
                    finish({ result: fail('runner_send_failed', `The run could not be handed to its runner process (${reason})`), reusable: false });
                }
            );
        });
    }

    /** SIGKILL: a runaway script gets no chance to clean up, by design. */
    kill(): void {
        if (!this.exited) this.child.kill('SIGKILL');
    }

    /** Kill because the pool is closing: an active run reports `runtime_closed`. */
    shutdown(): void {
        this.shuttingDown = true;
        this.kill();
    }

    /** Sends to the child; `onFailure` hears why a message did not leave (synchronously or from the channel). */
    private post(msg: ParentMessage, onFailure?: (reason: string) => void): void {
        const failed = onFailure ?? ((reason: string) => this.opts.logger('warn', { err: reason }, 'could not send to runner process'));
        if (this.exited || !this.child.connected) {
            failed('the runner process has exited');
            return;
        }
        try {
            this.child.send(msg, (err) => {
                if (err) failed(err.message);
            });
        } catch (err) {
            failed(err instanceof Error ? err.message : String(err));
        }
    }

    private onMessage(m: ChildMessage): void {
        const active = this.active;
        if (m.t === 'call') void this.answer(m, active);
        else if (m.t === 'done' && active && m.runId === active.runId) active.finish({ result: m.result, reusable: !m.retire });
    }

    /** Dispatches a host call of the active run; calls from a run that already ended are refused. */
    private async answer(m: CallMessage, active: ActiveRun | undefined): Promise<void> {
        if (!active || m.runId !== active.runId) {
            this.post({ t: 'reply', id: m.id, ok: false, error: { name: 'Error', message: 'The run has ended' } });
            return;
        }
        if (!isHostMethod(m.method) || !Array.isArray(m.args)) {
            this.post({ t: 'reply', id: m.id, ok: false, error: { name: 'Error', message: `Unknown host method '${String(m.method)}'` } });
            return;
        }
        try {
            const fn = active.host[m.method] as (...args: unknown[]) => Promise<unknown>;
            const value = await fn.apply(active.host, m.args);
            this.post({ t: 'reply', id: m.id, ok: true, value });
        } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            const code = (e as { code?: unknown }).code;
            const error: { name: string; message: string; code?: string } = { name: e.name, message: e.message };
            if (typeof code === 'string') error.code = code;
            this.post({ t: 'reply', id: m.id, ok: false, error });
        }
    }

    private onClose(code: number | null, signal: NodeJS.Signals | null): void {
        this.exited = true;
        const active = this.active;
        if (!active) return;
        if (this.shuttingDown) {
            active.finish({ result: fail('runtime_closed', 'The script runtime shut down during the run'), reusable: false });
            return;
        }
        const oom = /heap out of memory|Reached heap limit|Fatal process out of memory|allocation failed|Cannot allocate memory/i.test(this.stderrTail);
        this.opts.logger('warn', { runId: active.runId, code, signal, oom }, 'runner process died during a run');
        const error: ScriptError = oom
            ? { type: 'script_out_of_memory', message: 'The script ran out of memory and its runner process was stopped' }
            : {
                  type: 'script_internal_error',
                  message: `The runner process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${String(code)}`})`
              };
        active.finish({ result: { ok: false, error }, reusable: false });
    }
}

function fail(type: string, message: string): RunResult {
    return { ok: false, error: { type, message } };
}
