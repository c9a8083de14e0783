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
    /** Per-request timeout (default 30 s). */
    timeoutMs?: number;
}

export interface ApiIssue {
    path: Array<string | number>;
    message: string;
}

/** A refusal by the broker, with its error code and (for validation errors) the field paths it names. */
export class BrokerError extends Error {
    readonly status: number;
    readonly code: string;
    readonly issues: ApiIssue[];
    /** Where in the desired state the refused value sits, set by apply(). */
    path: StatePath | undefined;

    constructor(status: number, code: string, message: string, issues: ApiIssue[]) {
        super(message);
        this.name = 'BrokerError';
        this.status = status;
        this.code = code;
        this.issues = issues;
    }
}

const errorEnvelope = z.object({
    error: z.object({
        code: z.string(),
        message: z.string().optional(),
        errors: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])).default([]), message: z.string().default('') })).optional()
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
        if (environment !== undefined && this.opts.auth.kind === 'admin') headers['switchboard-environment'] = environment;
        const res = await this.fetchFn(`${this.opts.baseUrl}${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000)
        });
        const text = await res.text();
        let json: unknown;
        try {
            json = text ? JSON.parse(text) : undefined;
        } catch {
            json = undefined;
        }
        if (!res.ok) {
            const env = errorEnvelope.safeParse(json);
            if (env.success) {
                const e = env.data.error;
                const issues = e.errors ?? [];
                const detail = issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
                throw new BrokerError(res.status, e.code, [e.message ?? e.code, detail].filter(Boolean).join(': '), issues);
            }
            throw new BrokerError(res.status, 'http_error', `${method} ${path} answered ${res.status}`, []);
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
