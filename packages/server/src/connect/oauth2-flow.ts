import { createHash } from 'node:crypto';
import type { Services } from '../services.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import { fail } from '../errors.ts';
import { endpointUrl, fill } from '../oauth/provider-endpoints.ts';
import { expiryOf } from '../oauth/token-request.ts';
import { tokenGrant, tokenResponseMetadata } from '../oauth/token-client.ts';
import { valueAt } from '../json-path.ts';
import { randomToken } from './transactions.ts';
import type { FlowContext, FlowQuery } from './flow-context.ts';

// Parameters only the server sets; neither the browser nor the app's session may choose them.
const RESERVED = new Set(['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']);

export function clientOf(s: Services, ctx: FlowContext): { clientId: string; clientSecret: string; scopes: string | undefined } {
    const c = s.integrations.credentials(ctx.integration);
    if (!c || !('client_id' in c) || !('client_secret' in c)) throw fail('missing_client_credentials');
    return { clientId: c.client_id, clientSecret: c.client_secret, scopes: 'scopes' in c ? c.scopes : undefined };
}

/** The session's override, else the integration's scopes, else the catalogue's defaults (stored comma-separated). */
export function requestedScopes(s: Services, ctx: FlowContext): string[] {
    const list = ctx.defaults.connection_config?.oauth_scopes_override ?? clientOf(s, ctx).scopes ?? ctx.provider.default_scopes?.join(',') ?? '';
    return list
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
}

