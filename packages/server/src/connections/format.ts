import type { Connection, ConnectionSummary } from './store.ts';
import { withoutRefreshTokens, type StoredCredentials } from './credentials.ts';

// Nango's GET-one serialises timestamps as Postgres does: `+00:00` instead of `Z` (docs/compatibility.md, "Connections").
const pgIso = (d: Date | null) => (d ? d.toISOString().replace('Z', '+00:00') : null);

function endUserOf(c: ConnectionSummary) {
    const u = c.endUser;
    if (!u) return null;
    return {
        id: u.id,
        display_name: u.display_name ?? null,
        email: u.email ?? null,
        tags: u.tags ?? {},
        organization: u.organization ? { id: u.organization.id, display_name: u.organization.display_name ?? null } : null
    };
}

function errorsOf(c: ConnectionSummary) {
    return c.refreshError ? [{ type: 'auth', log_id: c.uuid }] : [];
}

/** ApiPublicConnection (list item; docs/compatibility.md, "Connections"). */
export function formatConnectionSummary(c: ConnectionSummary) {
    return {
        id: c.id,
        connection_id: c.connectionId,
        provider_config_key: c.providerConfigKey,
        provider: c.provider,
        errors: errorsOf(c),
        end_user: endUserOf(c),
        tags: c.tags,
        metadata: c.metadata,
        created: c.createdAt.toISOString(),
        status: c.status
    };
}

export function formatCredentials(creds: StoredCredentials): Record<string, unknown> {
    // TWO_STEP and JWT inputs are flat in Nango's credentials object, next to the token.
    if (creds.type === 'TWO_STEP' || creds.type === 'JWT') {
        const { inputs, ...rest } = creds;
        return { ...inputs, ...rest };
    }
    return { ...creds };
}

/** ApiPublicConnectionFull (GET one; docs/compatibility.md, "Connections"). Refresh tokens are stripped unless asked for. */
export function formatConnectionFull(c: Connection, opts: { includeRefreshToken: boolean; zulu?: boolean }) {
    const iso = opts.zulu ? (d: Date | null) => d?.toISOString() ?? null : pgIso;
    const strip = <T>(v: T): T => (opts.includeRefreshToken ? v : withoutRefreshTokens(v));
    return {
        id: c.id,
        connection_id: c.connectionId,
        provider_config_key: c.providerConfigKey,
        provider: c.provider,
        errors: errorsOf(c),
        end_user: endUserOf(c),
        tags: c.tags,
        metadata: c.metadata,
        connection_config: strip(c.connectionConfig),
        webhook_url_override: c.webhookUrlOverride,
        created_at: iso(c.createdAt),
        updated_at: iso(c.updatedAt),
        last_fetched_at: iso(c.lastFetchedAt),
        credentials: strip(formatCredentials(c.credentials)),
        status: c.status,
        refresh_error: c.refreshError
    };
}
