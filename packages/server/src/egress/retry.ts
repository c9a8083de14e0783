import { setTimeout as delay } from 'node:timers/promises';

/**
 * The one place that decides how long to wait before trying an outbound call again: exponential backoff, the
 * server's Retry-After or a provider's rate-limit reset header, and a retry loop that sleeps between attempts.
 * Used by the proxy, script HTTP calls, token revocation, webhook deliveries and the PostgreSQL listener.
 */

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

export interface BackoffOptions {
    /** The wait before the second attempt; it doubles with each attempt. */
    baseMs: number;
    /** Never wait longer than this (before jitter). */
    maxMs?: number | undefined;
    /** Spread each wait over ±jitter of itself (0.25 = ±25 %), so callers that failed together do not retry together. */
    jitter?: number | undefined;
    random?: (() => number) | undefined;
}

/** The wait after failed attempt `attempt` (0-based): baseMs × 2^attempt, capped, with optional jitter. */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
    const exp = Math.min(opts.baseMs * 2 ** Math.max(0, attempt), opts.maxMs ?? Number.POSITIVE_INFINITY);
    if (!opts.jitter) return exp;
    const random = opts.random ?? Math.random;
    return Math.round(exp * (1 - opts.jitter + random() * 2 * opts.jitter));
}

export interface RetryAfterOptions {
    now: number;
    /** A provider's own "retry after N seconds" header, read before Retry-After (catalogue `proxy.retry.after`). */
    afterHeader?: string | undefined;
    /** A provider's "limit resets at" header in Unix epoch seconds (catalogue `proxy.retry.at`), e.g. X-RateLimit-Reset. */
    resetHeader?: string | undefined;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.trim();

/**
 * How long the server asked us to wait, in ms from `now`, or undefined when it did not say (or said nothing
 * readable). Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3); a provider's after-header is
 * seconds (fractions allowed, some send them); its reset header is an epoch time in seconds. A time in the past
 * is a wait of 0. No cap here: each caller decides what it will hold open.
 */
export function retryAfterMs(headers: HeaderBag | undefined, opts: RetryAfterOptions): number | undefined {
    if (!headers) return undefined;
    const custom = opts.afterHeader ? first(headers[opts.afterHeader.toLowerCase()]) : undefined;
    if (custom && /^\d+(\.\d+)?$/.test(custom)) return Math.round(Number(custom) * 1000);
    const standard = first(headers['retry-after']);
    if (standard) {
        if (/^\d+$/.test(standard)) return Number(standard) * 1000;
        // Every HTTP date form names its month; Date.parse alone would read "-5" or "1.5" as a year.
        const date = /[a-z]/i.test(standard) ? Date.parse(standard) : Number.NaN;
        if (!Number.isNaN(date)) return Math.max(0, date - opts.now);
    }
    const reset = opts.resetHeader ? first(headers[opts.resetHeader.toLowerCase()]) : undefined;
    if (reset && /^\d+(\.\d+)?$/.test(reset)) return Math.max(0, Math.round(Number(reset) * 1000 - opts.now));
    return undefined;
}

/** What one attempt ended with: a value (which may still be worth retrying, e.g. a 503) or a thrown error. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface RetryOptions<T> {
    /** Attempts after the first; Infinity for "until it works or the signal aborts". */
    retries: number;
    /**
     * The wait before the next attempt after attempt `attempt` (0-based) ended with `outcome`, or undefined to
     * stop and return (or throw) that outcome. Only asked while retries remain.
     */
    delayMs: (outcome: Attempt<T>, attempt: number) => number | undefined;
    /** Called after the wait and before the next attempt (e.g. to renew a token after a 401). */
    beforeRetry?: ((outcome: Attempt<T>, attempt: number) => Promise<void> | void) | undefined;
    /** Stops the loop: no further attempt; aborting during a wait throws the signal's reason. */
    signal?: AbortSignal | undefined;
    /** Let the process exit while waiting (background loops). */
    unref?: boolean | undefined;
}

/**
 * Runs `fn` until it gives an outcome `delayMs` does not want retried, or the retries run out; then returns the
 * last value or throws the last error. Errors are retried only when `delayMs` says so. An abort of `signal`
 * while waiting throws its reason (the caller is gone; a drained response must not be handed back).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
        let outcome: Attempt<T>;
        try {
            outcome = { ok: true, value: await fn(attempt) };
        } catch (error) {
            outcome = { ok: false, error };
        }
        const wait = attempt < opts.retries && !opts.signal?.aborted ? opts.delayMs(outcome, attempt) : undefined;
        if (wait === undefined) {
            if (outcome.ok) return outcome.value;
            throw outcome.error;
        }
        if (!(await sleep(wait, opts))) throw opts.signal?.reason ?? new Error('retry aborted');
        await opts.beforeRetry?.(outcome, attempt);
    }
}

/** Waits `ms`; resolves false instead when `signal` aborts first. */
export async function sleep(ms: number, opts: { signal?: AbortSignal | undefined; unref?: boolean | undefined } = {}): Promise<boolean> {
    if (opts.signal?.aborted) return false;
    try {
        await delay(ms, undefined, { signal: opts.signal, ref: !opts.unref });
        return true;
    } catch {
        return false;
    }
}
