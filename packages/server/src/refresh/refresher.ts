import type { Db, Queryable } from '../storage/db.ts';
import { renewTwoStep } from '../auth-modes/two-step.ts';
import { mintSignature } from '../auth-modes/signature.ts';
import { billLogin } from '../auth-modes/bill.ts';
import { assumeRole, roleSessionName, stsConfigOf } from '../auth-modes/aws-sts.ts';
import { mintJwt } from '../auth-modes/jwt.ts';
import { mcpProvider } from '../auth-modes/mcp-oauth2.ts';
import type { Logger } from '../log/logger.ts';
import type { Egress } from '../egress/egress.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { Connection, ConnectionStatus, ConnectionStore } from '../connections/store.ts';
import type { IntegrationStore, Integration } from '../integrations/store.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { ApiError, fail } from '../errors.ts';
import { TokenError, expiryOf, type TokenResponse } from '../oauth/token-request.ts';
import { clientCredentialsFor, tokenFailure, tokenGrant, tokenResponseMetadata } from '../oauth/token-client.ts';
import { mintInstallationToken, GONE_REASONS } from '../app-auth/installation-token.ts';
import { secondsSince, type Metrics } from '../metrics/metrics.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { DEFAULT_REFRESH_WINDOW_MS, inBackoff, isDue, isRefreshable, statusAfterRefusal } from './policy.ts';

