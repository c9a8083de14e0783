import type { Db, Queryable } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Egress } from '../egress/egress.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { IntegrationStore, Integration } from '../integrations/store.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { ApiError, fail } from '../errors.ts';
import { TokenError, expiryOf, type TokenResponse } from '../oauth/token-request.ts';
import { clientCredentialsFor, tokenFailure, tokenGrant } from '../oauth/token-client.ts';
import { mintInstallationToken, GONE_REASONS } from '../app-auth/installation-token.ts';
import { DEFAULT_REFRESH_WINDOW_MS, inBackoff, isDue, isRefreshable } from './policy.ts';

export interface RefreshDeps {
    db: Db;
    log: Logger;
    egress: Egress;
    catalogue: Catalogue;
    connections: ConnectionStore;
    integrations: IntegrationStore;
    now?: () => number;
}

export type RefreshOutcome =
    | { kind: 'refreshed'; connection: Connection }
    | { kind: 'failed'; connection: Connection; error: { type: string; description: string } };

/**
 * Keeps OAuth credentials fresh with exactly one refresh in flight per connection across all instances:
 * in-process single flight, then a database lock, a re-read under the lock, and a compare-and-swap write.
 */
export class Refresher {
    private readonly deps: RefreshDeps;
    private readonly inflight = new Map<string, Promise<Connection>>();
    private readonly now: () => number;
    /**
     * Runs inside the transaction that stores each refresh outcome (auth webhooks queue there), under a
     * savepoint: its failure is logged and undone alone, never the new credentials (a rotated refresh token
     * must not be lost to a webhook problem).
     */
    onOutcome: ((q: Queryable, outcome: RefreshOutcome) => Promise<void>) | undefined;

    constructor(deps: RefreshDeps) {
        this.deps = deps;
        this.now = deps.now ?? Date.now;
    }

    private windowFor(def: ProviderDefinition | undefined): number {
        return def?.token_expiration_buffer !== undefined ? def.token_expiration_buffer * 1000 : DEFAULT_REFRESH_WINDOW_MS;
    }

    /** Returns the connection with usable credentials, refreshing when they expire soon or when forced. */
    async fresh(conn: Connection, opts: { force?: boolean } = {}): Promise<Connection> {
        const def = this.deps.catalogue.get(conn.provider);
        const due = opts.force ? isRefreshable(conn) : isDue(conn, this.now(), this.windowFor(def));
        if (!due) return conn;
        if (conn.credentials.type === 'OAUTH2' && !conn.credentials.refresh_token) return conn;
        const key = `${conn.uuid}:${opts.force ? 'force' : 'due'}`;
        let flight = this.inflight.get(key);
        if (!flight) {
            flight = this.refreshLocked(conn, opts.force ?? false).finally(() => this.inflight.delete(key));
            this.inflight.set(key, flight);
        }
        return flight;
    }

    private async refreshLocked(seen: Connection, force: boolean): Promise<Connection> {
        return this.deps.db.withLock(`switchboard:refresh:${seen.uuid}`, async () => {
            const current = await this.deps.connections.getByUuid(seen.uuid);
            if (!current) throw fail('unknown_connection');
            // Someone refreshed while we waited for the lock: their result is the fresh one.
            if (current.credentialsVersion !== seen.credentialsVersion) return current;
            const def = this.deps.catalogue.get(current.provider);
            if (!force && !isDue(current, this.now(), this.windowFor(def))) return current;
            if (inBackoff(current, this.now())) {
                throw fail('connection_refresh_backoff', { payload: { reason: current.refreshError } });
            }
            const integration = await this.integrationOf(current);
            try {
                const { credentials, extra } = await this.renew(current, integration, def);
                const swapped = await this.deps.connections.swapCredentials(
                    current.uuid,
                    current.credentialsVersion,
                    credentials,
                    extra,
                    this.hook((c) => ({ kind: 'refreshed', connection: c }))
                );
                this.deps.log.info({ connection: current.uuid, provider: current.provider }, 'credentials refreshed');
                return swapped ?? (await this.deps.connections.getByUuid(current.uuid))!;
            } catch (err) {
                return this.handleFailure(current, err);
            }
        });
    }

    private hook(outcome: (c: Connection) => RefreshOutcome): ((tx: Queryable, c: Connection) => Promise<void>) | undefined {
        const onOutcome = this.onOutcome;
        if (!onOutcome) return undefined;
        return async (tx, c) => {
            await tx.query('SAVEPOINT refresh_outcome');
            try {
                await onOutcome(tx, outcome(c));
                await tx.query('RELEASE SAVEPOINT refresh_outcome');
            } catch (err) {
                await tx.query('ROLLBACK TO SAVEPOINT refresh_outcome');
                this.deps.log.error({ err, connection: c.uuid }, 'refresh outcome hook failed');
            }
        };
    }

    private async integrationOf(c: Connection): Promise<Integration> {
        const integration = await this.deps.integrations.get(c.environmentId, c.providerConfigKey);
        if (!integration) throw fail('unknown_provider_config');
        return integration;
    }

