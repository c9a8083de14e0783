import type { BufferedResponse, Egress } from '../egress/egress.ts';

/** A token endpoint's answer that is not a success (RFC 6749 §5.2), or a response we could not read. */
export class TokenError extends Error {
    override name = 'TokenError';
    readonly error: string;
    readonly description: string;
    readonly status: number;

    constructor(error: string, description: string, status: number) {
        super(`${error}: ${description}`);
        this.error = error;
        this.description = description;
        this.status = status;
    }
}

export interface TokenResponse {
    access_token: string;
    refresh_token?: string;
    expires_in?: number | string | null;
    expires_at?: number | string | null;
    token_type?: string;
    scope?: string;
    [k: string]: unknown;
}

export interface ClientAuth {
    clientId: string;
    clientSecret: string;
    /**
     * `basic`: RFC 6749 §2.3.1 HTTP Basic; `body`: client_id/client_secret in the form body; `none`: a public client
     * (RFC 6749 §3.2.1, RFC 7591 `token_endpoint_auth_method: none`), client_id alone in the body.
     */
    method: 'basic' | 'body' | 'none';
}

/** RFC 6749 §2.3.1: Basic credentials are the form-urlencoded id and secret. */
export function basicAuthorization(id: string, secret: string): string {
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** How a token request carries its parameters: a form or JSON body (POST), or the query of a GET. */
export type TokenRequestFormat = 'form' | 'json' | 'query';

export interface TokenEndpointRequest {
    url: URL;
    params: Record<string, string>;
    format: TokenRequestFormat;
    /** Extra headers (a provider's token_headers, client authentication); they win over the defaults. */
    headers?: Record<string, string> | undefined;
}

/**
 * Sends one request to a token endpoint: `accept: application/json` and a content type for the body unless the
 * caller's headers say otherwise (names lower-cased), the answer read up to 256 KiB. Every token request the
 * server makes from a catalogue entry goes through here (OAuth 2 grants, TWO_STEP).
 */
export async function sendTokenRequest(egress: Egress, req: TokenEndpointRequest): Promise<BufferedResponse> {
    const url = new URL(req.url);
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    let body: string | undefined;
    if (req.format === 'query') for (const [k, v] of Object.entries(req.params)) url.searchParams.set(k, v);
    else if (req.format === 'json') {
        headers['content-type'] ??= 'application/json';
        body = JSON.stringify(req.params);
    } else {
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
        body = new URLSearchParams(req.params).toString();
    }
    return egress.fetch({ method: req.format === 'query' ? 'GET' : 'POST', url, headers, ...(body !== undefined ? { body } : {}), maxBytes: 256 * 1024 });
}

/**
 * POSTs a grant to a token endpoint and returns the parsed success body, or throws TokenError. Callers build
 * the grant with oauth/token-client.ts, which is the only one to call this.
 */
export async function requestToken(
    egress: Egress,
    tokenUrl: string,
    params: Record<string, string>,
    auth: ClientAuth,
    format: 'form' | 'json' = 'form'
): Promise<TokenResponse> {
    const body: Record<string, string> = { ...params };
    const headers: Record<string, string> = {};
    if (auth.method === 'basic') headers['authorization'] = basicAuthorization(auth.clientId, auth.clientSecret);
    else if (auth.method === 'none') body['client_id'] = auth.clientId;
    else Object.assign(body, { client_id: auth.clientId, client_secret: auth.clientSecret });
    const res = await sendTokenRequest(egress, { url: new URL(tokenUrl), params: body, format, headers });
    return processTokenResponse(res.status, res.text, String(res.headers['content-type'] ?? ''));
}

/**
 * Reads a token endpoint's answer (RFC 6749 §5.1, §5.2), leniently on purpose: GitHub answers form-encoded
 * bodies, and some providers answer HTTP 200 with an `error` field. A success must carry an access_token.
 */
export function processTokenResponse(status: number, text: string, contentType: string): TokenResponse {
    const parsed = parseTokenBody(text, contentType);
    if (status < 200 || status >= 300 || typeof parsed['access_token'] !== 'string') throw tokenRefusal(status, parsed, 'invalid_response');
    return parsed as TokenResponse;
}

/**
 * The TokenError for an answer that is not a success: the body's `error` and `error_description` when it has
 * them (RFC 6749 §5.2), else `server_error` for a 5xx and `fallback` for anything else.
 */
export function tokenRefusal(status: number, parsed: Record<string, unknown>, fallback: string): TokenError {
    const error = typeof parsed['error'] === 'string' ? parsed['error'] : status >= 500 ? 'server_error' : fallback;
    const description = typeof parsed['error_description'] === 'string' ? parsed['error_description'] : `token endpoint answered HTTP ${status}`;
    return new TokenError(error, description, status);
}

/** A token endpoint's body as an object: JSON, else form-encoded (GitHub without Accept, older Facebook); {} for anything else. */
export function parseTokenBody(text: string, type: string): Record<string, unknown> {
    if (/json/i.test(type) || text.trimStart().startsWith('{')) {
        try {
            const v = JSON.parse(text) as unknown;
            return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
        } catch {
            return {};
        }
    }
    return Object.fromEntries(new URLSearchParams(text));
}

/** What a response announces about its token's lifetime: an absolute time, or a duration from now. */
export interface AnnouncedExpiry {
    /** Unix seconds, Unix milliseconds (any value from 1e12 up), or a date string. */
    at?: unknown;
    /** Seconds, or milliseconds with `unit: 'milliseconds'`. */
    in?: unknown;
}

/**
 * The one expiry computation: `at` when it reads as a time, else now + `in` when it is a positive number, else
 * undefined. Null and empty values count as absent.
 */
export function expiryFrom(announced: AnnouncedExpiry, now: Date, unit?: 'milliseconds'): string | undefined {
    const at = announced.at;
    if (at !== undefined && at !== null && at !== '') {
        const n = Number(at);
        const d = Number.isFinite(n) ? new Date(n < 1e12 ? n * 1000 : n) : new Date(String(at));
        if (!Number.isNaN(d.getTime())) return d.toISOString();
    }
    const amount = Number(announced.in);
    if (Number.isFinite(amount) && amount > 0) return new Date(now.getTime() + (unit === 'milliseconds' ? amount : amount * 1000)).toISOString();
    return undefined;
}

/** expires_at from a token response: absolute if given, else now + expires_in (seconds, or ms for `expires_in_unit: milliseconds`). */
export function expiryOf(t: TokenResponse, now: Date, unit?: 'milliseconds'): string | undefined {
    return expiryFrom({ at: t.expires_at, in: t.expires_in }, now, unit);
}