export interface RefreshDeps {
    db: Db;
    log: Logger;
    egress: Egress;
    catalogue: Catalogue;
    connections: ConnectionStore;
    integrations: IntegrationStore;
    /** Records each refresh that asked the provider (issue #16 item 2). */
    metrics: Pick<Metrics, 'refreshes'>;
    /** Opens a span around each call to the provider, when tracing is on. */
    tracing?: Pick<Tracing, 'span'> | undefined;
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
        // SIGNATURE: a WSSE token is made from the stored secret without asking anyone, and its nonce is good for
        // one use: each caller gets a new one, and nothing is written.
        if (conn.credentials.type === 'SIGNATURE' && def) {
            const credentials = mintSignature(def, conn.credentials.username, conn.credentials.password, new Date(this.now()));
            return { ...conn, credentials, expiresAt: new Date(credentials.expires_at!) };
        }
        const due = opts.force ? isRefreshable(conn) : isDue(conn, this.now(), this.windowFor(def));
        if (!due) return conn;
        if (conn.credentials.type === 'OAUTH2' && !conn.credentials.refresh_token) return conn;
        if (conn.credentials.type === 'AWS_SIGV4' && !conn.credentials.role_arn) return conn;
        return this.flight(conn, opts.force ? 'force' : 'due');
    }

    /** One refresh per connection and purpose in this process; the lock makes it one across instances. */
    private flight(conn: Connection, purpose: 'force' | 'due' | 'unauthorized'): Promise<Connection> {
        const key = `${conn.uuid}:${purpose}`;
        let flight = this.inflight.get(key);
        if (!flight) {
            flight = this.refreshLocked(conn, purpose).finally(() => this.inflight.delete(key));
            this.inflight.set(key, flight);
        }
        return flight;
    }

    /**
     * The provider answered 401 to a call made with `used`'s credentials, which we believed valid. Returns the
     * connection with renewed credentials to try once more, or undefined when there is nothing better to try
     * (the 401 then goes back to the caller as it is). Throws when the connection is, or has just become,
     * `revoked` or `expired`: the caller gets that error instead of the provider's 401. However many calls get a
     * 401 at once, on however many instances, at most one token request is made (single flight, lock, re-read).
     */
    async rejected(used: Connection): Promise<Connection | undefined> {
        if (!isRefreshable(used)) return undefined;
        const creds = used.credentials;
        // A static AWS key has nothing to renew.
        if (creds.type === 'AWS_SIGV4' && !creds.role_arn) return undefined;
        if (creds.type === 'OAUTH2' && !creds.refresh_token) return this.rejectedWithoutRefreshToken(used);
        try {
            const fresh = await this.flight(used, 'unauthorized');
            return fresh.credentialsVersion !== used.credentialsVersion ? fresh : undefined;
        } catch (err) {
            // A refusal that withdrew the grant is the caller's answer; anything else (the client secret, the
            // network, a backoff) is recorded on the connection, and the provider's 401 goes back as it is.
            const now = await this.deps.connections.getByUuid(used.uuid);
            if (now && now.status !== 'active') throw err instanceof ApiError && err.code === 'refresh_token_external_error' ? err : unusable(now);
            if (err instanceof ApiError && (err.code === 'unknown_connection' || err.code === 'unknown_provider_config')) throw err;
            return undefined;
        }
    }

    /**
     * A 401 on a connection that cannot be refreshed: if its access token is past its known expiry, the
     * connection has `expired` (once: one webhook). Without a known expiry the 401 proves nothing about the
     * grant (the token may lack a scope), so nothing changes.
     */
    private async rejectedWithoutRefreshToken(used: Connection): Promise<Connection | undefined> {
        if (used.status !== 'active') throw unusable(used);
        if (!used.expiresAt || used.expiresAt.getTime() > this.now()) return undefined;
        const error = { type: 'refresh_token_missing', description: 'The access token expired and the connection has no refresh token' };
        const after = await this.deps.db.withLock(`switchboard:refresh:${used.uuid}`, async () => {
            const current = await this.deps.connections.getByUuid(used.uuid);
            if (!current || current.credentialsVersion !== used.credentialsVersion) return current;
            if (current.status !== 'active') return current;
            await this.recordFailure(current, error, 'expired', true);
            return this.deps.connections.getByUuid(used.uuid);
        });
        // New credentials arrived meanwhile (a reconnection): try those.
        if (after && after.credentialsVersion !== used.credentialsVersion) return after;
        throw unusable(after ?? { ...used, status: 'expired', refreshError: error });
    }

    private async refreshLocked(seen: Connection, purpose: 'force' | 'due' | 'unauthorized'): Promise<Connection> {
        const force = purpose !== 'due';
        return this.deps.db.withLock(`switchboard:refresh:${seen.uuid}`, async () => {
            const current = await this.deps.connections.getByUuid(seen.uuid);
            if (!current) throw fail('unknown_connection');
            // Someone refreshed while we waited for the lock: their result is the fresh one.
            if (current.credentialsVersion !== seen.credentialsVersion) return current;
            // A 401 on a connection already known to be revoked or expired: asking the provider again would only
            // hear the same refusal (and send the same webhook again). GET /connections?force_refresh=true still asks.
            if (purpose === 'unauthorized' && current.status !== 'active') throw unusable(current);
            const def = this.deps.catalogue.get(current.provider);
            if (!force && !isDue(current, this.now(), this.windowFor(def))) return current;
            if (inBackoff(current, this.now())) {
                throw fail('connection_refresh_backoff', { payload: { reason: current.refreshError } });
            }
            const integration = await this.integrationOf(current);
            const asked = performance.now();
            let observed = false;
            const observe = (outcome: string) => {
                if (!observed) this.deps.metrics.refreshes.observe({ provider: current.provider, outcome }, secondsSince(asked));
                observed = true;
            };
            try {
                const renew = () => this.renew(current, integration, def);
                const tracing = this.deps.tracing;
                const { credentials, extra } = tracing
                    ? await tracing.span('switchboard.refresh', { 'switchboard.provider': current.provider, 'switchboard.refresh.purpose': purpose }, renew)
                    : await renew();
                observe('success');
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
                return this.handleFailure(current, err, observe);
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
        if (c.credentials.type === 'TWO_STEP' || c.credentials.type === 'JWT') {
            if (!def) throw new TokenError('unknown_provider', `Provider "${c.provider}" is not in the catalogue`, 0);
            const now = new Date(this.now());
            const credentials =
                c.credentials.type === 'TWO_STEP'
                    ? await renewTwoStep(this.deps.egress, def, c.connectionConfig, c.credentials, now)
                    : await mintJwt(def, c.connectionConfig, c.credentials.inputs, now);
            return { credentials, extra: {} };
        }
        if (c.credentials.type === 'AWS_SIGV4' && c.credentials.role_arn) {
            const { role_arn, region, service } = c.credentials;
            const sts = stsConfigOf(this.deps.integrations, integration);
            return {
                credentials: await assumeRole(this.deps.egress, sts, { role_arn, region, service, session_name: roleSessionName(c.connectionId) }),
                extra: {}
            };
        }
        if (c.credentials.type === 'BILL') {
            if (!def) throw new TokenError('unknown_provider', `Provider "${c.provider}" is not in the catalogue`, 0);
            return { credentials: await billLogin(this.deps.egress, def, c.connectionConfig, c.credentials, new Date(this.now())), extra: {} };
        }
        const tokens = await this.exchange(c, integration, def);
        return {
            credentials: merge(c.credentials, tokens, new Date(this.now()), def?.expires_in_unit),
            extra: def ? tokenResponseMetadata(def, tokens) : {}
        };
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
        const stored = this.deps.integrations.credentials(integration);
        const { clientId, clientSecret } = clientCredentialsFor(stored, creds.config_override);
        // An MCP server's registered client may be a public one: an empty secret, client_id alone (RFC 6749 §3.2.1).
        const isPublic = stored?.type === 'MCP_OAUTH2' && clientSecret === '';
        if (!clientId || (!clientSecret && !isPublic)) throw new TokenError('missing_client_credentials', 'The integration has no client id or secret', 0);
        return tokenGrant(
            this.deps.egress,
            mcpProvider(def, stored),
            c.connectionConfig,
            { type: 'refresh_token', refreshToken: creds.refresh_token },
            { clientId, clientSecret: clientSecret ?? '' }
        );
    }

    private async handleFailure(current: Connection, err: unknown, observe: (outcome: string) => void): Promise<Connection> {
        if (err instanceof ApiError && err.code !== 'upstream_unreachable' && err.code !== 'upstream_timeout') {
            observe('failure');
            throw err;
        }
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
        const status = gone ? statusAfterRefusal(current, error, this.now()) : undefined;
        observe(status ?? 'failure');
        // A connection that already left `active` for this reason is not announced again.
        await this.recordFailure(current, error, status, !(status && current.status === status));
        this.deps.log.warn({ connection: current.uuid, provider: current.provider, error: error.type, status }, 'credentials refresh failed');
        const failure = tokenFailure(tokenError ?? new TokenError(error.type, error.description, 0), 'refresh');
        throw status ? unusable({ ...current, status, refreshError: error }, failure) : failure;
    }

    private async recordFailure(current: Connection, error: { type: string; description: string }, status: ConnectionStatus | undefined, notify: boolean) {
        await this.deps.connections.recordRefreshFailure(
            current.uuid,
            error,
            status,
            notify ? this.hook((c) => ({ kind: 'failed', connection: c, error })) : undefined
        );
        await this.deps.connections.audit({
            environmentId: current.environmentId,
            connectionUuid: current.uuid,
            providerConfigKey: current.providerConfigKey,
            connectionId: current.connectionId,
            kind: 'refresh',
            outcome: 'failure',
            detail: status ? { ...error, status } : error
        });
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

/**
 * The error a caller gets for a connection that left `active`: still Nango's `refresh_token_external_error`
 * (apps match on it), with a message that says what happened and what to do, and the status in the payload.
 */
function unusable(c: Pick<Connection, 'status' | 'refreshError'>, cause?: ApiError): ApiError {
    const reason = c.refreshError ? `${c.refreshError.type}${c.refreshError.description ? ` (${c.refreshError.description})` : ''}` : 'unknown';
    const what =
        c.status === 'revoked'
            ? 'the connection is revoked: access was withdrawn at the provider'
            : 'the connection is expired: its refresh token is missing or past its lifetime';
    return fail('refresh_token_external_error', {
        status: 400,
        message: `The provider refused to refresh the token: ${reason}; ${what}. The end user must reconnect.`,
        payload: { error: c.refreshError?.type, description: c.refreshError?.description, connection_status: c.status },
        cause
    });
}

/** New credentials from a token response; keeps the old refresh token when the provider sent none. */
function merge(old: StoredCredentials, t: TokenResponse, now: Date, unit: 'milliseconds' | undefined): StoredCredentials {
    const expires_at = expiryOf(t, now, unit);
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
