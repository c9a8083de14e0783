/**
 * A minimal in-test stand-in for the runner's `nango` object (docs/scripts-compatibility.md, "The nango object"), enough to run our
 * scripts against the loopback fakes: real HTTP with a Bearer token, axios-shaped errors, retries without
 * backoff, an in-memory records cache with trackDeletes, checkpoints and metadata. Not the real runtime:
 * the end-to-end test (packages/server/test/integrations-google.test.ts) covers that once it exists.
 */
type Params = string | Record<string, string | number | string[] | number[]>;
interface Config {
    endpoint: string;
    params?: Params;
    data?: unknown;
    headers?: Record<string, string>;
    retries?: number;
    retryOn?: number[];
}

export class ActionError extends Error {
    type = 'action_script_runtime_error';
    payload: Record<string, unknown>;
    constructor(payload: Record<string, unknown> = {}) {
        super(String(payload['message'] ?? 'action error'));
        this.payload = payload;
    }
}

export interface StubOptions {
    baseUrl: string;
    accessToken: string;
    metadata?: Record<string, unknown>;
}

export interface Stub {
    nango: Record<string, unknown>;
    records: Map<string, Record<string, unknown>>;
    deleted: Set<string>;
    checkpoint: Record<string, string | number | boolean> | null;
    checkpointsSaved: number;
    logs: Array<{ message: unknown; level: string }>;
    calls: { batchSave: number; batchDelete: number; trackDeletesStart: number; trackDeletesEnd: number };
    metadata: Record<string, unknown>;
}

function queryString(params: Params | undefined): string {
    if (params === undefined) return '';
    if (typeof params === 'string') return params ? `?${params}` : '';
    const q = new URLSearchParams();
    // Arrays are comma-joined, as the Nango proxy does.
    for (const [k, v] of Object.entries(params)) q.set(k, Array.isArray(v) ? v.join(',') : String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
}

export function stubNango(opts: StubOptions): Stub {
    const stub: Stub = {
        nango: {},
        records: new Map(),
        deleted: new Set(),
        checkpoint: null,
        checkpointsSaved: 0,
        logs: [],
        calls: { batchSave: 0, batchDelete: 0, trackDeletesStart: 0, trackDeletesEnd: 0 },
        metadata: opts.metadata ?? {}
    };
    let seenSinceStart: Set<string> | null = null;

    const request = async (method: string, cfg: Config) => {
        const url = `${opts.baseUrl}${cfg.endpoint}${queryString(cfg.params)}`;
        for (let attempt = 0; ; attempt++) {
            const res = await fetch(url, {
                method,
                headers: {
                    authorization: `Bearer ${opts.accessToken}`,
                    ...(cfg.data === undefined ? {} : { 'content-type': 'application/json' }),
                    ...cfg.headers
                },
                ...(cfg.data === undefined ? {} : { body: JSON.stringify(cfg.data) })
            });
            const text = await res.text();
            const data: unknown = text ? JSON.parse(text) : '';
            if (res.ok) return { status: res.status, data, headers: Object.fromEntries(res.headers) };
            const retryable = res.status >= 500 || res.status === 429 || (cfg.retryOn ?? []).includes(res.status);
            if (retryable && attempt < (cfg.retries ?? 0)) continue;
            throw Object.assign(new Error(`Request failed with status code ${res.status}`), { status: res.status, response: { status: res.status, data } });
        }
    };

    const keyOf = (r: { id: unknown }) => String(r.id);
    stub.nango = {
        connectionId: 'conn-1',
        providerConfigKey: 'test',
        ActionError,
        get: (c: Config) => request('GET', c),
        post: (c: Config) => request('POST', c),
        put: (c: Config) => request('PUT', c),
        patch: (c: Config) => request('PATCH', c),
        delete: (c: Config) => request('DELETE', c),
        getMetadata: async () => stub.metadata,
        updateMetadata: async (m: Record<string, unknown>) => void Object.assign(stub.metadata, m),
        log: async (message: unknown, ...rest: Array<{ level?: string } | undefined>) => {
            stub.logs.push({ message, level: rest.find((r) => r?.level)?.level ?? 'info' });
        },
        getCheckpoint: async () => (stub.checkpoint ? { ...stub.checkpoint } : null),
        saveCheckpoint: async (c: Record<string, string | number | boolean>) => {
            for (const v of Object.values(c)) if (typeof v === 'object') throw new Error('checkpoint values must be flat');
            stub.checkpoint = { ...c };
            stub.checkpointsSaved++;
        },
        clearCheckpoint: async () => void (stub.checkpoint = null),
        batchSave: async (records: Array<{ id: unknown }>) => {
            stub.calls.batchSave++;
            for (const r of records) {
                stub.records.set(keyOf(r), r as Record<string, unknown>);
                stub.deleted.delete(keyOf(r));
                seenSinceStart?.add(keyOf(r));
            }
            return true;
        },
        batchDelete: async (records: Array<{ id: unknown }>) => {
            stub.calls.batchDelete++;
            for (const r of records) {
                if (stub.records.delete(keyOf(r))) stub.deleted.add(keyOf(r));
                seenSinceStart?.add(keyOf(r));
            }
            return true;
        },
        trackDeletesStart: async () => {
            stub.calls.trackDeletesStart++;
            seenSinceStart ??= new Set(); // stored only once, like the runner's checkpoint key
        },
        trackDeletesEnd: async () => {
            stub.calls.trackDeletesEnd++;
            const deletedKeys: string[] = [];
            for (const id of [...stub.records.keys()]) {
                if (!seenSinceStart?.has(id)) {
                    stub.records.delete(id);
                    stub.deleted.add(id);
                    deletedKeys.push(id);
                }
            }
            seenSinceStart = null;
            return { deletedKeys };
        }
    };
    return stub;
}

/** Runs a sync or action default export the way the runner dispatches it (docs/scripts-compatibility.md, "Run kinds"). */
export async function run(script: { exec: (...args: never[]) => Promise<unknown> }, stub: Stub, input?: unknown): Promise<unknown> {
    return (script.exec as (nango: unknown, input?: unknown) => Promise<unknown>)(stub.nango, input);
}
