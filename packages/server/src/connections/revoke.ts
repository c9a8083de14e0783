import type { Services } from '../services.ts';
import type { Connection } from './store.ts';
import type { Integration } from '../integrations/store.ts';
import { basicAuthorization } from '../oauth/token-request.ts';
import { fill } from '../oauth/provider-endpoints.ts';

export type RevocationOutcome = { outcome: 'revoked' | 'skipped' | 'failed'; status?: number; detail?: string };

const ATTEMPTS = 3;

/**
 * RFC 7009 revocation before a connection is deleted: the refresh token (or the access token when there is none)
 * with client authentication; 200 is success even for an already-invalid token (§2.2), 503 is retried (§2.2.1).
 */
export async function revokeAtProvider(s: Services, c: Connection, integration: Integration, retryBaseMs = 500): Promise<RevocationOutcome> {
    const def = s.catalogue.get(c.provider);
    const creds = c.credentials;
    if (!def?.revocation_url || creds.type !== 'OAUTH2') return { outcome: 'skipped', detail: 'provider has no revocation endpoint' };
    const client = s.integrations.credentials(integration);
    const clientId = creds.config_override?.client_id ?? (client && 'client_id' in client ? client.client_id : undefined);
    const clientSecret = creds.config_override?.client_secret ?? (client && 'client_secret' in client ? client.client_secret : undefined);
    const token = creds.refresh_token ?? creds.access_token;
    const form: Record<string, string> = { token, token_type_hint: creds.refresh_token ? 'refresh_token' : 'access_token', ...(def.revocation_params ?? {}) };
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (def.revocation_auth_method === 'bearer') headers['authorization'] = `Bearer ${creds.access_token}`;
    else if (clientId && clientSecret) {
        if (def.revocation_auth_method === 'body') Object.assign(form, { client_id: clientId, client_secret: clientSecret });
        else headers['authorization'] = basicAuthorization(clientId, clientSecret);
    }
    let url: URL;
    try {
        url = new URL(fill(def.revocation_url, c.connectionConfig));
    } catch (err) {
        return { outcome: 'failed', detail: (err as Error).message };
    }
    let last: RevocationOutcome = { outcome: 'failed' };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        try {
            const res = await s.egress.fetch({ method: 'POST', url, headers, body: new URLSearchParams(form).toString(), maxBytes: 64 * 1024, timeoutMs: 15_000 });
            if (res.status === 200) return { outcome: 'revoked', status: 200 };
            last = { outcome: 'failed', status: res.status, detail: res.text.slice(0, 500) };
            if (res.status !== 503) return last;
        } catch (err) {
            last = { outcome: 'failed', detail: (err as Error).message };
        }
        await new Promise((r) => setTimeout(r, retryBaseMs * 2 ** attempt));
    }
    return last;
}