/** RFC 7636 §4.1–4.2: a 43-character verifier from 32 random bytes; only S256 is ever sent. */
export function pkcePair(): { verifier: string; challenge: string } {
    const verifier = randomToken();
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizationRequest {
    /** The provider URL without state and PKCE: those come from the stored transaction. */
    base: URL;
    expectedIssuer: string;
    usesPkce: boolean;
    /** How the provider wants the final URL written (Nango's authorization_url_* fields). */
    shape: Pick<
        ProviderDefinition,
        'authorization_url_replacements' | 'authorization_url_skip_encode' | 'authorization_url_skip_empty' | 'authorization_url_fragment'
    >;
}

/** Everything of the authorization URL that does not depend on the transaction (docs/compatibility.md, "Browser flows"). */
export function authorizationRequest(s: Services, ctx: FlowContext, query: FlowQuery, redirectUri: string): AuthorizationRequest {
    const def = ctx.provider;
    const client = clientOf(s, ctx);
    const url = new URL(endpointUrl(def, def.authorization_url!, { connectionConfig: ctx.connectionConfig }));
    const params = url.searchParams;
    params.set('response_type', 'code');
    params.set('client_id', client.clientId);
    params.set('redirect_uri', redirectUri);
    const scopes = requestedScopes(s, ctx);
    if (scopes.length) params.set('scope', scopes.join(def.scope_separator));
    const userScope = ctx.defaults.user_scopes ?? query.user_scope;
    if (userScope && def.user_scopes_param) params.set(def.user_scopes_param, userScope);
    for (const [k, v] of Object.entries(def.authorization_params ?? {})) params.set(k, fill(v, ctx.connectionConfig));
    // The app's session defaults win over what the browser asked for; "undefined" removes a template default.
    for (const [k, v] of Object.entries({ ...(query.authorization_params ?? {}), ...(ctx.defaults.authorization_params ?? {}) })) {
        // RFC 8707: an MCP server's token is for that server alone; nobody else picks the resource.
        if (RESERVED.has(k) || (k === 'resource' && def.auth_mode === 'MCP_OAUTH2'))
            throw fail('invalid_query_params', {
                message: `authorization_params[${k}] is set by the server`,
                errors: [{ code: 'custom', message: 'Reserved parameter', path: ['authorization_params', k] }]
            });
        if (v === 'undefined') params.delete(k);
        else params.set(k, v);
    }
    return {
        base: url,
        expectedIssuer: url.origin,
        usesPkce: !def.disable_pkce,
        shape: {
            authorization_url_replacements: def.authorization_url_replacements,
            authorization_url_skip_encode: def.authorization_url_skip_encode,
            authorization_url_skip_empty: def.authorization_url_skip_empty,
            authorization_url_fragment: def.authorization_url_fragment
        }
    };
}

/** The final redirect target: state and PKCE challenge added to the prepared request. */
export function authorizationUrl(req: AuthorizationRequest, state: string, challenge: string | undefined): string {
    const url = new URL(req.base);
    url.searchParams.set('state', state);
    if (challenge) {
        url.searchParams.set('code_challenge', challenge);
        url.searchParams.set('code_challenge_method', 'S256');
    }
    return shaped(url, req.shape);
}

/**
 * The URL as the provider wants it written, as Nango writes it: parameters with an empty value dropped
 * (`authorization_url_skip_empty`), the values of the named parameters left unencoded but for spaces
 * (`authorization_url_skip_encode`: providers that refuse `%3A` or `%2C` in a scope), each
 * `authorization_url_replacements` key replaced by its value in the whole URL, and a fragment appended.
 * The operator's providers file says all of this; nothing comes from the request.
 */
function shaped(url: URL, shape: AuthorizationRequest['shape']): string {
    if (shape.authorization_url_skip_empty) for (const [k, v] of [...url.searchParams]) if (v === '') url.searchParams.delete(k);
    let out = url.toString();
    const raw = new Set(shape.authorization_url_skip_encode ?? []);
    if (raw.size > 0 && url.search) {
        const query = url.search
            .slice(1)
            .split('&')
            .map((pair) => {
                const eq = pair.indexOf('=');
                const key = decodeURIComponent(pair.slice(0, eq < 0 ? pair.length : eq));
                if (eq < 0 || !raw.has(key)) return pair;
                return `${pair.slice(0, eq)}=${decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' ')).replace(/ /g, '%20')}`;
            })
            .join('&');
        out = `${url.origin}${url.pathname}?${query}${url.hash}`;
    }
    for (const [from, to] of Object.entries(shape.authorization_url_replacements ?? {})) out = out.split(from).join(to);
    if (shape.authorization_url_fragment) out = `${out.replace(/#.*$/, '')}#${shape.authorization_url_fragment}`;
    return out;
}

/**
 * RFC 9207: when the provider says who issued the response, it must be the server this transaction went to.
 * We compare origins because catalogue entries know the authorization endpoint, not always the exact issuer
 * identifier (Microsoft's carries the tenant in its path).
 */
export function issuerMatches(iss: string | undefined, expected: string | null): boolean {
    if (iss === undefined || !expected) return true;
    try {
        return new URL(iss).origin === expected;
    } catch {
        return false;
    }
}

/** Redeems the code once, at the catalogue's token endpoint, with the byte-identical redirect URI. */
export async function exchangeCode(
    s: Services,
    ctx: FlowContext,
    code: string,
    redirectUri: string,
    codeVerifier: string | undefined
): Promise<{ credentials: StoredCredentials; metadata: Record<string, unknown> }> {
    const def = ctx.provider;
    const client = clientOf(s, ctx);
    const tokens = await tokenGrant(s.egress, def, ctx.connectionConfig, { type: 'authorization_code', code, redirectUri, codeVerifier }, client);
    const accessToken = def.alternate_access_token_response_path ? valueAt(tokens, def.alternate_access_token_response_path) : tokens.access_token;
    if (typeof accessToken !== 'string' || !accessToken) throw fail('connection_test_failed', { message: 'The provider answered without an access token' });
    const credentials: StoredCredentials = {
        type: 'OAUTH2',
        access_token: accessToken,
        refresh_token: typeof tokens.refresh_token === 'string' && tokens.refresh_token ? tokens.refresh_token : undefined,
        expires_at: expiryOf(tokens, new Date(), def.expires_in_unit),
        raw: tokens
    };
    return { credentials, metadata: tokenResponseMetadata(def, tokens) };
}
