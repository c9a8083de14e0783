import type { AttemptResult } from './outbox.ts';
import { backoffMs, retryAfterMs } from '../egress/retry.ts';

const MAX_DELAY_MS = 60 * 60 * 1000;
// A receiver asking for more than a day is treated as asking for a day: the row stays visible and replayable.
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export interface RetryPolicy {
    maxAttempts: number;
    baseMs: number;
    now?: () => number;
    random?: () => number;
}

/** A network error or timeout: retryable like a 5xx. */
export type Outcome =
    | { kind: 'response'; status: number; retryAfter?: string | string[] | undefined; detail: string }
    | { kind: 'error'; retryable: boolean; detail: string };

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
    const asked = outcome.kind === 'response' ? retryAfterMs({ 'retry-after': outcome.retryAfter }, { now }) : undefined;
    // Attempts count from 1 here; ±25 % jitter so receivers that failed together are not retried together.
    const delay =
        asked !== undefined
            ? Math.min(asked, MAX_RETRY_AFTER_MS)
            : backoffMs(attempt - 1, { baseMs: p.baseMs, maxMs: MAX_DELAY_MS, jitter: 0.25, random: p.random });
    return { status: 'pending', httpStatus, error, nextAttemptAt: new Date(now + delay) };
}
