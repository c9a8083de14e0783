import { z } from 'zod';
import type { StatePath } from './model.ts';

/**
 * A client of Switchboard's HTTP API for what the desired state manages. It authenticates either with an
 * environment's secret key (one environment: what an app or the operator's `nango_token` holds) or with the
 * admin key plus the `Switchboard-Environment` header (any environment; creating environments).
 */
export type BrokerAuth = { kind: 'secret'; key: string } | { kind: 'admin'; key: string };

export interface BrokerClientOptions {
    /** The broker's base URL (its main port: the admin routes are not served on SWITCHBOARD_PUBLIC_PORT). */
    baseUrl: string;
    auth: BrokerAuth;
    /** Defaults to the global fetch; the server passes one backed by Fastify's inject() to apply in-process. */
    fetch?: typeof fetch;
    /** Per-request timeout (default 30 s; 0 for none). */
    timeoutMs?: number;
    /** Sent as User-Agent (the CLI names itself). */
    userAgent?: string;
}

export interface ApiIssue {
    path: Array<string | number>;
    message: string;
    /** The issue's code: zod's (`invalid_type`…) or the broker's (`duplicate_provider_config` for a unique key taken). */
    code: string | undefined;
}

/** A refusal by the broker, with its error code and (for validation errors) the field paths it names. */
export class BrokerError extends Error {
    readonly status: number;
    readonly code: string;
    readonly issues: ApiIssue[];
    /** The request refused, as `METHOD /path` (the path without the base URL). */
    readonly request: string;
    /** The answer's body as parsed (the error envelope, or its text when not JSON), for callers that print it whole. */
    readonly body: unknown;
    /** Where in the desired state the refused value sits, set by apply(). */
    path: StatePath | undefined;

    constructor(status: number, code: string, message: string, issues: ApiIssue[], details: { request?: string; body?: unknown } = {}) {
        super(message);
        this.name = 'BrokerError';
        this.status = status;
        this.code = code;
        this.issues = issues;
        this.request = details.request ?? '';
        this.body = details.body;
    }

    /** True when the broker refused a create because another integration already has the unique key. */
    get uniqueKeyTaken(): boolean {
        return this.code === 'invalid_body' && this.issues.some((i) => i.code === DUPLICATE_KEY);
    }
}

/** The issue code the broker gives a unique key another integration has (docs/errors.md). */
const DUPLICATE_KEY = 'duplicate_provider_config';

const errorEnvelope = z.object({
    error: z.object({
        code: z.string(),
        message: z.string().optional(),
        errors: z
            .array(
                z.object({
                    path: z.array(z.union([z.string(), z.number()])).default([]),
                    message: z.string().default(''),
                    code: z.string().optional()
                })
            )
            .optional()
    })
});

const nullableString = z.string().nullable().optional();
/** GET /integrations/:key?include=credentials&include=config, as far as the desired state reads it. */
export const apiIntegration = z.object({
    unique_key: z.string(),
    provider: z.string(),
    display_name: z.string(),
    forward_webhooks: z.boolean().optional(),
    integration_config: z.record(z.string(), z.string()).optional(),
    custom: z.record(z.string(), z.string()).nullable().optional(),
    credentials: z
        .object({
            type: z.string(),
            client_id: nullableString,
            client_secret: nullableString,
            scopes: nullableString,
            webhook_secret: nullableString,
            app_id: nullableString,
            app_link: nullableString,
            private_key: nullableString
        })
        .nullable()
        .optional()
});
export type ApiIntegration = z.output<typeof apiIntegration>;

const webhookSettings = z.object({ url: z.string().nullable(), secondary_url: z.string().nullable(), secret: z.string().nullable() });
export type ApiWebhookSettings = z.output<typeof webhookSettings>;

/** The broker's HTTP API; `environment(name)` scopes the per-environment calls. */
export class BrokerClient {
    readonly auth: BrokerAuth['kind'];
    private readonly opts: BrokerClientOptions;
    private readonly fetchFn: typeof fetch;

