import { fail } from '../errors.ts';

/** The flat body of Nango's legacy `POST /connection` (docs/compatibility.md, "Legacy routes"). */
export interface LegacyImportBody {
    provider_config_key?: string | undefined;
    connection_id?: string | undefined;
    metadata?: Record<string, unknown> | undefined;
    connection_config?: Record<string, unknown> | undefined;
    access_token?: string | undefined;
    refresh_token?: string | undefined;
    expires_at?: string | number | undefined;
    expires_in?: number | undefined;
    no_expiration?: boolean | undefined;
    raw?: Record<string, unknown> | undefined;
    oauth_client_id_override?: string | undefined;
    oauth_client_secret_override?: string | undefined;
    oauth_token?: string | undefined;
    oauth_token_secret?: string | undefined;
    username?: string | undefined;
    password?: string | undefined;
    api_key?: string | undefined;
    app_id?: string | number | undefined;
    installation_id?: string | number | undefined;
}

/** An absolute expiry from `expires_at` (a date or epoch milliseconds) or `expires_in` (seconds from now). */
function expiryOf(b: LegacyImportBody, now: Date): string | undefined {
    if (b.expires_at !== undefined) {
        const d = new Date(b.expires_at);
        if (Number.isNaN(d.getTime())) throw fail('invalid_expires_at');
        return d.toISOString();
    }
    if (b.expires_in !== undefined) {
        if (!Number.isFinite(b.expires_in)) throw fail('invalid_expires_at');
        return new Date(now.getTime() + b.expires_in * 1000).toISOString();
    }
    return undefined;
}

function credentialsFor(authMode: string, b: LegacyImportBody, now: Date): Record<string, unknown> {
    switch (authMode) {
        case 'OAUTH2': {
            if (!b.access_token) throw fail('missing_access_token');
            const expires_at = expiryOf(b, now);
            if (!expires_at && b.no_expiration !== true) throw fail('missing_expires_at');
            const override = {
                ...(b.oauth_client_id_override ? { client_id: b.oauth_client_id_override } : {}),
                ...(b.oauth_client_secret_override ? { client_secret: b.oauth_client_secret_override } : {})
            };
            return {
                type: 'OAUTH2',
                access_token: b.access_token,
                ...(b.refresh_token ? { refresh_token: b.refresh_token } : {}),
                ...(expires_at ? { expires_at } : { no_expiration: true }),
                raw: b.raw ?? { access_token: b.access_token, refresh_token: b.refresh_token, expires_in: b.expires_in, expires_at: b.expires_at },
                ...(Object.keys(override).length ? { config_override: override } : {})
            };
        }
        case 'OAUTH2_CC': {
            if (!b.access_token) throw fail('missing_access_token');
            const expires_at = expiryOf(b, now);
            return {
                type: 'OAUTH2_CC',
                token: b.access_token,
                ...(expires_at ? { expires_at } : {}),
                client_id: b.oauth_client_id_override,
                client_secret: b.oauth_client_secret_override,
                raw: b.raw ?? { access_token: b.access_token }
            };
        }
        case 'OAUTH1':
            if (!b.oauth_token) throw fail('missing_oauth_token');
            if (!b.oauth_token_secret) throw fail('missing_oauth_token_secret');
            return { type: 'OAUTH1', oauth_token: b.oauth_token, oauth_token_secret: b.oauth_token_secret, raw: b.raw ?? {} };
        case 'BASIC':
            if (!b.username) throw fail('missing_basic_username');
            return { type: 'BASIC', username: b.username, password: b.password ?? '' };
        case 'API_KEY':
            if (!b.api_key) throw fail('missing_api_key');
            return { type: 'API_KEY', apiKey: b.api_key };
        case 'APP':
            if (b.app_id === undefined || b.app_id === '') throw fail('missing_app_id');
            if (b.installation_id === undefined || b.installation_id === '') throw fail('missing_installation_id');
            return { type: 'APP' };
        case 'NONE':
            return { type: 'NONE' };
        default:
            throw fail('unknown_oauth_type', { message: `Integrations of auth mode ${authMode} cannot be imported through POST /connection` });
    }
}

/**
 * The `POST /connections` body a legacy flat-body import stands for: the credentials are read from top-level
 * fields according to the integration's auth mode, with Nango's error code for each missing one.
 */
export function legacyImport(authMode: string, b: LegacyImportBody, now: Date): Record<string, unknown> {
    const credentials = credentialsFor(authMode, b, now);
    const connectionConfig =
        authMode === 'APP' ? { ...b.connection_config, installation_id: String(b.installation_id), app_id: String(b.app_id) } : b.connection_config;
    return {
        provider_config_key: b.provider_config_key,
        ...(b.connection_id ? { connection_id: b.connection_id } : {}),
        credentials,
        ...(b.metadata ? { metadata: b.metadata } : {}),
        ...(connectionConfig ? { connection_config: connectionConfig } : {})
    };
}
