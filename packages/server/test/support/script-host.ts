/**
 * A ScriptHost for runtime tests: records every call, keeps records/checkpoints in memory, and sends proxy
 * calls with fetch to a loopback server standing in for the provider API.
 */
import type { Egress } from '../../src/egress/egress.ts';
import { uncontrolledFetch } from '../../src/functions/uncontrolled-fetch.ts';
import type { HostProxyRequest, HostProxyResponse, ScriptHost, ScriptLogEntry, ScriptProps } from '../../src/functions/runtime/types.ts';

export interface RecordingHost {
    host: ScriptHost;
    calls: Array<{ method: string; args: unknown[] }>;
    logs: ScriptLogEntry[];
    checkpoint: Record<string, string | number | boolean> | null;
}

/** `egress`: what `nango.uncontrolledFetch` goes through (the server's own implementation); without it the call fails. */
export function recordingHost(baseUrl: string, opts: { connection?: unknown; egress?: Egress } = {}): RecordingHost {
    const state: RecordingHost = { host: undefined as unknown as ScriptHost, calls: [], logs: [], checkpoint: null };
    const stored = new Map<string, Record<string, unknown>>();
    const rec = (method: string, ...args: unknown[]) => state.calls.push({ method, args });
    state.host = {
        async proxy(req) {
            rec('proxy', req);
            return fetchProxy(baseUrl, req);
        },
        async uncontrolledFetch(req) {
            rec('uncontrolledFetch', req);
            if (!opts.egress) throw new Error('this test host has no egress for uncontrolledFetch');
            return uncontrolledFetch(opts.egress, req);
        },
        async getConnection(o) {
            rec('getConnection', o);
            return opts.connection ?? { connection_id: o.connectionId, credentials: { type: 'OAUTH2', access_token: 'tok' }, metadata: { a: 1 } };
        },
        async setMetadata(m) {
            rec('setMetadata', m);
        },
        async updateMetadata(m) {
            rec('updateMetadata', m);
        },
        async getIntegration(include) {
            rec('getIntegration', include);
            return { unique_key: 'github', webhook_url: 'https://example.test/hook' };
        },
        async getEnvironmentVariables() {
            rec('getEnvironmentVariables');
            return [{ name: 'A', value: 'b' }];
        },
        async log(entry) {
            rec('log', entry);
            state.logs.push(entry);
        },
        async batchSave(model, records) {
            rec('batchSave', model, records);
            for (const r of records) stored.set(String(r['id']), r);
        },
        async batchUpdate(model, records) {
            rec('batchUpdate', model, records);
        },
        async batchDelete(model, records) {
            rec('batchDelete', model, records);
        },
        async getRecordsByIds(model, ids) {
            rec('getRecordsByIds', model, ids);
            return ids.flatMap((id) => (stored.has(id) ? [stored.get(id) as Record<string, unknown>] : []));
        },
        async listRecords(model, cursor) {
            rec('listRecords', model, cursor);
            const all = [...stored.values()];
            const start = cursor ? Number(cursor) : 0;
            const next = start + 2 < all.length ? String(start + 2) : null;
            return { records: all.slice(start, start + 2), next_cursor: next };
        },
        async trackDeletesStart(model) {
            rec('trackDeletesStart', model);
        },
        async trackDeletesEnd(model) {
            rec('trackDeletesEnd', model);
            return { deletedKeys: ['gone'] };
        },
        async getCheckpoint() {
            rec('getCheckpoint');
            return state.checkpoint;
        },
        async saveCheckpoint(c) {
            rec('saveCheckpoint', c);
            state.checkpoint = c;
        },
        async clearCheckpoint() {
            rec('clearCheckpoint');
            state.checkpoint = null;
        }
    };
    return state;
}

/** The proxy of a test host: base URL + endpoint + params, JSON bodies, JSON responses parsed. */
export async function fetchProxy(baseUrl: string, req: HostProxyRequest): Promise<HostProxyResponse> {
    const url = /^https?:\/\//.test(req.endpoint) ? new URL(req.endpoint) : new URL(req.endpoint, req.baseUrlOverride ?? baseUrl);
    if (typeof req.params === 'string') for (const [k, v] of new URLSearchParams(req.params)) url.searchParams.set(k, v);
    else for (const [k, v] of Object.entries(req.params ?? {})) url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    let body: string | Uint8Array | undefined;
    if (req.data !== undefined) {
        if (typeof req.data === 'string' || req.data instanceof Uint8Array) body = req.data;
        else {
            body = JSON.stringify(req.data);
            headers['content-type'] ??= 'application/json';
        }
    }
    const res = await fetch(url, { method: req.method, headers, body });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k] = v));
    // Binary response types arrive as bytes, as the server's host sends them.
    if (req.responseType === 'arraybuffer' || req.responseType === 'blob' || req.responseType === 'stream')
        return { status: res.status, headers: out, data: new Uint8Array(await res.arrayBuffer()) };
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, headers: out, data: type.includes('json') && text ? (JSON.parse(text) as unknown) : text };
}

export function scriptProps(kind: ScriptProps['scriptType'], extra: Partial<ScriptProps> = {}): ScriptProps {
    return {
        scriptType: kind,
        connectionId: 'conn-1',
        providerConfigKey: 'github',
        provider: 'github',
        environmentId: 1,
        environmentName: 'dev',
        nangoConnectionId: 7,
        activityLogId: 'act-1',
        scriptName: 'test-script',
        ...(kind === 'sync' || kind === 'webhook' ? { syncName: 'test-script', syncId: 'sync-1', syncJobId: 3, models: ['Contact'] } : {}),
        ...extra
    };
}
