import { ConfigError } from '../errors.ts';
import { z } from 'zod';
import { join, resolve } from 'node:path';
import { isValidSecret } from './webhook-secret.ts';
import { parseFrameAncestors, FrameAncestorsError } from './frame-ancestors.ts';
import { ConfigFileError, loadConfigFile, type LoadedConfig } from '@switchboard/apply';
import { byEnvironmentSpec, limitSpec, type RateLimitConfig } from '../limits/policy.ts';

/** Thrown at boot when the environment is invalid; the message names the variable. */
export { ConfigError };

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3003),
    HOST: z.string().min(1).default('0.0.0.0'),
    SWITCHBOARD_SECRET_KEY: z.string().min(8).max(255).optional(),
    SWITCHBOARD_ADMIN_KEY: z.string().min(16, 'at least 16 characters').max(255).optional(),
    SWITCHBOARD_ENCRYPTION_KEY: z.string().min(1).optional(),
    SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS: z.string().optional(),
    SWITCHBOARD_DATA_DIR: z.string().min(1).default('./.switchboard'),
    SWITCHBOARD_DATABASE_URL: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    /** The embedded database used when SWITCHBOARD_DATABASE_URL is unset; unset: the one the data folder holds, else postgres. */
    SWITCHBOARD_EMBEDDED: z.enum(['postgres', 'pglite']).optional(),
    SWITCHBOARD_SERVER_URL: z.url({ protocol: /^https?$/ }).optional(),
    SWITCHBOARD_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
    SWITCHBOARD_PUBLIC_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    SWITCHBOARD_PUBLIC_HOST: z.string().min(1).optional(),
    SWITCHBOARD_PROVIDERS: z.string().optional(),
    /** A config file (docs/config-file.md) applied at start, as `switchboard apply -f` would. */
    SWITCHBOARD_CONFIG: z.string().optional(),
    SWITCHBOARD_ALLOW_PRIVATE_EGRESS: bool.default(false),
    SWITCHBOARD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SWITCHBOARD_BODY_LIMIT_BYTES: z.coerce
        .number()
        .int()
        .positive()
        .default(75 * 1024 * 1024),
    SWITCHBOARD_PUBLIC_BODY_LIMIT_BYTES: z.coerce
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
    SWITCHBOARD_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
    SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: z.coerce.number().int().min(0).default(60),
    SWITCHBOARD_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    SWITCHBOARD_WEBHOOK_SECRET: z.string().refine(isValidSecret, 'must be whsec_ followed by the base64 of 24 to 64 key bytes').optional(),
    SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    SWITCHBOARD_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(15_000),
    SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS: z.string().optional(),
    SWITCHBOARD_SYNC_TIMEOUT_MS: z.coerce
        .number()
        .int()
        .min(1000)
        .default(24 * 3_600_000),
    SWITCHBOARD_ACTION_TIMEOUT_MS: z.coerce
        .number()
        .int()
        .min(1000)
        .default(15 * 60_000),
    SWITCHBOARD_ON_EVENT_TIMEOUT_MS: z.coerce
        .number()
        .int()
        .min(1000)
        .default(5 * 60_000),
    // Nango bounds a webhook run at 1 h from start to end (docs/scripts-compatibility.md, "Limits and timeouts").
    SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(3_600_000),
    SWITCHBOARD_RUNNER_PROCESSES: z.coerce.number().int().min(1).max(64).default(2),
    SWITCHBOARD_RUNNER_MEMORY_MB: z.coerce.number().int().min(64).max(16_384).default(512),
    SWITCHBOARD_SCHEDULER_TICK_MS: z.coerce.number().int().min(0).default(1000),
    SWITCHBOARD_SYNC_LOST_AFTER_MS: z.coerce.number().int().min(1000).default(60_000),
    SWITCHBOARD_SCRIPT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'off']).default('warn'),
    /** OTLP/HTTP endpoint of a trace collector (e.g. http://collector:4318/v1/traces); unset: no tracing. */
    SWITCHBOARD_OTLP_TRACES_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** How long a dashboard sign-in lasts: seconds, or a number with s, m, h or d (docs/dashboard.md). */
    SWITCHBOARD_DASHBOARD_SESSION_TTL: z
        .string()
        .regex(/^\d+[smhd]?$/, 'must be a number of seconds, or a number followed by s, m, h or d (e.g. 12h)')
        .transform((v) => Number.parseInt(v, 10) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[v.at(-1) ?? 's'] ?? 1) * 1000)
        .refine((ms) => ms >= 1000 && ms <= 30 * 86_400_000, 'must be between 1 second and 30 days')
        .default(12 * 3_600_000),
    // Limits on our own API (docs/operations.md, "Rate limits"): off unless set.
    SWITCHBOARD_RATE_LIMIT_PER_KEY: limitSpec.optional(),
    SWITCHBOARD_RATE_LIMIT_PER_CONNECTION: limitSpec.optional(),
    SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: z
        .string()
        .transform((v, ctx) => {
            try {
                return JSON.parse(v) as unknown;
            } catch {
                ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
                return z.NEVER;
            }
        })
        .pipe(byEnvironmentSpec)
        .optional()
});

