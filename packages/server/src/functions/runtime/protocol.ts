/**
 * Messages exchanged over the IPC channel between the pool (parent) and a runner process (child).
 * Everything here is structured-clone data (`serialization: 'advanced'`), so Uint8Array bodies cross intact.
 */
import type { RunResult, ScriptKind, ScriptProps, ScriptHostMethod } from './types.ts';

/** Parent → child: start one run. A runner process handles one run at a time. */
export interface StartMessage {
    t: 'start';
    runId: string;
    kind: ScriptKind;
    /**
     * The bundle's number in this process: the child compiles a bundle once and keeps it under this number. `code`
     * comes with a number the child has not seen yet (or after `forget`), and is left out after that.
     */
    codeId: number;
    code?: string;
    /** The child drops every compiled bundle it holds before this run (the parent's table was full). */
    forget?: boolean;
    input: unknown;
    props: ScriptProps;
    /** Action output JSON limit in bytes (checked in the child so an oversized value never crosses IPC). */
    maxOutputBytes: number;
}

/** Parent → child: the caller aborted; every later `nango` call throws `script_aborted`. */
export interface AbortMessage {
    t: 'abort';
    runId: string;
}

/** Parent → child: answer to a host call. */
export interface ReplyMessage {
    t: 'reply';
    id: number;
    ok: boolean;
    value?: unknown;
    error?: { name: string; message: string };
}

export type ParentMessage = StartMessage | AbortMessage | ReplyMessage;

/** Child → parent: the runner finished booting and waits for work. */
export interface ReadyMessage {
    t: 'ready';
}

/** Child → parent: a `nango` method needs the server. */
export interface CallMessage {
    t: 'call';
    runId: string;
    id: number;
    method: ScriptHostMethod;
    args: unknown[];
}

/** Child → parent: the run finished. `retire` asks the parent not to reuse this process (e.g. after an allocation failure). */
export interface DoneMessage {
    t: 'done';
    runId: string;
    result: RunResult;
    retire: boolean;
}

export type ChildMessage = ReadyMessage | CallMessage | DoneMessage;

/** Every method of the ScriptHost contract, in one list for the child's RPC stub and the parent's dispatch check. */
export const HOST_METHOD_NAMES: readonly ScriptHostMethod[] = [
    'proxy',
    'uncontrolledFetch',
    'getConnection',
    'setMetadata',
    'updateMetadata',
    'getIntegration',
    'getEnvironmentVariables',
    'log',
    'batchSave',
    'batchUpdate',
    'batchDelete',
    'getRecordsByIds',
    'listRecords',
    'trackDeletesStart',
    'trackDeletesEnd',
    'getCheckpoint',
    'saveCheckpoint',
    'clearCheckpoint'
];

const HOST_METHODS: ReadonlySet<string> = new Set<string>(HOST_METHOD_NAMES);

/** The parent only dispatches names of the ScriptHost contract, never arbitrary properties. */
export function isHostMethod(name: unknown): name is ScriptHostMethod {
    return typeof name === 'string' && HOST_METHODS.has(name);
}
