import type { Services } from '../services.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { Integration } from '../integrations/store.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { applyAuth } from '../proxy/auth.ts';
import { signAwsRequest } from '../auth-modes/aws-sigv4.ts';
import { tbaHeader } from '../auth-modes/tba.ts';
import { providerBaseUrl, upstreamUrl } from '../proxy/target.ts';
import { endpointUrl, fill } from '../oauth/provider-endpoints.ts';
import { ApiError, fail } from '../errors.ts';

/**
 * Checks new API-key or basic credentials with the catalogue's `proxy.verification` call before they are stored,
 * so an end user who pasted a wrong key learns it at once. Endpoints are tried in order; one 2xx is enough.
 * Providers without a verification call are accepted as given.
 */
export async function verifyCredentials(
    s: Services,
    def: ProviderDefinition,
    integration: Integration,
    credentials: StoredCredentials,
    connectionConfig: Record<string, unknown>
): Promise<void> {
    const verification = def.proxy?.verification;
    if (!verification) return;
    const base = verification.base_url_override
        ? endpointUrl(def, verification.base_url_override, { connectionConfig })
        : providerBaseUrl(def, integration, connectionConfig);
    if (!base) return;
    const auth = applyAuth(def, credentials, connectionConfig);
    const headers: Record<string, string> = { accept: 'application/json', ...auth.headers };
    for (const [k, v] of Object.entries(verification.headers ?? {})) headers[k.toLowerCase()] = fill(v, connectionConfig);
    let lastStatus = 0;
    for (const endpoint of verification.endpoints) {
        try {
            const url = upstreamUrl(base, endpoint, auth.query);
            // Signed modes sign the exact request: SigV4 over everything, TBA an OAuth 1.0a header per request.
            if (credentials.type === 'TBA')
                headers['authorization'] = tbaHeader(def, s.integrations.credentials(integration), credentials, connectionConfig, {
                    method: verification.method,
                    url
                });
            const res = await s.egress.fetch({
                method: verification.method,
                url,
                headers:
                    credentials.type === 'AWS_SIGV4' ? signAwsRequest(credentials, { method: verification.method, url, headers, body: undefined }) : headers,
                maxBytes: 64 * 1024,
                timeoutMs: 15_000
            });
            if (res.status >= 200 && res.status < 300) return;
            lastStatus = res.status;
        } catch (err) {
            if (err instanceof ApiError)
                throw fail('connection_test_failed', { message: `The provider could not be reached to check the credentials (${err.code})` });
            throw err;
        }
    }
    throw fail('connection_test_failed', {
        message:
            lastStatus === 401 || lastStatus === 403
                ? 'The provider rejected these credentials'
                : `The provider answered HTTP ${lastStatus} when the credentials were checked`,
        payload: { status: lastStatus }
    });
}
