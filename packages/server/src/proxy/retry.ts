import type { ProviderDefinition } from '../providers/schema.ts';
import { backoffMs, retryAfterMs, type HeaderBag } from '../egress/retry.ts';

/** A status against a provider's `retry.error_code` entry: 429, "429" or a class such as "5xx". */
function matches(status: number, code: number | string): boolean {
    const c = String(code).toLowerCase();
    return c.endsWith('xx') ? Math.floor(status / 100) === Number(c[0]) : Number(c) === status;
}

const firstValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Which upstream answers are retried (docs/compatibility.md, "Proxy"): the app's Retry-On codes; the provider's
 * `retry.error_code` list when it has one, else 5xx, 429 and 401; and, as in Nango, any error answer whose
 * `retry.remaining` header says the quota is used up ("0": GitHub answers 403 then, not 429).
 */
export function isRetryableStatus(status: number, retryOn: number[] | undefined, def: ProviderDefinition, headers?: HeaderBag): boolean {
    if (retryOn?.includes(status)) return true;
    const remaining = def.proxy?.retry?.remaining;
    if (remaining && status >= 400 && headers && firstValue(headers[remaining.toLowerCase()])?.trim() === '0') return true;
    const codes = def.proxy?.retry?.error_code;
    if (codes) return codes.some((c) => matches(status, c));
    return status >= 500 || status === 429 || status === 401;
}

/** The first of the provider's header names (one, or a list in order of preference) that the answer carries. */
function presentHeader(names: string | string[] | undefined, headers: HeaderBag | undefined): string | undefined {
    if (names === undefined) return undefined;
    const list = Array.isArray(names) ? names : [names];
    return list.find((n) => headers?.[n.toLowerCase()] !== undefined) ?? list[0];
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
    const asked = retryAfterMs(headers, {
        now,
        afterHeader: presentHeader(def.proxy?.retry?.after, headers),
        resetHeader: presentHeader(def.proxy?.retry?.at, headers)
    });
    const wait = asked ?? backoffMs(attempt, { baseMs: BASE_MS });
    return wait > MAX_WAIT_MS ? undefined : wait;
}

/** Network failures worth another attempt: the upstream could not be reached or did not answer in time. */
export const isRetryableNetworkError = (code: string | undefined): boolean => code === 'upstream_unreachable' || code === 'upstream_timeout';
