import type { Egress } from '../egress/egress.ts';

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
    expires_in?: number;
    expires_at?: number | string;
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
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth.method === 'basic') headers['authorization'] = basicAuthorization(auth.clientId, auth.clientSecret);
    else if (auth.method === 'none') body['client_id'] = auth.clientId;
    else Object.assign(body, { client_id: auth.clientId, client_secret: auth.clientSecret });
    headers['content-type'] = format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    const payload = format === 'json' ? JSON.stringify(body) : new URLSearchParams(body).toString();
    const res = await egress.fetch({ method: 'POST', url: new URL(tokenUrl), headers, body: payload, maxBytes: 256 * 1024 });
    return processTokenResponse(res.status, res.text, String(res.headers['content-type'] ?? ''));
}

/**
 * Reads a token endpoint's answer (RFC 6749 §5.1, §5.2), leniently on purpose: GitHub answers form-encoded
 * bodies, and some providers answer HTTP 200 with an `error` field. A success must carry an access_token.
 */
export function processTokenResponse(status: number, text: string, contentType: string): TokenResponse {
    const parsed = parseBody(text, contentType);
    if (status < 200 || status >= 300 || typeof parsed['access_token'] !== 'string') {
        const error = typeof parsed['error'] === 'string' ? parsed['error'] : status >= 500 ? 'server_error' : 'invalid_response';
        const description = typeof parsed['error_description'] === 'string' ? parsed['error_description'] : `token endpoint answered HTTP ${status}`;
        throw new TokenError(error, description, status);
    }
    return parsed as TokenResponse;
}

// Some providers (GitHub without Accept, older Facebook) answer form-encoded bodies.
function parseBody(text: string, type: string): Record<string, unknown> {
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

/** expires_at from a token response: absolute if given, else now + expires_in (seconds, or ms for `expires_in_unit: milliseconds`). */
export function expiryOf(t: TokenResponse, now: Date, unit?: 'milliseconds'): string | undefined {
    if (t.expires_at !== undefined) {
        const n = Number(t.expires_at);
        const d = Number.isFinite(n) ? new Date(n < 1e12 ? n * 1000 : n) : new Date(String(t.expires_at));
        if (!Number.isNaN(d.getTime())) return d.toISOString();
    }
    const seconds = Number(t.expires_in);
    if (Number.isFinite(seconds) && seconds > 0) return new Date(now.getTime() + (unit === 'milliseconds' ? seconds : seconds * 1000)).toISOString();
    return undefined;
}
