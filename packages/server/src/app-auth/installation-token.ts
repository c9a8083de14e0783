import type { Egress } from '../egress/egress.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { StoredIntegrationCredentials } from '../integrations/schemas.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { resolveTokenUrl } from '../oauth/provider-endpoints.ts';
import { TokenError } from '../oauth/token-request.ts';
import { appJwt, parseRsaPrivateKey } from './jwt.ts';

export type AppCredentials = Extract<StoredCredentials, { type: 'APP' }>;

/** GitHub installation ids are positive integers; anything else never reaches a URL template. */
export const installationIdPattern = /^[1-9][0-9]{0,19}$/;

/**
 * Why GitHub refused to mint a token, as a stable reason type. `installation_not_found` means the app was
 * uninstalled (or the id is not one of this app's installations): the connection cannot recover by itself.
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 */
function reasonFor(status: number): string {
    if (status === 401) return 'app_authentication_failed';
    if (status === 403) return 'installation_forbidden';
    if (status === 404) return 'installation_not_found';
    if (status === 422) return 'invalid_request';
    return status >= 500 ? 'server_error' : 'invalid_response';
}

/** Reasons after which the installation is gone, not just the app misconfigured: the connection is expired. */
export const GONE_REASONS = new Set(['installation_not_found']);

function parse(text: string): Record<string, unknown> {
    try {
        const v = JSON.parse(text) as unknown;
        return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

/**
 * Mints an installation access token: signs the app JWT with the integration's private key and POSTs it to the
 * catalogue's token_url (GitHub: POST /app/installations/{installation_id}/access_tokens). The token lasts one
 * hour; GitHub's `expires_at` is stored so the refresher renews it within its window like any other.
 */
export async function mintInstallationToken(
    egress: Egress,
    def: ProviderDefinition,
    app: StoredIntegrationCredentials | null,
    connectionConfig: Record<string, unknown>,
    nowMs: number
): Promise<AppCredentials> {
    if (!app || (app.type !== 'APP' && app.type !== 'CUSTOM'))
        throw new TokenError('missing_app_credentials', 'The integration has no GitHub App id and private key', 0);
    const installationId = String(connectionConfig['installation_id'] ?? '');
    if (!installationIdPattern.test(installationId)) throw new TokenError('invalid_installation_id', 'The connection has no valid installation_id', 0);
    const key = parseRsaPrivateKey(app.private_key);
    if (!key.ok) throw new TokenError('invalid_private_key', `The integration's private key is unusable: ${key.reason}`, 0);
    const url = resolveTokenUrl(def, 'APP', connectionConfig, 'refresh', { installation_id: installationId });
    const res = await egress.fetch({
        method: 'POST',
        url: new URL(url),
        headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${await appJwt(app.app_id, key.key, nowMs)}`,
            'user-agent': 'switchboard',
            'x-github-api-version': '2022-11-28'
        },
        maxBytes: 256 * 1024
    });
    const body = parse(res.text);
    const token = body['token'];
    if (res.status < 200 || res.status >= 300 || typeof token !== 'string' || !token) {
        const message = typeof body['message'] === 'string' ? body['message'] : `the token endpoint answered HTTP ${res.status}`;
        throw new TokenError(reasonFor(res.status), message, res.status);
    }
    const expiresAt =
        typeof body['expires_at'] === 'string' && !Number.isNaN(Date.parse(body['expires_at'])) ? new Date(body['expires_at']).toISOString() : undefined;
    return { type: 'APP', access_token: token, expires_at: expiresAt, raw: body };
}
