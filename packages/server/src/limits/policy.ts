import { z } from 'zod';
import ms from 'ms';

/** A limit: at most `limit` requests per `windowSeconds`, the window starting at the first request. */
export interface Limit {
    limit: number;
    windowSeconds: number;
}

/** What is limited: requests per secret key, and proxy requests per connection. Undefined: no limit. */
export interface RateLimits {
    perKey: Limit | undefined;
    perConnection: Limit | undefined;
}

/** The configured limits: the defaults, and per-environment replacements by environment name. */
export interface RateLimitConfig {
    defaults: RateLimits;
    byEnvironment: Record<string, Partial<RateLimits>>;
}

export const noLimits: RateLimitConfig = { defaults: { perKey: undefined, perConnection: undefined }, byEnvironment: {} };

/** `600/1m`: 600 requests a minute; `off`: none. The window takes any `ms` duration (`30s`, `1m`, `1h`), 1 s to 1 day. */
export const limitSpec = z
    .string()
    .trim()
    .transform((v, ctx): Limit | undefined => {
        if (v === 'off') return undefined;
        const m = /^(\d+)\s*\/\s*(\S+)$/.exec(v);
        const windowMs = m ? ms(m[2] as ms.StringValue) : undefined;
        const limit = m ? Number(m[1]) : 0;
        if (!m || typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 1000 || windowMs > 86_400_000 || limit < 1) {
            ctx.addIssue({ code: 'custom', message: 'must be "off" or <requests>/<window>, e.g. 600/1m (window 1s to 1d)' });
            return z.NEVER;
        }
        return { limit, windowSeconds: Math.round(windowMs / 1000) };
    });

/** SWITCHBOARD_RATE_LIMITS_BY_ENVIRONMENT: `{"<environment name>": {"per_key": "6000/1m", "per_connection": "off"}}`. */
export const byEnvironmentSpec = z.record(
    z.string().min(1),
    z
        .object({ per_key: limitSpec.optional(), per_connection: limitSpec.optional() })
        .strict()
        .transform((o) => {
            const out: Partial<RateLimits> = {};
            if ('per_key' in o) out.perKey = o.per_key;
            if ('per_connection' in o) out.perConnection = o.per_connection;
            return out;
        })
);

/** The limits of one environment: its own where it has them, the defaults elsewhere. */
export function limitsFor(config: RateLimitConfig, environmentName: string): RateLimits {
    const own = config.byEnvironment[environmentName];
    return { ...config.defaults, ...own };
}
