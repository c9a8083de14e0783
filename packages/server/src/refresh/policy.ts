import type { Connection, ConnectionStatus } from '../connections/store.ts';

export const DEFAULT_REFRESH_WINDOW_MS = 15 * 60 * 1000;
export const REFRESH_BACKOFF_MS = 30 * 1000;

/**
 * Types whose credentials this broker renews itself (APP: a new installation token from the app's key;
 * TWO_STEP: the provider's token endpoint again; JWT: a newly signed token; BILL: a new login; AWS_SIGV4 with a
 * role: the role assumed again, a static key being left as it is). SIGNATURE is not
 * among them: its tokens are made locally, a new one for each use (Refresher.fresh), and never stored again.
 */
const REFRESHABLE = new Set(['OAUTH2', 'OAUTH2_CC', 'APP', 'TWO_STEP', 'JWT', 'BILL', 'AWS_SIGV4']);
export function isRefreshable(c: Pick<Connection, 'authType'>): boolean {
    return REFRESHABLE.has(c.authType);
}

/**
 * How long before its expiry a connection's credentials are renewed: the window (15 min, or the provider's
 * token_expiration_buffer), but, for credentials this broker renewed itself, never more than half their lifetime:
 * a token that lives 5 minutes (a JWT, a short TWO_STEP or OAuth token) would otherwise be "expiring" from birth and
 * renewed on every request. Credentials given to it (a flow's first token, an import) have an unknown age: the
 * whole window applies, as for any token.
 */
export function refreshWindow(c: Pick<Connection, 'expiresAt' | 'refreshedAt'>, windowMs = DEFAULT_REFRESH_WINDOW_MS): number {
    if (c.expiresAt === null || c.refreshedAt === null) return windowMs;
    const lifetime = c.expiresAt.getTime() - c.refreshedAt.getTime();
    return lifetime > 0 ? Math.min(windowMs, lifetime / 2) : windowMs;
}

/** Expires within its refresh window ({@link refreshWindow}). No expiry → never. */
export function isExpiring(c: Pick<Connection, 'expiresAt' | 'authType' | 'refreshedAt'>, now: number, windowMs = DEFAULT_REFRESH_WINDOW_MS): boolean {
    return isRefreshable(c) && c.expiresAt !== null && c.expiresAt.getTime() - now < refreshWindow(c, windowMs);
}

/** A failure in the last 30 s that no success has superseded. */
export function inBackoff(c: Pick<Connection, 'refreshFailedAt' | 'refreshedAt'>, now: number): boolean {
    if (!c.refreshFailedAt) return false;
    if (c.refreshedAt && c.refreshedAt > c.refreshFailedAt) return false;
    return now - c.refreshFailedAt.getTime() < REFRESH_BACKOFF_MS;
}

/** Due for renewal: expiring soon, or a client-credentials connection that has no token yet. */
export function isDue(
    c: Pick<Connection, 'expiresAt' | 'authType' | 'credentials' | 'refreshedAt'>,
    now: number,
    windowMs = DEFAULT_REFRESH_WINDOW_MS
): boolean {
    return isExpiring(c, now, windowMs) || (c.credentials.type === 'OAUTH2_CC' && !c.credentials.token);
}

// The provider's clock and ours differ, and a lifetime is counted from when we received the token.
const LIFETIME_SLACK_MS = 60 * 1000;

/**
 * What a refused grant (invalid_grant, or an uninstalled GitHub App) makes of a connection (docs/refresh.md,
 * "Revoked or expired"). `expired` when the refresh token is past the lifetime the provider announced, or the
 * provider says it expired and not that it was revoked; otherwise the grant was withdrawn while it still had
 * time to run: `revoked`.
 */
export function statusAfterRefusal(
    c: Pick<Connection, 'authType' | 'refreshExpiresAt'>,
    error: { type: string; description: string },
    now: number
): Exclude<ConnectionStatus, 'active'> {
    if (c.authType === 'APP') return 'revoked';
    if (c.refreshExpiresAt && now >= c.refreshExpiresAt.getTime() - LIFETIME_SLACK_MS) return 'expired';
    if (/expired/i.test(error.description) && !/revoked/i.test(error.description)) return 'expired';
    return 'revoked';
}
