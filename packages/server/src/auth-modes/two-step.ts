// TWO_STEP: a token obtained from a provider endpoint with the end user's inputs (the provider's `credentials`
// fields), renewed at `refresh_url` with the refresh token when there is one, else by asking again with the
// same inputs (docs/providers.md, "Auth modes").
import type { Egress } from '../egress/egress.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { TwoStepCredentials } from '../connections/credentials.ts';
import { interpolate, InterpolationError } from '../providers/interpolate.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';
import { expiryFrom, parseTokenBody, sendTokenRequest, tokenRefusal, TokenError } from '../oauth/token-request.ts';
import { valueAt } from '../json-path.ts';
import { fail } from '../errors.ts';

function fillMap(
    map: Record<string, string> | undefined,
    connectionConfig: Record<string, unknown>,
    credentials: Record<string, unknown>
): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map ?? {})) {
        try {
            out[k] = interpolate(v, { connectionConfig, credentials });
        } catch (err) {
            if (err instanceof InterpolationError) throw fail('missing_connection_config', { message: `"${k}": ${err.message}` });
            throw err;
        }
    }
    return out;
}

/** The expiry a response announces at `token_response.token_expiration`, by the provider's strategy, else its fixed lifetime (token_expires_in_ms). */
function expiryOf(def: ProviderDefinition, body: unknown, now: Date): string | undefined {
    const spec = def.token_response;
    const value = spec?.token_expiration ? valueAt(body, spec.token_expiration) : undefined;
    const announced = expiryFrom(spec?.token_expiration_strategy === 'expireAt' ? { at: value } : { in: value }, now);
    return announced ?? (def.token_expires_in_ms ? new Date(now.getTime() + def.token_expires_in_ms).toISOString() : undefined);
}

/**
 * One token request: `token_url` (or `refresh_url` with the refresh token) with the filled-in parameters and
 * headers, as JSON (the default), a form, or a GET query, sent and read by the shared token client
 * (oauth/token-request.ts). Throws TokenError when the provider refuses.
 */
export async function twoStepToken(
    egress: Egress,
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    inputs: Record<string, string>,
    previous?: Pick<TwoStepCredentials, 'refresh_token'>,
    now = new Date()
): Promise<TwoStepCredentials> {
    const refreshing = previous?.refresh_token !== undefined && def.refresh_url !== undefined;
    const credentials = { ...inputs, ...(previous?.refresh_token ? { refresh_token: previous.refresh_token } : {}) };
    const template = refreshing ? def.refresh_url : typeof def.token_url === 'string' ? def.token_url : def.token_url?.['TWO_STEP'];
    if (!template) throw fail('invalid_auth_mode', { message: 'The provider has no token_url for TWO_STEP' });
    const url = new URL(endpointUrl(def, template, { connectionConfig, credentials }));
    const params = fillMap(refreshing ? def.refresh_token_params : def.token_params, connectionConfig, credentials);
    const headers = fillMap(refreshing ? def.refresh_token_headers : def.token_headers, connectionConfig, credentials);
    if (def.token_request_method !== 'GET' && def.body_format === 'xml')
        throw fail('invalid_auth_mode', { message: 'TWO_STEP with body_format xml (SAML assertions) is not supported' });
    const format = def.token_request_method === 'GET' ? 'query' : def.body_format === 'form' ? 'form' : 'json';
    const res = await sendTokenRequest(egress, { url, params, format, headers });
    const parsed = parseTokenBody(res.text, String(res.headers['content-type'] ?? ''));
    // A refused refresh token: the next attempt asks again with the inputs (invalid_grant would mark the
    // connection revoked, which it is not while the inputs still work).
    if (res.status < 200 || res.status >= 300) throw tokenRefusal(res.status, parsed, 'invalid_credentials');
    const spec = def.token_response;
    let token = valueAt(parsed, spec ? spec.token : 'token');
    if (typeof token !== 'string' || !token) {
        const fromHeader = (def.token_response_headers ?? []).map((h) => res.headers[h.toLowerCase()]).find((v) => typeof v === 'string' && v);
        token = fromHeader;
    }
    if (typeof token !== 'string' || !token) throw new TokenError('invalid_response', 'the token endpoint answered without a token', res.status);
    const refresh = spec?.refresh_token ? valueAt(parsed, spec.refresh_token) : undefined;
    return {
        type: 'TWO_STEP',
        inputs,
        token,
        refresh_token: typeof refresh === 'string' && refresh ? refresh : previous?.refresh_token,
        expires_at: expiryOf(def, parsed, now),
        raw: Array.isArray(parsed) ? {} : parsed
    };
}

/** Renewal: the refresh endpoint when the provider has one and a refresh token is held, else the inputs again. */
export async function renewTwoStep(
    egress: Egress,
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    c: TwoStepCredentials,
    now = new Date()
): Promise<TwoStepCredentials> {
    if (c.refresh_token && def.refresh_url) {
        try {
            return await twoStepToken(egress, def, connectionConfig, c.inputs, c, now);
        } catch (err) {
            if (!(err instanceof TokenError) || err.status >= 500 || Object.keys(c.inputs).length === 0) throw err;
        }
    }
    return twoStepToken(egress, def, connectionConfig, c.inputs, undefined, now);
}
