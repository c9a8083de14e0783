// Calls to the Switchboard API with the connect session token (Bearer), responses checked with zod before use.
import { z } from 'zod';

const fieldSchema = z.object({
    type: z.enum(['string', 'number', 'boolean']).catch('string'),
    title: z.string().optional(),
    description: z.string().optional(),
    example: z.string().optional(),
    pattern: z.string().optional(),
    format: z.string().optional(),
    optional: z.boolean().optional(),
    default_value: z.string().optional(),
    automated: z.boolean().optional(),
    hidden: z.boolean().optional(),
    secret: z.boolean().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
    order: z.number().optional(),
    enum: z.array(z.string()).optional()
});
export type ProviderField = z.infer<typeof fieldSchema>;

const sessionSchema = z.object({
    endUser: z.object({ id: z.string(), display_name: z.string().nullable().optional(), email: z.string().nullable().optional() }).nullable().optional(),
    connectUISettings: z
        .object({
            theme: z
                .object({ light: z.object({ primary: z.string() }).partial(), dark: z.object({ primary: z.string() }).partial() })
                .partial()
                .optional(),
            defaultTheme: z.enum(['light', 'dark', 'system']).optional()
        })
        .optional(),
    allowed_integrations: z.array(z.string()).optional(),
    integrations_config_defaults: z.record(z.string(), z.object({ connection_config: z.record(z.string(), z.unknown()).optional() }).passthrough()).optional(),
    isReconnecting: z.boolean().optional(),
    websocketsPath: z.string().optional()
});
export type Session = z.infer<typeof sessionSchema>;

const integrationSchema = z.object({ unique_key: z.string(), provider: z.string(), display_name: z.string(), logo: z.string().optional() });
export type Integration = z.infer<typeof integrationSchema>;

const providerSchema = z.object({
    name: z.string(),
    display_name: z.string(),
    auth_mode: z.string(),
    docs: z.string().optional(),
    docs_connect: z.string().optional(),
    logo_url: z.string().optional(),
    credentials: z.record(z.string(), fieldSchema).optional(),
    connection_config: z.record(z.string(), fieldSchema).optional()
});
export type Provider = z.infer<typeof providerSchema>;

const envelope = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

/** A failed call: the server's error code (or `network_error` / `invalid_response`) and its message. */
export class ApiFailure extends Error {
    override name = 'ApiFailure';
    readonly code: string;
    readonly status: number;
    constructor(code: string, message: string, status: number) {
        super(message);
        this.code = code;
        this.status = status;
    }
}

export class Api {
    readonly #base: string;
    readonly #token: string;
    readonly #lang: string;

    constructor(apiURL: string, token: string, lang: string) {
        this.#base = apiURL.replace(/\/+$/, '');
        this.#token = token;
        this.#lang = lang;
    }

    async #get<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
        let res: Response;
        try {
            res = await fetch(`${this.#base}${path}`, {
                headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', 'accept-language': this.#lang },
                referrerPolicy: 'no-referrer',
                credentials: 'omit'
            });
        } catch (err) {
            throw new ApiFailure('network_error', err instanceof Error ? err.message : String(err), 0);
        }
        const body: unknown = await res.json().catch(() => undefined);
        if (res.status !== 200) {
            const e = envelope.safeParse(body);
            throw e.success
                ? new ApiFailure(e.data.error.code, e.data.error.message ?? e.data.error.code, res.status)
                : new ApiFailure('invalid_response', `HTTP ${res.status}`, res.status);
        }
        const data: unknown = typeof body === 'object' && body !== null ? (body as { data?: unknown }).data : undefined;
        const parsed = schema.safeParse(data);
        if (!parsed.success) throw new ApiFailure('invalid_response', `Unexpected response from ${path}`, res.status);
        return parsed.data as z.output<S>;
    }

    session(): Promise<Session> {
        return this.#get('/connect/session', sessionSchema);
    }

    integrations(): Promise<Integration[]> {
        return this.#get('/integrations', z.array(integrationSchema));
    }

    provider(name: string): Promise<Provider> {
        return this.#get(`/providers/${encodeURIComponent(name)}`, providerSchema);
    }
}
