import type { Db } from '../storage/db.ts';
import type { Environment } from '../environments/environments.ts';
import { fail } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { limitsFor, type Limit, type RateLimitConfig, type RateLimits } from './policy.ts';

/** One limit's answer to one request. */
export interface Verdict {
    /** The policy's name in the RateLimit fields: `key` or `connection`. */
    name: 'key' | 'connection';
    limit: Limit;
    allowed: boolean;
    remaining: number;
    /** Seconds until the window ends and the full quota is back. */
    resetSeconds: number;
}

/**
 * Limits on the API's own callers (issue #16 item 4), counted in the database so every instance shares them: one
 * row per subject (a secret key's hash, a connection), updated in one statement that either counts the request
 * or refuses it. The window opens at the subject's first request (so a burst cannot straddle two windows aligned
 * to the clock) and its end comes from the database's clock, the same for every instance. A refused request is
 * not counted.
 */
export class RateLimiter {
    private readonly db: Db;
    private readonly config: RateLimitConfig;
    private readonly metrics: Pick<Metrics, 'rateLimited'>;
    /** False when no limit is configured anywhere: requests skip the limiter entirely. */
    readonly enabled: boolean;

    constructor(db: Db, config: RateLimitConfig, metrics: Pick<Metrics, 'rateLimited'>) {
        this.db = db;
        this.config = config;
        this.metrics = metrics;
        const all = [config.defaults, ...Object.values(config.byEnvironment)];
        this.enabled = all.some((l) => l.perKey !== undefined || l.perConnection !== undefined);
    }

    limits(env: Environment): RateLimits {
        return limitsFor(this.config, env.name);
    }

    /** Counts one request of `subject` against `limit`, or refuses it. */
    async take(env: Environment, name: Verdict['name'], subject: string, limit: Limit): Promise<Verdict> {
        const [row] = await this.db.query<{ allowed: boolean; hits: number; reset_in: number }>(
            `WITH hit AS (
                INSERT INTO rate_limit_counters AS c (environment_id, subject, hits, reset_at)
                VALUES ($1, $2, 1, now() + $3::integer * interval '1 second')
                ON CONFLICT (environment_id, subject) DO UPDATE SET
                    hits = CASE WHEN c.reset_at <= now() THEN 1 ELSE c.hits + 1 END,
                    reset_at = CASE WHEN c.reset_at <= now() THEN excluded.reset_at ELSE c.reset_at END
                WHERE c.reset_at <= now() OR c.hits < $4
                RETURNING hits, reset_at
            )
            SELECT true AS allowed, hits, ceil(extract(epoch FROM reset_at - now()))::integer AS reset_in FROM hit
            UNION ALL
            SELECT false, hits, ceil(extract(epoch FROM reset_at - now()))::integer FROM rate_limit_counters
            WHERE environment_id = $1 AND subject = $2 AND NOT EXISTS (SELECT 1 FROM hit)`,
            [env.id, subject, limit.windowSeconds, limit.limit]
        );
        // No row: refused against a row our snapshot cannot see yet (another instance's first request): a full window.
        const allowed = row?.allowed ?? false;
        const resetSeconds = Math.max(1, row?.reset_in ?? limit.windowSeconds);
        return { name, limit, allowed, remaining: allowed ? Math.max(0, limit.limit - row!.hits) : 0, resetSeconds };
    }

    /** Uncounts a request another limit refused after this one counted it. */
    async giveBack(env: Environment, subject: string): Promise<void> {
        await this.db.query('UPDATE rate_limit_counters SET hits = hits - 1 WHERE environment_id = $1 AND subject = $2 AND hits > 0', [env.id, subject]);
    }

    /** Deletes the rows of windows that ended over an hour ago. */
    async purgeExpired(): Promise<number> {
        const rows = await this.db.query("DELETE FROM rate_limit_counters WHERE reset_at < now() - interval '1 hour' RETURNING 1");
        return rows.length;
    }

    /**
     * Admits one request against every limit of `subjects` that is configured, or throws `too_many_request` with
     * Retry-After; a request refused by one limit is uncounted from those that counted it. Returns the RateLimit
     * headers the answer carries.
     */
    async admit(env: Environment, subjects: Array<{ name: Verdict['name']; subject: string }>): Promise<Record<string, string>> {
        const limits = this.limits(env);
        const verdicts: Verdict[] = [];
        const counted: string[] = [];
        for (const { name, subject } of subjects) {
            const limit = name === 'key' ? limits.perKey : limits.perConnection;
            if (!limit) continue;
            const verdict = await this.take(env, name, subject, limit);
            verdicts.push(verdict);
            if (verdict.allowed) {
                counted.push(subject);
                continue;
            }
            for (const s of counted) await this.giveBack(env, s);
            this.metrics.rateLimited.inc({ limit: name });
            throw fail('too_many_request', {
                message: `Too many requests: the ${name === 'key' ? 'secret key' : 'connection'} may make ${limit.limit} requests per ${limit.windowSeconds} s; retry in ${verdict.resetSeconds} s`,
                headers: { ...rateLimitHeaders(verdicts), 'retry-after': String(verdict.resetSeconds) }
            });
        }
        return rateLimitHeaders(verdicts);
    }
}

/**
 * The IETF RateLimit and RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers: `"<policy>";q=<quota>;w=<window
 * seconds>` and `"<policy>";r=<remaining>;t=<seconds to reset>`), one list member per limit; plus Nango's
 * X-RateLimit-* fields (reset in epoch seconds) for the per-key limit, which is what Nango's own limit counts.
 */
export function rateLimitHeaders(verdicts: Verdict[]): Record<string, string> {
    if (!verdicts.length) return {};
    const headers: Record<string, string> = {
        'ratelimit-policy': verdicts.map((v) => `"${v.name}";q=${v.limit.limit};w=${v.limit.windowSeconds}`).join(', '),
        ratelimit: verdicts.map((v) => `"${v.name}";r=${v.remaining};t=${v.resetSeconds}`).join(', ')
    };
    const key = verdicts.find((v) => v.name === 'key');
    if (key) {
        headers['x-ratelimit-limit'] = String(key.limit.limit);
        headers['x-ratelimit-remaining'] = String(key.remaining);
        headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000) + key.resetSeconds);
    }
    return headers;
}