    /** New credentials: an installation token minted with the app's key (APP), else an OAuth token request. */
    private async renew(
        c: Connection,
        integration: Integration,
        def: ProviderDefinition | undefined
    ): Promise<{ credentials: StoredCredentials; extra: Record<string, unknown> }> {
        if (c.credentials.type === 'APP') {
            if (!def) throw new TokenError('unknown_provider', `Provider "${c.provider}" is not in the catalogue`, 0);
            const credentials = await mintInstallationToken(
                this.deps.egress,
                def,
                this.deps.integrations.credentials(integration),
                c.connectionConfig,
                this.now()
            );
            return { credentials, extra: {} };
        }
        const tokens = await this.exchange(c, integration, def);
        return { credentials: merge(c.credentials, tokens, new Date(this.now())), extra: pick(tokens, def?.token_response_metadata ?? []) };
    }

    private async exchange(c: Connection, integration: Integration, def: ProviderDefinition | undefined): Promise<TokenResponse> {
        if (!def) throw new TokenError('unknown_provider', `Provider "${c.provider}" is not in the catalogue`, 0);
        const creds = c.credentials;
        if (creds.type === 'OAUTH2_CC') {
            return tokenGrant(
                this.deps.egress,
                def,
                c.connectionConfig,
                { type: 'client_credentials' },
                { clientId: creds.client_id, clientSecret: creds.client_secret }
            );
        }
        if (creds.type !== 'OAUTH2' || !creds.refresh_token) throw new TokenError('refresh_unavailable', 'The connection has no refresh token', 0);
        const { clientId, clientSecret } = clientCredentialsFor(this.deps.integrations.credentials(integration), creds.config_override);
        if (!clientId || !clientSecret) throw new TokenError('missing_client_credentials', 'The integration has no client id or secret', 0);
        return tokenGrant(this.deps.egress, def, c.connectionConfig, { type: 'refresh_token', refreshToken: creds.refresh_token }, { clientId, clientSecret });
    }

    private async handleFailure(current: Connection, err: unknown): Promise<Connection> {
        if (err instanceof ApiError && err.code !== 'upstream_unreachable' && err.code !== 'upstream_timeout') throw err;
        const tokenError = err instanceof TokenError ? err : undefined;
        // invalid_grant (OAuth) and an uninstalled GitHub App: the end user's grant is gone, not the app misconfigured.
        const gone = tokenError !== undefined && (tokenError.error === 'invalid_grant' || GONE_REASONS.has(tokenError.error));
        if (gone) {
            // A refresh by another path may have rotated the token under us; the stored state is the truth.
            const again = await this.deps.connections.getByUuid(current.uuid);
            if (again && again.credentialsVersion !== current.credentialsVersion) return again;
        }
        const error = tokenError
            ? { type: tokenError.error, description: tokenError.description }
            : { type: 'network_error', description: err instanceof Error ? err.message : String(err) };
        await this.deps.connections.recordRefreshFailure(
            current.uuid,
            error,
            gone ? 'expired' : undefined,
            this.hook((c) => ({ kind: 'failed', connection: c, error }))
        );
        await this.deps.connections.audit({
            environmentId: current.environmentId,
            connectionUuid: current.uuid,
            providerConfigKey: current.providerConfigKey,
            connectionId: current.connectionId,
            kind: 'refresh',
            outcome: 'failure',
            detail: error
        });
        this.deps.log.warn({ connection: current.uuid, provider: current.provider, error: error.type }, 'credentials refresh failed');
        throw tokenFailure(tokenError ?? new TokenError(error.type, error.description, 0), 'refresh');
    }

    /** One background pass: refreshes connections expiring within the window. Returns how many it tried. */
    async refreshExpiring(limit = 100): Promise<number> {
        const uuids = await this.deps.connections.listExpiring(new Date(this.now() + DEFAULT_REFRESH_WINDOW_MS), limit);
        for (const uuid of uuids) {
            const conn = await this.deps.connections.getByUuid(uuid);
            if (!conn) continue;
            await this.fresh(conn).catch((err: unknown) => this.deps.log.debug({ connection: uuid, err: (err as Error).message }, 'background refresh failed'));
        }
        return uuids.length;
    }
}

/** New credentials from a token response; keeps the old refresh token when the provider sent none. */
function merge(old: StoredCredentials, t: TokenResponse, now: Date): StoredCredentials {
    const expires_at = expiryOf(t, now);
    if (old.type === 'OAUTH2_CC') return { ...old, token: t.access_token, expires_at, raw: t };
    const previous = old.type === 'OAUTH2' ? old : undefined;
    return {
        type: 'OAUTH2',
        access_token: t.access_token,
        refresh_token: typeof t.refresh_token === 'string' && t.refresh_token ? t.refresh_token : previous?.refresh_token,
        expires_at,
        raw: t,
        config_override: previous?.config_override
    };
}

function pick(t: TokenResponse, keys: string[]): Record<string, unknown> {
    return Object.fromEntries(keys.filter((k) => t[k] !== undefined).map((k) => [k, t[k]]));
}
