import type { ProviderDefinition } from '../providers/schema.ts';
import { backoffMs, retryAfterMs, type HeaderBag } from '../egress/retry.ts';

/** Which upstream answers are retried (docs/compatibility.md, "Proxy"): network errors, 5xx, 429, 401, and the app's Retry-On codes. */
export function isRetryableStatus(status: number, retryOn: number[] | undefined, providerCodes: number[] | undefined): boolean {
    if (retryOn?.includes(status)) return true;
    if (providerCodes) return providerCodes.includes(status);
    return status >= 500 || status === 429 || status === 401;
}

const BASE_MS = 1000;
// Longer than this and the app gets the upstream's answer back instead of a request held open for minutes.
const MAX_WAIT_MS = 5 * 60 * 1000;

/**
 * How long to wait after proxied attempt `attempt` (0-based): what the upstream asked for (the provider's own
 * header, Retry-After, or its reset time), else exponential backoff from 1 s. Undefined when the upstream asks
 * for longer than we will hold the app's request open.
 */
export function proxyRetryDelayMs(attempt: number, headers: HeaderBag | undefined, def: ProviderDefinition, now = Date.now()): number | undefined {
    const asked = retryAfterMs(headers, { now, afterHeader: def.proxy?.retry?.after, resetHeader: def.proxy?.retry?.at });
    const wait = asked ?? backoffMs(attempt, { baseMs: BASE_MS });
    return wait > MAX_WAIT_MS ? undefined : wait;
}

/** Network failures worth another attempt: the upstream could not be reached or did not answer in time. */
export const isRetryableNetworkError = (code: string | undefined): boolean => code === 'upstream_unreachable' || code === 'upstream_timeout';
