import { oauth1Signer } from '../oauth/oauth1.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import type { StoredIntegrationCredentials } from '../integrations/schemas.ts';
import { interpolate, InterpolationError, type InterpolationContext } from '../providers/interpolate.ts';
import { fail } from '../errors.ts';
import { wsseToken } from '../auth-modes/signature.ts';

export interface AppliedAuth {
    headers: Record<string, string>;
    query: Record<string, string>;
}

function contextOf(c: StoredCredentials, connectionConfig: Record<string, unknown>): InterpolationContext {
    const ctx: InterpolationContext = { connectionConfig, credentials: c as unknown as Record<string, unknown> };
    if (c.type === 'OAUTH2' || c.type === 'APP') ctx.accessToken = c.access_token;
    if (c.type === 'OAUTH2_CC' && c.token) ctx.accessToken = c.token;
    if (c.type === 'OAUTH1') ctx.accessToken = c.oauth_token;
    if ((c.type === 'TWO_STEP' || c.type === 'JWT') && c.token) ctx.accessToken = c.token;
    // TWO_STEP and JWT templates read the end user's inputs as ${credentials.x}, as Nango's flat credentials do.
    if (c.type === 'TWO_STEP' || c.type === 'JWT') ctx.credentials = { ...c.inputs, ...(c as unknown as Record<string, unknown>) };
    // SIGNATURE: a new UsernameToken for every request (a nonce is accepted once); BILL: the session id.
    if (c.type === 'SIGNATURE') ctx.accessToken = wsseToken(c.username, c.password);
    if (c.type === 'BILL' && c.session_id) ctx.accessToken = c.session_id;
    if (c.type === 'API_KEY') ctx.apiKey = c.apiKey;
    if (c.type === 'BASIC') {
        ctx.username = c.username;
        ctx.password = c.password;
    }
    return ctx;
}

function fillAll(map: Record<string, string> | undefined, ctx: InterpolationContext): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map ?? {})) {
        try {
            out[k.toLowerCase()] = interpolate(v, ctx);
        } catch (err) {
            if (err instanceof InterpolationError) throw fail('missing_connection_config', { message: `proxy template "${k}": ${err.message}` });
            throw err;
        }
    }
    return out;
}

// The auth of a connection's credentials is the same for every request until they change (a refresh stores a new
// credentials object): remembered per credentials object, so templates are not interpolated on every proxied
// request (bench/proxy). SIGNATURE is not remembered: it makes a new token, with a new nonce, for each request.
const applied = new WeakMap<StoredCredentials, { def: ProviderDefinition; connectionConfig: Record<string, unknown>; auth: AppliedAuth }>();

/** The credential-type default (Bearer, Basic), then the catalogue's header and query templates on top. Read-only. */
export function applyAuth(def: ProviderDefinition, c: StoredCredentials, connectionConfig: Record<string, unknown>): Readonly<AppliedAuth> {
    if (c.type === 'SIGNATURE') return authOf(def, c, connectionConfig);
    const known = applied.get(c);
    if (known && known.def === def && known.connectionConfig === connectionConfig) return known.auth;
    const auth = authOf(def, c, connectionConfig);
    Object.freeze(auth.headers);
    Object.freeze(auth.query);
    applied.set(c, { def, connectionConfig, auth: Object.freeze(auth) });
    return auth;
}

function authOf(def: ProviderDefinition, c: StoredCredentials, connectionConfig: Record<string, unknown>): AppliedAuth {
    const headers: Record<string, string> = {};
    // APP: a GitHub App installation token (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation).
    if (c.type === 'OAUTH2' || c.type === 'APP') headers['authorization'] = `Bearer ${c.access_token}`;
    else if (c.type === 'OAUTH2_CC' && c.token) headers['authorization'] = `Bearer ${c.token}`;
    else if (c.type === 'BASIC') headers['authorization'] = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    // TWO_STEP and JWT: Bearer, unless the catalogue's header templates say otherwise (they are applied next).
    else if ((c.type === 'TWO_STEP' || c.type === 'JWT') && c.token) headers['authorization'] = `Bearer ${c.token}`;
    const ctx = contextOf(c, connectionConfig);
    // SIGNATURE: Bearer with the token, as in Nango, unless the catalogue's templates (X-WSSE) say otherwise.
    if (c.type === 'SIGNATURE' && ctx.accessToken) headers['authorization'] = `Bearer ${ctx.accessToken}`;
    // TWO_STEP's proxy_header_authorization: the Authorization header's template (`Token ${accessToken}`).
    if (c.type === 'TWO_STEP' && def.proxy_header_authorization) Object.assign(headers, fillAll({ authorization: def.proxy_header_authorization }, ctx));
    Object.assign(headers, fillAll(def.proxy?.headers, ctx));
    return { headers, query: fillAll(def.proxy?.query, ctx) };
}

/** OAuth 1.0a (RFC 5849 §3) signature over method, URL and form body, as an Authorization header. */
export function oauth1Header(
    def: ProviderDefinition,
    client: StoredIntegrationCredentials | null,
    c: Extract<StoredCredentials, { type: 'OAUTH1' }>,
    req: { method: string; url: URL; form?: Record<string, string> | undefined }
): string {
    if (!client || !('client_id' in client)) throw fail('invalid_auth_mode', { message: 'The integration has no consumer key and secret for OAuth 1.0a' });
    const oauth = oauth1Signer(def, client.client_id, client.client_secret);
    const data = oauth.authorize({ url: req.url.toString(), method: req.method, data: req.form }, { key: c.oauth_token, secret: c.oauth_token_secret });
    return oauth.toHeader(data).Authorization;
}
