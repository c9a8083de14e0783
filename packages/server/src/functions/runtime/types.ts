/**
 * The contract between the server and the isolated script runtime.
 *
 * A run executes in a runner child process (see pool.ts). The script's `nango` object lives in that child;
 * every call that needs the server (HTTP to the provider, records, checkpoints, metadata, logs) crosses the
 * process boundary as one RPC and is answered by the `ScriptHost` the server built for this run. The host is
 * plain data in, plain data out (structured-clone serialisable), so nothing of the server leaks into a script.
 */

export type ScriptKind = 'sync' | 'action' | 'on-event' | 'webhook';

/** What the script sees as plain properties of `nango` (docs/scripts-compatibility.md, "The nango object"). */
export interface ScriptProps {
    scriptType: ScriptKind;
    connectionId: string;
    providerConfigKey: string;
    provider: string;
    environmentId: number;
    environmentName: string;
    nangoConnectionId: number;
    activityLogId: string;
    /** sync / webhook runs */
    syncName?: string;
    syncId?: string;
    syncJobId?: number;
    variant?: string;
    lastSyncDate?: string | null;
    track_deletes?: boolean;
    /** Models the sync declared: writes to any other model fail the call. */
    models?: string[];
    /** Action name for actions and on-event script name for on-events. */
    scriptName: string;
    /** Script log threshold: debug | info | warn | error | off (default warn). */
    logLevel?: string;
    /** The provider's default pagination from the catalogue (`proxy.paginate`), merged under a script's own config. */
    providerPaginate?: Record<string, unknown> | null;
}

export interface RunRequest {
    runId: string;
    kind: ScriptKind;
    /** CommonJS bundle text (zero-YAML object default export, or legacy default-exported function). */
    code: string;
    /** Action input, or the webhook payload for `webhook` runs. */
    input?: unknown;
    props: ScriptProps;
    /** Wall-clock limit; the runner process is killed when it passes. */
    timeoutMs: number;
}

/** docs/scripts-compatibility.md, "Errors": the error types a run reports. */
export interface ScriptError {
    type: string;
    message: string;
    payload?: unknown;
    status?: number;
    additional_properties?: Record<string, unknown>;
}

/** `notStarted`: the runtime shut down before the script began, so the run can be put back in its queue. */
export type RunResult = { ok: true; output: unknown } | { ok: false; error: ScriptError; notStarted?: true };

/** A request a script makes through `nango.get/post/…/proxy`. Bodies are JSON values, strings or Uint8Array. */
export interface HostProxyRequest {
    method: string;
    endpoint: string;
    headers?: Record<string, string>;
    params?: string | Record<string, string | number | string[] | number[]>;
    data?: unknown;
    retries?: number;
    retryOn?: number[];
    baseUrlOverride?: string;
    responseType?: 'arraybuffer' | 'blob' | 'document' | 'json' | 'text' | 'stream';
    decompress?: boolean;
    providerConfigKey?: string;
    connectionId?: string;
}

/** The upstream answer; `data` is parsed JSON when the response is JSON (unless responseType says otherwise). */
export interface HostProxyResponse {
    status: number;
    headers: Record<string, string>;
    data: unknown;
}

/** `nango.uncontrolledFetch`: a plain request to any URL the egress policy allows, with no connection credentials. */
export interface HostFetchRequest {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array | null;
}

/** The whole answer (redirects already followed); the child turns it into a WHATWG `Response`. */
export interface HostFetchResponse {
    status: number;
    statusText: string;
    /** The URL that answered, after redirects. */
    url: string;
    headers: Array<[string, string]>;
    body: Uint8Array;
}

export interface ScriptLogEntry {
    level: 'debug' | 'info' | 'warn' | 'error';
    message: string;
    meta?: unknown;
}

export interface DeleteResult {
    deletedKeys: string[];
}

/** The server side of one run. Every method may throw; the error message reaches the script as an Error. */
export interface ScriptHost {
    proxy(req: HostProxyRequest): Promise<HostProxyResponse>;
    uncontrolledFetch(req: HostFetchRequest): Promise<HostFetchResponse>;
    getConnection(opts: { providerConfigKey?: string; connectionId?: string; forceRefresh?: boolean; refreshToken?: boolean }): Promise<unknown>;
    setMetadata(metadata: Record<string, unknown>): Promise<void>;
    updateMetadata(metadata: Record<string, unknown>): Promise<void>;
    getIntegration(include?: string[]): Promise<unknown>;
    getEnvironmentVariables(): Promise<Array<{ name: string; value: string }> | null>;
    log(entry: ScriptLogEntry): Promise<void>;
    /** Records (sync and webhook runs only). Records arrive in chunks of at most 1,000. */
    batchSave(model: string, records: Array<Record<string, unknown>>): Promise<void>;
    batchUpdate(model: string, records: Array<Record<string, unknown>>): Promise<void>;
    batchDelete(model: string, records: Array<Record<string, unknown>>): Promise<void>;
    getRecordsByIds(model: string, ids: string[]): Promise<Array<Record<string, unknown>>>;
    listRecords(model: string, cursor: string | null): Promise<{ records: Array<Record<string, unknown>>; next_cursor: string | null }>;
    trackDeletesStart(model: string): Promise<void>;
    trackDeletesEnd(model: string): Promise<DeleteResult>;
    getCheckpoint(): Promise<Record<string, string | number | boolean> | null>;
    saveCheckpoint(checkpoint: Record<string, string | number | boolean>): Promise<void>;
    clearCheckpoint(): Promise<void>;
}

export type ScriptHostMethod = keyof ScriptHost;
