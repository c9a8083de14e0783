// The dashboard's calls: the API's own routes under /dashboard/api, with the session cookie (sent by the browser,
// HttpOnly), the environment header, and on a change the CSRF token received at sign-in. The token lives in
// sessionStorage: this tab only, gone when it closes.
const CSRF_KEY = 'sb-dashboard-csrf';

/** A failed call: the server's error code (or `network_error`) and its message. */
export class DashboardError extends Error {
    override name = 'DashboardError';
    readonly code: string;
    readonly status: number;
    constructor(code: string, message: string, status: number) {
        super(message);
        this.code = code;
        this.status = status;
    }
}

export type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
}

export class DashboardApi {
    environment = '';
    /** Called when the server says the session is gone (expired, signed out elsewhere). */
    onSignedOut: () => void = () => {};

    get csrf(): string | null {
        return sessionStorage.getItem(CSRF_KEY);
    }

    async call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
        const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
        if (this.environment) headers['switchboard-environment'] = this.environment;
        if (method !== 'GET') headers['x-switchboard-csrf'] = this.csrf ?? '';
        if (opts.body !== undefined) headers['content-type'] = 'application/json';
        let res: Response;
        try {
            res = await fetch(withQuery(`/dashboard/api${path}`, opts.query), {
                method,
                headers,
                body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
                credentials: 'same-origin',
                referrerPolicy: 'no-referrer'
            });
        } catch (err) {
            throw new DashboardError('network_error', err instanceof Error ? err.message : String(err), 0);
        }
        const text = await res.text();
        let body: unknown;
        try {
            body = text ? JSON.parse(text) : {};
        } catch {
            body = {};
        }
        if (res.status >= 400) {
            const e = (body as { error?: { code?: string; message?: string } }).error;
            if (res.status === 401 && e?.code === 'dashboard_session_required') this.onSignedOut();
            throw new DashboardError(e?.code ?? 'invalid_response', e?.message ?? `HTTP ${res.status}`, res.status);
        }
        return body as T;
    }

    async signIn(adminKey: string): Promise<void> {
        const r = await this.call<{ data: { csrf_token: string } }>('POST', '/session', { body: { admin_key: adminKey } });
        sessionStorage.setItem(CSRF_KEY, r.data.csrf_token);
    }

    async signOut(): Promise<void> {
        try {
            await this.call('DELETE', '/session');
        } finally {
            sessionStorage.removeItem(CSRF_KEY);
        }
    }

    forget(): void {
        sessionStorage.removeItem(CSRF_KEY);
    }
}

// Shapes the pages read (the server's answers, documented in docs/dashboard.md and the OpenAPI document).
export interface Integration {
    unique_key: string;
    provider: string;
    display_name: string;
    created_at: string;
}
export interface CatalogueEntry {
    name: string;
    display_name: string;
    auth_mode: string;
    categories: string[];
    logo: string;
}
export interface ProviderField {
    type?: string;
    title?: string;
    description?: string;
    optional?: boolean;
    automated?: boolean;
    hidden?: boolean;
}
export interface ProviderDetail {
    name: string;
    display_name: string;
    auth_mode: string;
    docs?: string;
    categories?: string[];
    default_scopes?: string[];
    credentials?: Record<string, ProviderField>;
    connection_config?: Record<string, ProviderField>;
}
export interface ConnectionRow {
    connection_id: string;
    provider_config_key: string;
    provider: string;
    status: string;
    end_user: { id: string; display_name?: string | null; email?: string | null; organization?: { id: string } | null } | null;
    metadata: Record<string, unknown> | null;
    tags: Record<string, string>;
    created_at: string;
    refreshed_at: string | null;
    refresh_failed_at: string | null;
    refresh_error: { type: string; description: string } | null;
}
export interface RunRow {
    id: number;
    sync: string;
    variant: string;
    provider_config_key: string;
    connection_id: string;
    status: string;
    queued_at: string;
    started_at: string | null;
    finished_at: string | null;
    result: Record<string, { added?: number; updated?: number; deleted?: number }>;
    reset: boolean;
    error: unknown;
}
export interface SyncStatusRow {
    name: string;
    variant: string;
    connection_id: string;
    status: string;
    frequency: string | null;
    finishedAt: string | null;
    nextScheduledSyncAt: string | null;
    recordCount: Record<string, number>;
}
export interface Delivery {
    id: number | string;
    event_id: string;
    url: string;
    status: string;
    attempts: number;
    next_attempt_at: string | null;
    last_status: number | null;
    last_error: string | null;
    created_at: string;
    body: unknown;
}
export interface AuditEvent {
    id: number | string;
    provider_config_key: string | null;
    connection_id: string | null;
    kind: string;
    outcome: string;
    detail: unknown;
    created_at: string;
}
export interface ActionRunRow {
    id: number;
    action: string;
    provider_config_key: string;
    connection_id: string | null;
    mode: 'sync' | 'async';
    action_id: string | null;
    status: string;
    attempts: number;
    queued_at: string;
    started_at: string | null;
    finished_at: string | null;
    input_bytes: number | null;
    output_bytes: number | null;
    error: { type: string; message: string | null } | null;
}
export interface RecentError {
    id: number;
    time: string;
    message: string;
    error_type: string | null;
    error_code: string | null;
    route: string | null;
    method: string | null;
}
export interface InboundWebhook {
    id: number;
    provider_config_key: string;
    provider: string;
    event: string | null;
    outcome: string;
    reason: string | null;
    connections: number;
    runs: number;
    forwards: number;
    body_bytes: number;
    received_at: string;
}
