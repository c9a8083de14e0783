import type { ServerResponse } from 'node:http';
import { startUpstream, type RecordedRequest } from './upstream.ts';
import type { TestServer } from './server.ts';

export interface Receiver {
    url: string;
    requests: RecordedRequest[];
    /** Answers the next requests with these statuses (then 200); a function decides per request. */
    respond(plan: Array<number | { status: number; headers?: Record<string, string> }> | ((req: RecordedRequest) => number)): void;
    close(): Promise<void>;
}

/** A loopback HTTP server standing in for the app's webhook endpoint. */
export async function startReceiver(): Promise<Receiver> {
    let plan: Array<number | { status: number; headers?: Record<string, string> }> = [];
    let fn: ((req: RecordedRequest) => number) | undefined;
    const up = await startUpstream((req, res: ServerResponse) => {
        const step = fn ? fn(req) : (plan.shift() ?? 200);
        const { status, headers } = typeof step === 'number' ? { status: step, headers: {} } : { status: step.status, headers: step.headers ?? {} };
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(status < 300 ? 'ok' : `no (${status})`);
    });
    return {
        url: up.url,
        requests: up.requests,
        respond(p) {
            if (typeof p === 'function') {
                fn = p;
                plan = [];
            } else {
                fn = undefined;
                plan = [...p];
            }
        },
        close: up.close
    };
}

/** Polls until `check` returns a value (not undefined/false); fails after a generous deadline with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 30_000): Promise<T> {
    const end = Date.now() + deadlineMs;
    for (;;) {
        const v = await check();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

// Test JSON: assertions index it freely (`any` is allowed in tests, biome.jsonc).
export type Json = any;

/** A JSON call with the server's secret key. */
export async function api(
    server: TestServer,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${server.secretKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A JSON call with the server's admin key (operator-only routes: /admin/keys/rotate, /admin/environments*). */
export async function adminApi(
    server: TestServer,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
): Promise<{ status: number; body: Json }> {
    return api(server, method, path, body, { authorization: `Bearer ${server.adminKey}`, ...headers });
}

export interface DeliveryView {
    id: number;
    event_id: string;
    url: string;
    status: 'pending' | 'delivered' | 'failed' | 'dead';
    attempts: number;
    next_attempt_at: string | null;
    last_status: number | null;
    last_error: string | null;
    updated_at: string;
    body: string;
}

export async function deliveries(server: TestServer, query = ''): Promise<DeliveryView[]> {
    const res = await api(server, 'GET', `/admin/webhooks/deliveries?limit=500${query}`);
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    return res.body.data;
}

/** The requests a receiver got whose body (parsed) matches `pred`. */
export function received(r: Receiver, pred: (body: Json) => boolean): RecordedRequest[] {
    return r.requests.filter((q) => {
        try {
            return pred(JSON.parse(q.body));
        } catch {
            return false;
        }
    });
}
