import { Nango } from '@nangohq/node';
import { CliError } from '../errors.ts';
import { describeError } from '../server-client.ts';
import type { HostFetchRequest, HostFetchResponse, HostProxyRequest, HostProxyResponse, ScriptHost, ScriptLogEntry } from '@switchboard/server/runtime/types';

type Checkpoint = Record<string, string | number | boolean>;
type Rec = Record<string, unknown>;

export interface DryrunHostOptions {
    host: string;
    secretKey: string;
    providerConfigKey: string;
    connectionId: string;
    /** When given, metadata reads/writes stay local (the `--metadata` stub). */
    metadata?: Record<string, unknown> | undefined;
    checkpoint?: Checkpoint | undefined;
    out: (line: string) => void;
}

/** What a dryrun collected instead of writing: records per model, deletes per model, the final checkpoint. */
export interface DryrunCollected {
    saved: Map<string, Map<string, Rec>>;
    updated: Map<string, Rec[]>;
    deleted: Map<string, Rec[]>;
    checkpoint: Checkpoint | null;
}

/**
 * Looks the connection up before anything runs, as the official dryrun does: an unknown id (or key) fails with
 * its own code instead of surfacing as the script's first failed request, or not at all for a script without HTTP.
 */
export async function requireConnection(opts: Pick<DryrunHostOptions, 'host' | 'secretKey' | 'providerConfigKey' | 'connectionId'>): Promise<void> {
    const nango = new Nango({ host: opts.host, secretKey: opts.secretKey });
    try {
        await nango.getConnection(opts.providerConfigKey, opts.connectionId);
    } catch (err) {
        const res = (err as { response?: { status: number; data: unknown } }).response;
        if (!res) {
            const reason = err instanceof Error ? err.message : String(err);
            throw new CliError('SERVER_UNREACHABLE', `GET ${opts.host}/connection/${opts.connectionId} failed: ${reason}`, { cause: err });
        }
        const code = (res.data as { error?: { code?: unknown } } | null)?.error?.code;
        if (res.status === 404 || code === 'unknown_connection') {
            throw new CliError('CONNECTION_NOT_FOUND', `no connection "${opts.connectionId}" for integration "${opts.providerConfigKey}" on ${opts.host}`);
        }
        throw new CliError('SERVER_ERROR', `GET /connection/${opts.connectionId} answered ${res.status}: ${describeError(res.data)}`);
    }
}

/**
 * A ScriptHost for `switchboard dryrun`: HTTP goes through the server's /proxy and connection/metadata come from the
 * server (official @nangohq/node SDK), but records are only collected and checkpoints live in memory (§3.3).
 */
export function createDryrunHost(opts: DryrunHostOptions): { host: ScriptHost; collected: DryrunCollected } {
    const nango = new Nango({ host: opts.host, secretKey: opts.secretKey });
    const collected: DryrunCollected = { saved: new Map(), updated: new Map(), deleted: new Map(), checkpoint: opts.checkpoint ?? null };
    let stubMetadata = opts.metadata;
    const key = (o: { providerConfigKey?: string | undefined }): string => o.providerConfigKey ?? opts.providerConfigKey;
    const conn = (o: { connectionId?: string | undefined }): string => o.connectionId ?? opts.connectionId;
    const host: ScriptHost = {
        async proxy(req: HostProxyRequest): Promise<HostProxyResponse> {
            const res = await nango
                .proxy({
                    method: req.method.toUpperCase() as 'GET',
                    endpoint: req.endpoint,
                    providerConfigKey: key(req),
                    connectionId: conn(req),
                    ...(req.headers ? { headers: req.headers } : {}),
                    ...(req.params !== undefined ? { params: req.params as Record<string, string> } : {}),
                    ...(req.data !== undefined ? { data: req.data } : {}),
                    ...(req.retries !== undefined ? { retries: req.retries } : {}),
                    ...(req.retryOn ? { retryOn: req.retryOn } : {}),
                    ...(req.baseUrlOverride ? { baseUrlOverride: req.baseUrlOverride } : {}),
                    ...(req.responseType ? { responseType: req.responseType } : {}),
                    ...(req.decompress !== undefined ? { decompress: req.decompress } : {})
                })
                .catch((err: unknown) => {
                    // The SDK throws on non-2xx, but a ScriptHost answers with the response: the runner's SDK turns a
                    // status >= 400 into the axios error with `response` that scripts inspect (err.response.status),
                    // and keeps throwing for "no answer at all" (a network error, without `response`).
                    const r = (err as { response?: { status: number; headers: Record<string, unknown>; data: unknown } }).response;
                    if (!r) throw err;
                    return r;
                });
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
            return { status: res.status, headers, data: res.data };
        },
        async uncontrolledFetch(req: HostFetchRequest): Promise<HostFetchResponse> {
            // From the developer's machine, as the official dryrun does: a plain fetch without the connection's
            // credentials (fetch follows redirects and drops credentials on a change of origin itself).
            const res = await fetch(req.url, {
                method: req.method ?? 'GET',
                ...(req.headers ? { headers: req.headers } : {}),
                ...(req.body ? { body: req.body } : {})
            });
            const headers: Array<[string, string]> = [];
            res.headers.forEach((v, k) => headers.push([k, v]));
            return { status: res.status, statusText: res.statusText, url: res.url, headers, body: new Uint8Array(await res.arrayBuffer()) };
        },
        async getConnection(o) {
            const c = await nango.getConnection(key(o), conn(o), o.forceRefresh, o.refreshToken);
            return stubMetadata ? { ...c, metadata: stubMetadata } : c;
        },
        async setMetadata(metadata) {
            if (stubMetadata) stubMetadata = { ...metadata };
            else await nango.setMetadata(opts.providerConfigKey, opts.connectionId, metadata);
        },
        async updateMetadata(metadata) {
            if (stubMetadata) stubMetadata = { ...stubMetadata, ...metadata };
            else await nango.updateMetadata(opts.providerConfigKey, opts.connectionId, metadata);
        },
        getIntegration: (include) => nango.getIntegration({ uniqueKey: opts.providerConfigKey }, include ? { include: include as ['webhook'] } : {}),
        async getEnvironmentVariables() {
            return nango.getEnvironmentVariables();
        },
        async log(entry: ScriptLogEntry) {
            opts.out(`[${entry.level}] ${entry.message}${entry.meta === undefined ? '' : ` ${JSON.stringify(entry.meta)}`}`);
        },
        async batchSave(model, records) {
            // The official dryrun keeps the last occurrence of an id (§3.3).
            const byId = collected.saved.get(model) ?? new Map<string, Rec>();
            for (const r of records) byId.set(String(r['id']), r);
            collected.saved.set(model, byId);
        },
        async batchUpdate(model, records) {
            collected.updated.set(model, [...(collected.updated.get(model) ?? []), ...records]);
        },
        async batchDelete(model, records) {
            collected.deleted.set(model, [...(collected.deleted.get(model) ?? []), ...records]);
        },
        async getRecordsByIds() {
            return [];
        },
        async listRecords() {
            return { records: [], next_cursor: null };
        },
        async trackDeletesStart() {},
        async trackDeletesEnd() {
            return { deletedKeys: [] };
        },
        async getCheckpoint() {
            return collected.checkpoint;
        },
        async saveCheckpoint(checkpoint) {
            collected.checkpoint = { ...checkpoint };
        },
        async clearCheckpoint() {
            collected.checkpoint = null;
        }
    };
    return { host, collected };
}