export interface Config {
    port: number;
    host: string;
    secretKey: string | undefined;
    /** The operator credential for /admin/* and environment management; generated on first start when unset. */
    adminKey: string | undefined;
    encryptionKey: string | undefined;
    previousEncryptionKeys: string[];
    dataDir: string;
    /** Set when the vault key lives in the data folder (embedded mode without SWITCHBOARD_ENCRYPTION_KEY). */
    keyFile: string | undefined;
    databaseUrl: string | undefined;
    embedded: 'postgres' | 'pglite' | undefined;
    /** Public base URL without a trailing slash ('' until start() knows the port when PORT=0). */
    serverUrl: string;
    /** OAuth callback advertised by environments without their own; undefined = serverUrl + /oauth/callback. */
    callbackUrl: string | undefined;
    /** Second listener serving only the routes browsers and providers reach (docs/operations.md); undefined = none. */
    publicListener: { port: number; host: string } | undefined;
    providerFiles: string[];
    allowPrivateEgress: boolean;
    logLevel: string;
    bodyLimit: number;
    /** Body limit of the routes anyone can call (no secret key): Connect session, OAuth, inbound webhooks. */
    publicBodyLimit: number;
    /** Time a client has to send a whole request, headers and body; a trickling body is cut off after it. */
    requestTimeoutMs: number;
    /** 0 disables the background refresher. */
    backgroundRefreshSeconds: number;
    functions: {
        syncTimeoutMs: number;
        actionTimeoutMs: number;
        /** Limit of one on-event script run, waiting for a free runner included (Nango: 5 min). */
        onEventTimeoutMs: number;
        webhookRunTimeoutMs: number;
        /** Runner child processes: how many scripts run at once on this instance. */
        runnerProcesses: number;
        /** Heap and data-segment cap of each runner process. */
        runnerMemoryMb: number;
        /** 0 turns the scheduler's own passes off (tests drive it). */
        schedulerTickMs: number;
        /** A run whose heartbeat is older than this is given up as lost (its instance died). */
        lostAfterMs: number;
        scriptLogLevel: string;
        /** Jobs this instance takes from the queue at once (defaults to the runner process count). */
        workerConcurrency: number;
    };
    webhooks: {
        /** Seeds/overrides the default environment's primary webhook URL at boot. */
        url: string | undefined;
        /** Seeds/overrides the default environment's signing secret at boot; generated when never set. */
        secret: string | undefined;
        maxAttempts: number;
        /** First retry delay; each later one doubles (capped at an hour), with jitter. */
        backoffBaseMs: number;
    };
    /** Origins allowed to frame the Connect UI; undefined = the default (loopback in dev, none otherwise). */
    connectUiFrameAncestors: string[] | undefined;
    /** SWITCHBOARD_CONFIG, read and validated (its `{ fromEnv }` values resolved) at boot; applied by start(). */
    desiredState: LoadedConfig | undefined;
    /** Limits on the API's own callers, per secret key and per connection; shared by every instance through the database. */
    rateLimits: RateLimitConfig;
    /** Where traces are exported (OTLP/HTTP); undefined: tracing is off. */
    otlpTracesUrl: string | undefined;
    /** How long a dashboard sign-in session lasts. */
    dashboardSessionTtlMs: number;
}

