// What a refused grant makes of a connection (issue #12 item 6; docs/refresh.md, "Revoked or expired").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statusAfterRefusal } from '../src/refresh/policy.ts';
import { refreshExpiresAtOf } from '../src/connections/store.ts';

const now = Date.parse('2026-12-03T12:00:00Z');
const grant = (description = '') => ({ type: 'invalid_grant', description });

describe('revoked or expired', () => {
    it('a refused grant with time left on its refresh token, or no known lifetime, is revoked', () => {
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2', refreshExpiresAt: null }, grant(), now), 'revoked');
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2', refreshExpiresAt: new Date(now + 86_400_000) }, grant(), now), 'revoked');
        // Google's wording names both: nothing says which, so the grant counts as withdrawn.
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2' }, grant('Token has been expired or revoked.'), now), 'revoked');
    });

    it('a refresh token past its announced lifetime (one minute of slack), or a provider saying it expired, is expired', () => {
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2', refreshExpiresAt: new Date(now - 1) }, grant(), now), 'expired');
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2', refreshExpiresAt: new Date(now + 30_000) }, grant(), now), 'expired');
        assert.equal(statusAfterRefusal({ authType: 'OAUTH2' }, grant('AADSTS700082: The refresh token has expired due to inactivity.'), now), 'expired');
    });

    it('an uninstalled GitHub App is revoked', () => {
        assert.equal(statusAfterRefusal({ authType: 'APP' }, { type: 'installation_not_found', description: 'Not Found' }, now), 'revoked');
    });

    it('the lifetime comes from the token response fields providers use, counted from now', () => {
        const at = (raw: Record<string, unknown>, withRefreshToken = true) =>
            refreshExpiresAtOf({ type: 'OAUTH2', access_token: 'at', refresh_token: withRefreshToken ? 'rt' : undefined, raw }, now)?.toISOString() ?? null;
        assert.equal(at({ refresh_token_expires_in: 60 }), '2026-12-03T12:01:00.000Z');
        assert.equal(at({ x_refresh_token_expires_in: '3600' }), '2026-12-03T13:00:00.000Z');
        assert.equal(at({ refresh_expires_in: 0 }), null, 'Keycloak: 0 is an offline token without expiry');
        assert.equal(at({ expires_in: 3600 }), null);
        assert.equal(at({ refresh_token_expires_in: 60 }, false), null, 'no refresh token, no refresh lifetime');
    });
});
