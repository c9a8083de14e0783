import type { Services } from '../services.ts';
import type { Connection } from './store.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { StoredCredentials } from './credentials.ts';
import { basicAuthorization } from '../oauth/token-request.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';
import { clientCredentialsFor } from '../oauth/token-client.ts';
import { backoffMs, retry } from '../egress/retry.ts';
import { mcpProvider } from '../auth-modes/mcp-oauth2.ts';

export type RevocationOutcome = { outcome: 'revoked' | 'skipped' | 'failed'; status?: number; detail?: string };

/** Token-bearing credentials a provider can revoke: OAuth 2 grants and GitHub App installation tokens. */
type RevocableCredentials = Extract<StoredCredentials, { type: 'OAUTH2' | 'APP' }>;

const ATTEMPTS = 3;

interface RevocationRequest {
    method: 'POST' | 'DELETE';
    url: URL;
    headers: Record<string, string>;
    body: string | undefined;
}

/**
 * The revocation call the catalogue describes. By default RFC 7009: POST a form with `token` (the refresh token,
 * else the access token) and `token_type_hint`, client authentication in Basic or the body. The revocation_*
 * fields describe the providers that differ (docs/providers.md).
 */
function revocationRequest(
    def: ProviderDefinition & { revocation_url: string },
    c: Connection,
    creds: RevocableCredentials,
    clientId: string | undefined,
    clientSecret: string | undefined
): RevocationRequest {
    const refreshToken = creds.type === 'OAUTH2' ? creds.refresh_token : undefined;
    const which = def.revocation_token ?? (refreshToken ? 'refresh_token' : 'access_token');
    const token = (which === 'refresh_token' ? refreshToken : undefined) ?? creds.access_token;
    const param = def.revocation_token_param ?? 'token';
    const format = def.revocation_body_format ?? 'form';
    const fields: Record<string, string> = { [param]: token };
    // The hint is RFC 7009's, which is form-encoded; the other shapes are providers' own and have no use for it.
    if (param === 'token' && format === 'form') fields['token_type_hint'] = which === 'refresh_token' && refreshToken ? 'refresh_token' : 'access_token';
    Object.assign(fields, def.revocation_params ?? {});

    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(def.revocation_headers ?? {})) headers[name.toLowerCase()] = value;
    const auth = def.revocation_auth_method ?? 'basic';
    if (auth === 'bearer') headers['authorization'] = `Bearer ${creds.access_token}`;
    else if (auth !== 'none' && clientId && clientSecret) {
        if (auth === 'body') Object.assign(fields, { client_id: clientId, client_secret: clientSecret });
        else headers['authorization'] = basicAuthorization(clientId, clientSecret);
    }

    let body: string | undefined;
    if (format === 'form') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(fields).toString();
    } else if (format === 'json') {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(fields);
    }

    // endpointUrl encodes each value for its place, so a token cannot change which path is called.
    const url = new URL(
        endpointUrl(def, def.revocation_url, {
            connectionConfig: c.connectionConfig,
            credentials: { refresh_token: refreshToken, access_token: creds.access_token },
            ...(clientId !== undefined ? { clientId } : {})
        })
    );
    return { method: def.revocation_method ?? 'POST', url, headers, body };
}

/**
 * Revocation at the provider before a connection is deleted. Any 2xx is success (RFC 7009 §2.2 says 200, even
 * for a token that is already invalid; GitHub and HubSpot answer 204); 503 is retried (§2.2.1).
 */
export async function revokeAtProvider(s: Services, c: Connection, integration: Integration, retryBaseMs = 500): Promise<RevocationOutcome> {
    const stored = s.integrations.credentials(integration);
    const catalogued = s.catalogue.get(c.provider);
    // MCP_OAUTH2: the revocation endpoint its authorization server's metadata named, with the registered client.
    const def = catalogued && mcpProvider(catalogued, stored);
    const creds = c.credentials;
    if (!def?.revocation_url || (creds.type !== 'OAUTH2' && creds.type !== 'APP')) return { outcome: 'skipped', detail: 'provider has no revocation endpoint' };
    const { clientId, clientSecret } = clientCredentialsFor(stored, creds.type === 'OAUTH2' ? creds.config_override : undefined);
    let req: RevocationRequest;
    try {
        req = revocationRequest({ ...def, revocation_url: def.revocation_url }, c, creds, clientId, clientSecret);
    } catch (err) {
        return { outcome: 'failed', detail: (err as Error).message };
    }
    // A 503 or a network failure is tried again (RFC 7009 §2.2.1), up to three attempts in all.
    return retry(
        async (): Promise<RevocationOutcome> => {
            try {
                const res = await s.egress.fetch({ ...req, maxBytes: 64 * 1024, timeoutMs: 15_000 });
                if (res.status >= 200 && res.status < 300) return { outcome: 'revoked', status: res.status };
                return { outcome: 'failed', status: res.status, detail: res.text.slice(0, 500) };
            } catch (err) {
                return { outcome: 'failed', detail: (err as Error).message };
            }
        },
        {
            retries: ATTEMPTS - 1,
            delayMs: (o, attempt) =>
                o.ok && o.value.outcome === 'failed' && (o.value.status === undefined || o.value.status === 503)
                    ? backoffMs(attempt, { baseMs: retryBaseMs })
                    : undefined
        }
    );
}