    constructor(opts: BrokerClientOptions) {
        this.opts = { ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, '') };
        this.auth = opts.auth.kind;
        this.fetchFn = opts.fetch ?? fetch;
    }

    /** Environment names (admin key only). */
    async listEnvironments(): Promise<string[]> {
        const res = await this.request('GET', '/admin/environments', undefined);
        return z
            .object({ data: z.array(z.object({ name: z.string() })) })
            .parse(res)
            .data.map((e) => e.name);
    }

    /** Creates an environment (admin key only); its new secret key is dropped: apply does not need it. */
    async createEnvironment(name: string): Promise<void> {
        await this.request('POST', '/admin/environments', undefined, { name });
    }

    /**
     * The name of the environment the key acts on: a secret key's own (the broker says which), or with the admin
     * key the one `environment` names (which must exist).
     */
    async keyEnvironment(environment?: string): Promise<string> {
        const res = await this.request('GET', '/environment', environment);
        return z.object({ data: z.object({ name: z.string() }) }).parse(res).data.name;
    }

    /**
     * Per-environment calls. With a secret key the name is only a label: the key decides the environment, and
     * the caller must not name another one (the CLI refuses a file naming several environments with a secret key).
     */
    environment(name: string): EnvironmentClient {
        return new EnvironmentClient(this, name);
    }

    /** One JSON request; a non-2xx answer throws a BrokerError. `environment` sets the admin key's header. */
    async request(method: string, path: string, environment: string | undefined, body?: unknown): Promise<unknown> {
        const headers: Record<string, string> = { authorization: `Bearer ${this.opts.auth.key}`, accept: 'application/json' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
        if (environment !== undefined && this.opts.auth.kind === 'admin') headers['switchboard-environment'] = environment;
        const timeoutMs = this.opts.timeoutMs ?? 30_000;
        const res = await this.fetchFn(`${this.opts.baseUrl}${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {})
        });
        const text = await res.text();
        let json: unknown;
        let parsed = true;
        try {
            json = text ? JSON.parse(text) : undefined;
        } catch {
            json = undefined;
            parsed = false;
        }
        if (!res.ok) {
            const request = `${method} ${path.split('?')[0]}`;
            const answer = parsed ? json : text;
            const env = errorEnvelope.safeParse(json);
            if (env.success) {
                const e = env.data.error;
                const issues = (e.errors ?? []).map((i) => ({ path: i.path, message: i.message, code: i.code }));
                const detail = issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
                throw new BrokerError(res.status, e.code, [e.message ?? e.code, detail].filter(Boolean).join(': '), issues, { request, body: answer });
            }
            throw new BrokerError(res.status, 'http_error', `${method} ${path} answered ${res.status}`, [], { request, body: answer });
        }
        return json;
    }
}

/** The calls the desired state makes on one environment. */
export class EnvironmentClient {
    readonly name: string;
    private readonly broker: BrokerClient;

    constructor(broker: BrokerClient, name: string) {
        this.broker = broker;
        this.name = name;
    }

    private call(method: string, path: string, body?: unknown): Promise<unknown> {
        return this.broker.request(method, path, this.name, body);
    }

    async listIntegrationKeys(): Promise<string[]> {
        const res = await this.call('GET', '/integrations');
        return z
            .object({ data: z.array(z.object({ unique_key: z.string() })) })
            .parse(res)
            .data.map((i) => i.unique_key);
    }

    /** The integration with its credentials and config, or undefined when it does not exist. */
    async getIntegration(uniqueKey: string): Promise<ApiIntegration | undefined> {
        try {
            const res = await this.call('GET', `/integrations/${encodeURIComponent(uniqueKey)}?include=credentials&include=config`);
            return z.object({ data: apiIntegration }).parse(res).data;
        } catch (err) {
            if (err instanceof BrokerError && err.status === 404) return undefined;
            throw err;
        }
    }

    async createIntegration(body: Record<string, unknown>): Promise<void> {
        await this.call('POST', '/integrations', body);
    }

    /**
     * Replaces the integration by a new one under the same key (another provider), in one step on the broker: its
     * connections go, and a refused body changes nothing.
     */
    async replaceIntegration(uniqueKey: string, body: Record<string, unknown>): Promise<void> {
        await this.call('POST', `/admin/integrations/${encodeURIComponent(uniqueKey)}/replace`, body);
    }

    async updateIntegration(uniqueKey: string, body: Record<string, unknown>): Promise<void> {
        await this.call('PATCH', `/integrations/${encodeURIComponent(uniqueKey)}`, body);
    }

    /** Deletes the integration; true when it existed. */
    async deleteIntegration(uniqueKey: string): Promise<boolean> {
        try {
            await this.call('DELETE', `/integrations/${encodeURIComponent(uniqueKey)}`);
            return true;
        } catch (err) {
            if (err instanceof BrokerError && err.status === 404) return false;
            throw err;
        }
    }

    async getVariables(): Promise<Record<string, string>> {
        const res = await this.call('GET', '/environment-variables');
        return Object.fromEntries(
            z
                .array(z.object({ name: z.string(), value: z.string() }))
                .parse(res)
                .map((v) => [v.name, v.value])
        );
    }

    async putVariables(variables: Record<string, string>): Promise<void> {
        await this.call('PUT', '/admin/environment-variables', { variables: Object.entries(variables).map(([name, value]) => ({ name, value })) });
    }

    async getWebhookSettings(): Promise<ApiWebhookSettings> {
        return z.object({ data: webhookSettings }).parse(await this.call('GET', '/admin/webhooks/settings')).data;
    }

    async patchWebhookSettings(body: { url?: string | null; secondary_url?: string | null; secret?: string }): Promise<void> {
        await this.call('PATCH', '/admin/webhooks/settings', body);
    }
}
