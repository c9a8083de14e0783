/** Which upstream answers are retried (docs/compatibility.md, "Proxy"): network errors, 5xx, 429, 401, and the app's Retry-On codes. */
export function isRetryableStatus(status: number, retryOn: number[] | undefined, providerCodes: number[] | undefined): boolean {
    if (retryOn?.includes(status)) return true;
    if (providerCodes) return providerCodes.includes(status);
    return status >= 500 || status === 429 || status === 401;
}

const MAX_WAIT_MS = 5 * 60 * 1000;

/**
 * How long to wait before attempt `attempt` (0-based): the upstream's Retry-After (seconds or HTTP date), or a
 * provider reset header, else exponential backoff. Undefined when the upstream asks for longer than we will hold
 * the app's request open.
 */
export function retryDelayMs(
    attempt: number,
    headers: Record<string, string | string[] | undefined> | undefined,
    opts: { baseMs: number; now: number; atHeader?: string | undefined; afterHeader?: string | undefined }
): number | undefined {
    const header = (name: string | undefined) => {
        if (!name || !headers) return undefined;
        const v = headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
    };
    const after = header(opts.afterHeader) ?? header('retry-after');
    let wait: number | undefined;
    if (after !== undefined) {
        const seconds = Number(after);
        wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - opts.now;
    } else {
        const at = header(opts.atHeader);
        if (at !== undefined && Number.isFinite(Number(at))) wait = Number(at) * 1000 - opts.now;
    }
    if (wait === undefined || Number.isNaN(wait)) wait = opts.baseMs * 2 ** attempt;
    wait = Math.max(0, wait);
    return wait > MAX_WAIT_MS ? undefined : wait;
}
