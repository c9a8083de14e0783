// The one OAuth 2 token client: every grant the server sends (authorization code, refresh, client
// credentials) is built here and sent through one call. As in oauth4webapi, each grant has a request builder
// named after its RFC 6749 section; the response half is token-request.ts's lenient processTokenResponse.
import type { Egress } from '../egress/egress.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { StoredIntegrationCredentials } from '../integrations/schemas.ts';
import { fail, type ApiError } from '../errors.ts';
import { clientAuthFor, fill, resolveTokenUrl } from './provider-endpoints.ts';
import { requestToken, TokenError, type ClientAuth, type TokenResponse } from './token-request.ts';
import { valueAt } from '../json-path.ts';

/** The grants we send (RFC 6749 §4.1.3, §6, §4.4.2). Never the password grant (RFC 9700 §2.4). */
export type Grant =
    | { type: 'authorization_code'; code: string; redirectUri: string; codeVerifier?: string | undefined }
    | { type: 'refresh_token'; refreshToken: string }
    | { type: 'client_credentials' };

/** The OAuth client that authenticates a grant (RFC 6749 §2.3). */
export interface OAuthClient {
    clientId: string;
    clientSecret: string;
}

/** One token request, ready to send: the catalogue's endpoint, the parameters, the client authentication. */
export interface TokenRequest {
    url: string;
    params: Record<string, string>;
    auth: ClientAuth;
    format: 'form' | 'json';
}

/**
 * The client id and secret a connection's grants use: the connection's own `config_override` (Nango lets an
 * import bring its own OAuth client), else the integration's. Either may be missing; callers decide.
 */
export function clientCredentialsFor(
    integration: StoredIntegrationCredentials | null,
    override?: { client_id?: string | undefined; client_secret?: string | undefined } | undefined
): { clientId: string | undefined; clientSecret: string | undefined } {
    return {
        clientId: override?.client_id ?? (integration && 'client_id' in integration ? integration.client_id : undefined),
        clientSecret: override?.client_secret ?? (integration && 'client_secret' in integration ? integration.client_secret : undefined)
    };
}

function grantRequest(
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    client: OAuthClient,
    authMode: string,
    purpose: 'code' | 'refresh',
    params: Record<string, string>
): TokenRequest {
    return {
        // Always the catalogue's endpoint, never one a response named (RFC 9700 §4.4.2).
        url: resolveTokenUrl(def, authMode, connectionConfig, purpose),
        params,
        // A client without a secret is a public one (an MCP server's dynamically registered client may be).
        auth: { clientId: client.clientId, clientSecret: client.clientSecret, method: client.clientSecret ? clientAuthFor(def) : 'none' },
        format: def.body_format === 'json' ? 'json' : 'form'
    };
}

/** The catalogue's extra token or refresh parameters, their `${connectionConfig.x}` templates filled (Auth0's audience). */
function extraParams(params: Record<string, string> | undefined, connectionConfig: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, fill(v, connectionConfig)]));
}

/** RFC 6749 §4.1.3: redeems a code with the byte-identical redirect URI and, with PKCE, the verifier (RFC 7636 §4.5). */
export function authorizationCodeGrantRequest(
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    client: OAuthClient,
    grant: Extract<Grant, { type: 'authorization_code' }>
): TokenRequest {
    const params: Record<string, string> = {
        grant_type: 'authorization_code',
        code: grant.code,
        redirect_uri: grant.redirectUri,
        ...extraParams(def.token_params, connectionConfig)
    };
    if (grant.codeVerifier) params['code_verifier'] = grant.codeVerifier;
    return grantRequest(def, connectionConfig, client, 'OAUTH2', 'code', params);
}

/** RFC 6749 §6: no scope parameter, so a refresh never widens the grant (RFC 9700 §4.14.2). */
export function refreshTokenGrantRequest(
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    client: OAuthClient,
    grant: Extract<Grant, { type: 'refresh_token' }>
): TokenRequest {
    const params: Record<string, string> = {
        grant_type: 'refresh_token',
        refresh_token: grant.refreshToken,
        ...extraParams(def.refresh_params, connectionConfig)
    };
    return grantRequest(def, connectionConfig, client, 'OAUTH2', 'refresh', params);
}

/** RFC 6749 §4.4.2: the client's own token, for the first connection and every renewal alike. */
export function clientCredentialsGrantRequest(def: ProviderDefinition, connectionConfig: Record<string, unknown>, client: OAuthClient): TokenRequest {
    return grantRequest(def, connectionConfig, client, 'OAUTH2_CC', 'code', {
        grant_type: 'client_credentials',
        ...extraParams(def.token_params, connectionConfig)
    });
}

/** Sends one grant to the provider's token endpoint; the success body, or a TokenError with the provider's reason. */
export async function tokenGrant(
    egress: Egress,
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    grant: Grant,
    client: OAuthClient
): Promise<TokenResponse> {
    const req =
        grant.type === 'authorization_code'
            ? authorizationCodeGrantRequest(def, connectionConfig, client, grant)
            : grant.type === 'refresh_token'
              ? refreshTokenGrantRequest(def, connectionConfig, client, grant)
              : clientCredentialsGrantRequest(def, connectionConfig, client);
    return requestToken(egress, req.url, req.params, req.auth, req.format);
}

/**
 * The catalogue's `token_response_metadata` read from a token response, each a dotted path (Slack's `team.id`),
 * kept under its path as the connection's metadata; missing ones are left out. The same at connect and refresh.
 */
export function tokenResponseMetadata(def: ProviderDefinition, tokens: TokenResponse): Record<string, unknown> {
    return Object.fromEntries((def.token_response_metadata ?? []).map((k) => [k, valueAt(tokens, k)]).filter(([, v]) => v !== undefined));
}

/**
 * The one translation of a provider's refusal (TokenError) into an API error. `connect`: new credentials were
 * refused while connecting (connection_test_failed, naming what was refused). `refresh`: stored credentials
 * could not be renewed (refresh_token_external_error; 502 when the provider answered 5xx).
 */
export function tokenFailure(err: TokenError, purpose: { connect: string } | 'refresh'): ApiError {
    const reason = `${err.error}${err.description ? ` (${err.description})` : ''}`;
    const payload = { error: err.error, description: err.description };
    if (purpose === 'refresh') {
        return fail('refresh_token_external_error', {
            status: err.status >= 500 ? 502 : 400,
            message: `The provider refused to refresh the token: ${reason}`,
            payload,
            cause: err
        });
    }
    return fail('connection_test_failed', { message: `The provider refused ${purpose.connect}: ${reason}`, payload, cause: err });
}

export { TokenError };
