import type { AttemptResult } from './outbox.ts';

const MAX_DELAY_MS = 60 * 60 * 1000;
// A receiver asking for more than a day is treated as asking for a day: the row stays visible and replayable.
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export interface RetryPolicy {
    maxAttempts: number;
    baseMs: number;
    now?: () => number;
    random?: () => number;
}

/** Exponential backoff with ±25% jitter so receivers that failed together are not retried together. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
    const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), MAX_DELAY_MS);
    return Math.round(exp * (0.75 + random() * 0.5));
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
    const v = Array.isArray(value) ? value[0] : value;
    if (!v) return undefined;
    const trimmed = v.trim();
    if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/** A network error or timeout: retryable like a 5xx. */
export type Outcome = { kind: 'response'; status: number; retryAfter?: string | string[] | undefined; detail: string } | { kind: 'error'; retryable: boolean; detail: string };

/**
 * What to do after attempt number `attempt`: 2xx is delivered; 5xx, 429 and network errors are retried until
 * the last attempt, then dead; 3xx and other 4xx mean the receiver refused this request and will again, so failed.
 */
export function decide(outcome: Outcome, attempt: number, p: RetryPolicy): AttemptResult {
    const now = (p.now ?? Date.now)();
    const httpStatus = outcome.kind === 'response' ? outcome.status : null;
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) return { status: 'delivered', httpStatus: outcome.status };
    const retryable = outcome.kind === 'error' ? outcome.retryable : outcome.status === 429 || outcome.status >= 500;
    const error = outcome.kind === 'response' ? `HTTP ${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}` : outcome.detail;
    if (!retryable) return { status: 'failed', httpStatus, error };
    if (attempt >= p.maxAttempts) return { status: 'dead', httpStatus, error };
    const asked = outcome.kind === 'response' ? retryAfterMs(outcome.retryAfter, now) : undefined;
    const delay = asked ?? backoffMs(attempt, p.baseMs, p.random);
    return { status: 'pending', httpStatus, error, nextAttemptAt: new Date(now + delay) };
}
