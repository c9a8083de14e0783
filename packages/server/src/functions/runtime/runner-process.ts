/**
 * Entry point of a runner child process (spawned by pool.ts). It runs one script at a time, each in a fresh
 * vm context, and talks to the parent only over the IPC channel. It never writes to stdout/stderr itself.
 * A bundle is compiled once per process and evaluated afresh in each run's new context (sandbox.ts).
 */
import { performance } from 'node:perf_hooks';
import { dispatch } from './dispatch.ts';
import { toScriptError } from './error-mapping.ts';
import type { ChildMessage, ParentMessage, StartMessage } from './protocol.ts';
import { createIpcHost, type IpcHost } from './rpc-client.ts';
import { compileBundle, hardenRunnerRealm, loadBundle, type CompiledBundle, type Sandbox } from './sandbox.ts';
import { ActionError, HostCallError, SdkError } from './sdk/errors.ts';
import type { RunState } from './sdk/context.ts';
import { createNango } from './sdk/nango.ts';
import { keepTickShape } from '../../runtime/heap.ts';
import type { RunResult } from './types.ts';

interface Current {
    runId: string;
    state: RunState;
    ipc: IpcHost;
    /** Fails the run when the script throws from a timer callback (an uncaught exception). */
    crash: (err: unknown) => void;
}

let current: Current | undefined;
/** Bundles compiled in this process, by the number the parent gave them (StartMessage.codeId). */
const compiled = new Map<number, CompiledBundle>();

function send(msg: ChildMessage): void {
    process.send?.(msg);
}

async function run(msg: StartMessage): Promise<void> {
    const state: RunState = { aborted: false, finished: false };
    const ipc = createIpcHost(msg.runId, (m) => send(m));
    let crash: (err: unknown) => void = () => undefined;
    const crashed = new Promise<never>((_, reject) => {
        crash = reject;
    });
    current = { runId: msg.runId, state, ipc, crash };
    let sandbox: Sandbox | undefined;
    let result: RunResult;
    let retire = false;
    try {
        if (msg.forget) compiled.clear();
        let bundle = compiled.get(msg.codeId);
        if (!bundle) {
            if (msg.code === undefined) throw new Error('The runner process does not hold this bundle');
            bundle = compileBundle(msg.code, `${msg.props.scriptName || 'script'}.cjs`);
            compiled.set(msg.codeId, bundle);
        }
        sandbox = loadBundle(bundle);
        const nango = createNango({ host: ipc.host, props: msg.props, kind: msg.kind, state, now: () => performance.now() });
        const output = await Promise.race([dispatch(sandbox.exports, msg.kind, nango, msg.input), crashed]);
        result = serialiseOutput(output, msg.maxOutputBytes);
    } catch (err) {
        const mapped = toScriptError(err);
        result = { ok: false, error: mapped.error };
        retire = mapped.retire;
    }
    state.finished = true;
    if (sandbox && !sandbox.dispose()) retire = true;
    current = undefined;
    send({ t: 'done', runId: msg.runId, result, retire });
}

/** The output is returned as JSON (what the API caller receives), within the size limit. */
function serialiseOutput(output: unknown, maxBytes: number): RunResult {
    if (output === undefined) return { ok: true, output: undefined };
    let json: string | undefined;
    try {
        json = JSON.stringify(output);
    } catch (err) {
        return {
            ok: false,
            error: { type: 'invalid_action_output', message: `The script output is not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}` }
        };
    }
    if (json === undefined) return { ok: true, output: undefined };
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) {
        return {
            ok: false,
            error: { type: 'action_output_too_large', message: `The script output is ${bytes} bytes of JSON; the limit is ${maxBytes} bytes` }
        };
    }
    return { ok: true, output: JSON.parse(json) as unknown };
}

process.on('message', (raw: unknown) => {
    const msg = raw as ParentMessage;
    if (msg.t === 'start') {
        if (current) return; // the parent never overlaps runs; ignore rather than corrupt the active one
        void run(msg);
    } else if (msg.t === 'abort') {
        if (current?.runId === msg.runId) current.state.aborted = true;
    } else if (msg.t === 'reply') {
        current?.ipc.onReply(msg);
    }
});

// A throw inside a script's timer callback: fail the active run instead of letting the process die.
process.on('uncaughtException', (err) => {
    if (current) current.crash(err);
});
// Floating promise rejections in scripts are ignored, as an awaited failure already fails the run.
process.on('unhandledRejection', () => undefined);
// The parent is gone: nothing can receive our result.
process.on('disconnect', () => process.exit(0));

// A runner idles between runs, and V8's memory reducer would leave nextTick megamorphic (runtime/heap.ts).
keepTickShape();
hardenRunnerRealm([ActionError, SdkError, HostCallError]);
send({ t: 'ready' });
