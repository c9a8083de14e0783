// TBA: NetSuite token-based authentication. Every proxied request carries an OAuth 1.0a Authorization header
// (RFC 5849 §3.5.1) signed with HMAC-SHA256 from the integration's consumer key and secret and the end user's
// token id and secret, with realm = the NetSuite account id
// (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html). oauth-1.0a builds the
// signature base string (RFC 5849 §3.4.1): the same small library the OAuth 1.0a flow already uses.
import OAuth from 'oauth-1.0a';
import { createHmac } from 'node:crypto';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { TbaCredentials } from '../connections/credentials.ts';
import type { StoredIntegrationCredentials } from '../integrations/schemas.ts';
import { fail } from '../errors.ts';

const HASHES: Record<string, string> = { 'HMAC-SHA256': 'sha256', 'HMAC-SHA1': 'sha1' };

/**
 * NetSuite's realm is the account id in capitals with `_` for `-` (`1234567_SB1`), while the account's host names
 * use lower case and `-` (`1234567-sb1.suitetalk.api.netsuite.com`); either spelling may be stored.
 */
export function netsuiteRealm(accountId: string): string {
    return accountId.toUpperCase().replace(/-/g, '_');
}

/** The consumer key and secret: the connection's override, else the integration's. */
function consumerOf(client: StoredIntegrationCredentials | null, c: TbaCredentials): { key: string; secret: string } {
    const key = c.config_override?.client_id ?? (client && 'client_id' in client ? client.client_id : undefined);
    const secret = c.config_override?.client_secret ?? (client && 'client_secret' in client ? client.client_secret : undefined);
    if (!key || !secret) throw fail('invalid_auth_mode', { message: 'The integration has no consumer key and secret (client_id, client_secret) for TBA' });
    return { key, secret };
}

/** The Authorization header for one request (method, final URL with its query, and form fields if the body is a form). */
export function tbaHeader(
    def: ProviderDefinition,
    client: StoredIntegrationCredentials | null,
    c: TbaCredentials,
    connectionConfig: Record<string, unknown>,
    req: { method: string; url: URL; form?: Record<string, string> | undefined }
): string {
    const accountId = connectionConfig['accountId'];
    if (typeof accountId !== 'string' || !accountId) {
        throw fail('missing_connection_config', {
            message: 'connection_config.accountId (the NetSuite account id, the realm of each signature) is required for TBA'
        });
    }
    const method = def.signature_method && HASHES[def.signature_method] ? def.signature_method : 'HMAC-SHA256';
    const algorithm = HASHES[method]!;
    const oauth = new OAuth({
        consumer: consumerOf(client, c),
        signature_method: method,
        realm: netsuiteRealm(accountId),
        hash_function: (base, key) => createHmac(algorithm, key).update(base).digest('base64')
    });
    const data = oauth.authorize({ url: req.url.toString(), method: req.method, data: req.form }, { key: c.token_id, secret: c.token_secret });
    return oauth.toHeader(data).Authorization;
}
