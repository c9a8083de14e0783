/**
 * Reading the errors `nango.get/post/…` throw for a Google API failure. The runner throws axios-shaped
 * errors (`response.status`, `response.data`; docs/scripts-compatibility.md, "HTTP"), and Google's JSON APIs put the
 * detail in the envelope { error: { code, message, status, errors: [{ reason, domain, message }] } }
 * (https://cloud.google.com/apis/design/errors#http_mapping).
 */

export interface GoogleFailure {
    /** HTTP status, when the request got an answer. */
    status?: number;
    /** Legacy `errors[0].reason` (e.g. fullSyncRequired, notFound, deleted), else the canonical status name. */
    reason?: string;
    message: string;
}

interface AxiosLike {
    status?: unknown;
    message?: unknown;
    response?: { status?: unknown; data?: unknown };
}

interface GoogleEnvelope {
    error?: { message?: unknown; status?: unknown; errors?: Array<{ reason?: unknown }> };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** The HTTP status of a failed provider call, or undefined for network and non-HTTP errors. */
export function httpStatus(err: unknown): number | undefined {
    if (typeof err !== 'object' || err === null) return undefined;
    const e = err as AxiosLike;
    const status = e.response?.status ?? e.status;
    return typeof status === 'number' ? status : undefined;
}

/** Status, reason and message of a failed Google call, without the request (which carries the token). */
export function googleFailure(err: unknown): GoogleFailure {
    const status = httpStatus(err);
    const data = (typeof err === 'object' && err !== null ? (err as AxiosLike).response?.data : undefined) as GoogleEnvelope | undefined;
    const env = typeof data === 'object' && data !== null ? data.error : undefined;
    const reason = str(env?.errors?.[0]?.reason) ?? str(env?.status);
    const message = str(env?.message) ?? (err instanceof Error ? err.message : undefined) ?? str((err as AxiosLike | null)?.message) ?? 'Unknown error';
    return { ...(status === undefined ? {} : { status }), ...(reason === undefined ? {} : { reason }), message };
}
