/** Per-run state shared by the pieces of the `nango` object. */
import type { ScriptHost, ScriptKind, ScriptProps } from '../types.ts';
import { SdkError } from './errors.ts';

export interface RunState {
    /** Set when the caller aborted the run. */
    aborted: boolean;
    /** Set when the run has ended; a timer left behind by the script can no longer reach the host. */
    finished: boolean;
}

export interface SdkContext {
    host: ScriptHost;
    props: ScriptProps;
    kind: ScriptKind;
    state: RunState;
    /** Monotonic clock in ms, replaceable in tests (memoisation windows). */
    now: () => number;
}

/** Every `nango` method calls this first (docs/scripts-compatibility.md, "Limits and timeouts": abort is observed at the next SDK call). */
export function guard(ctx: SdkContext): void {
    if (ctx.state.aborted) throw new SdkError('script_aborted', 'The script was aborted');
    if (ctx.state.finished) throw new SdkError('script_finished', 'The run has already ended; nango calls are no longer accepted');
}