function list(value: string | undefined): string[] {
    return (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

/** Parses the process environment once, at boot. Nothing else reads process.env. */
export function loadConfig(env: Record<string, string | undefined>): Config {
    const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
    const parsed = envSchema.safeParse(present);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const name = String(issue?.path[0] ?? 'environment');
        throw new ConfigError(`${name}: ${issue?.message ?? 'invalid value'}`);
    }
    const e = parsed.data;
    let connectUiFrameAncestors: string[] | undefined;
    try {
        connectUiFrameAncestors = parseFrameAncestors(e.SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS);
    } catch (err) {
        if (err instanceof FrameAncestorsError) throw new ConfigError(`SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS: ${err.message}`);
        throw err;
    }
    if (e.SWITCHBOARD_DATABASE_URL && !e.SWITCHBOARD_ENCRYPTION_KEY) {
        throw new ConfigError('SWITCHBOARD_ENCRYPTION_KEY: required when SWITCHBOARD_DATABASE_URL is set (the key must not live beside a shared database)');
    }
    // With PORT=0 the real port is known only after listening; start() fills the default in then.
    // Browsers reach the public listener when there is one.
    const browserPort = e.SWITCHBOARD_PUBLIC_PORT ?? e.PORT;
    const serverUrl = (e.SWITCHBOARD_SERVER_URL ?? (browserPort === 0 ? '' : `http://localhost:${browserPort}`)).replace(/\/+$/, '');
    if (e.SWITCHBOARD_ADMIN_KEY !== undefined && e.SWITCHBOARD_ADMIN_KEY === e.SWITCHBOARD_SECRET_KEY)
        throw new ConfigError('SWITCHBOARD_ADMIN_KEY: must differ from SWITCHBOARD_SECRET_KEY (an app must not hold the admin key)');
    if (serverUrl) assertSafePublicUrl(serverUrl, 'SWITCHBOARD_SERVER_URL');
    if (e.SWITCHBOARD_CALLBACK_URL) assertSafePublicUrl(e.SWITCHBOARD_CALLBACK_URL, 'SWITCHBOARD_CALLBACK_URL');
    if (e.SWITCHBOARD_PUBLIC_PORT !== undefined && e.SWITCHBOARD_PUBLIC_PORT !== 0 && e.SWITCHBOARD_PUBLIC_PORT === e.PORT)
        throw new ConfigError('SWITCHBOARD_PUBLIC_PORT: must differ from PORT (the private port)');
    let desiredState: LoadedConfig | undefined;
    if (e.SWITCHBOARD_CONFIG) {
        try {
            desiredState = loadConfigFile(e.SWITCHBOARD_CONFIG, { env });
        } catch (err) {
            if (err instanceof ConfigFileError) throw new ConfigError(`SWITCHBOARD_CONFIG: ${err.message}`);
            throw err;
        }
    }
    return {
        desiredState,
        port: e.PORT,
        host: e.HOST,
        secretKey: e.SWITCHBOARD_SECRET_KEY,
        adminKey: e.SWITCHBOARD_ADMIN_KEY,
        encryptionKey: e.SWITCHBOARD_ENCRYPTION_KEY,
        previousEncryptionKeys: list(e.SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS),
        dataDir: resolve(e.SWITCHBOARD_DATA_DIR),
        keyFile: e.SWITCHBOARD_ENCRYPTION_KEY ? undefined : join(resolve(e.SWITCHBOARD_DATA_DIR), 'encryption.key'),
        databaseUrl: e.SWITCHBOARD_DATABASE_URL,
        embedded: e.SWITCHBOARD_EMBEDDED,
        serverUrl,
        callbackUrl: e.SWITCHBOARD_CALLBACK_URL,
        publicListener: e.SWITCHBOARD_PUBLIC_PORT === undefined ? undefined : { port: e.SWITCHBOARD_PUBLIC_PORT, host: e.SWITCHBOARD_PUBLIC_HOST ?? e.HOST },
        providerFiles: list(e.SWITCHBOARD_PROVIDERS).map((p) => resolve(p)),
        allowPrivateEgress: e.SWITCHBOARD_ALLOW_PRIVATE_EGRESS,
        logLevel: e.SWITCHBOARD_LOG_LEVEL,
        bodyLimit: e.SWITCHBOARD_BODY_LIMIT_BYTES,
        publicBodyLimit: e.SWITCHBOARD_PUBLIC_BODY_LIMIT_BYTES,
        requestTimeoutMs: e.SWITCHBOARD_REQUEST_TIMEOUT_MS,
        backgroundRefreshSeconds: e.SWITCHBOARD_BACKGROUND_REFRESH_SECONDS,
        webhooks: {
            url: e.SWITCHBOARD_WEBHOOK_URL,
            secret: e.SWITCHBOARD_WEBHOOK_SECRET,
            maxAttempts: e.SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS,
            backoffBaseMs: e.SWITCHBOARD_WEBHOOK_BACKOFF_MS
        },
        connectUiFrameAncestors,
        otlpTracesUrl: e.SWITCHBOARD_OTLP_TRACES_URL,
        dashboardSessionTtlMs: e.SWITCHBOARD_DASHBOARD_SESSION_TTL,
        rateLimits: {
            defaults: { perKey: e.SWITCHBOARD_RATE_LIMIT_PER_KEY, perConnection: e.SWITCHBOARD_RATE_LIMIT_PER_CONNECTION },
            byEnvironment: e.SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT ?? {}
        },
        functions: {
            syncTimeoutMs: e.SWITCHBOARD_SYNC_TIMEOUT_MS,
            actionTimeoutMs: e.SWITCHBOARD_ACTION_TIMEOUT_MS,
            onEventTimeoutMs: e.SWITCHBOARD_ON_EVENT_TIMEOUT_MS,
            webhookRunTimeoutMs: e.SWITCHBOARD_WEBHOOK_RUN_TIMEOUT_MS,
            runnerProcesses: e.SWITCHBOARD_RUNNER_PROCESSES,
            runnerMemoryMb: e.SWITCHBOARD_RUNNER_MEMORY_MB,
            schedulerTickMs: e.SWITCHBOARD_SCHEDULER_TICK_MS,
            lostAfterMs: e.SWITCHBOARD_SYNC_LOST_AFTER_MS,
            scriptLogLevel: e.SWITCHBOARD_SCRIPT_LOG_LEVEL,
            workerConcurrency: e.SWITCHBOARD_RUNNER_PROCESSES
        }
    };
}

/** Why `url` cannot be an OAuth callback or the base it derives from, or undefined when it can. */
export function publicUrlProblem(url: string): string | undefined {
    const u = new URL(url);
    const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\./.test(u.hostname);
    // RFC 9700 §2.6: plain http is only acceptable on loopback.
    if (u.protocol === 'http:' && !loopback) return 'must use https:// unless it points at localhost';
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
    if (u.search || u.hash) return 'must not contain a query or fragment';
    return undefined;
}

function assertSafePublicUrl(url: string, name: string): void {
    const problem = publicUrlProblem(url);
    if (problem) throw new ConfigError(`${name}: ${problem}`);
}
