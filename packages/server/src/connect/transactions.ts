import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import type { Vault } from '../vault/vault.ts';

/** RFC 9700 §4.7.1: a state expires; ten minutes is enough to log in and consent. */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

/** What only the server may know about a flow in flight. */
export interface TransactionSecrets {
    /** PKCE code verifier (RFC 7636 §4.1); absent for providers with PKCE disabled and for OAuth 1.0a. */
    codeVerifier?: string | undefined;
    /** OAuth 1.0a request token and its secret (RFC 5849 §2.1). */
    requestToken?: string | undefined;
    requestTokenSecret?: string | undefined;
    /** Where the bounce through a callback on another host sends the browser next (the provider's authorization URL; it carries the state). */
    authorizationUrl?: string | undefined;
}

export interface OAuthTransaction {
    id: string;
    environmentId: number;
    integrationId: number;
    /** Null for a flow started with the environment's public key. */
    connectSessionId: number | null;
    authMode: 'OAUTH2' | 'OAUTH1' | 'APP';
    connectionId: string;
    connectionConfig: Record<string, unknown>;
    wsClientId: string | null;
    redirectUri: string;
    expectedIssuer: string | null;
    secrets: TransactionSecrets;
    expiresAt: Date;
}

interface Row {
    id: string;
    browser_hash: string;
    environment_id: number;
    integration_id: number;
    connect_session_id: number | null;
    auth_mode: 'OAUTH2' | 'OAUTH1' | 'APP';
    connection_id: string;
    connection_config: Record<string, unknown>;
    ws_client_id: string | null;
    redirect_uri: string;
    expected_issuer: string | null;
    secrets: string;
    expires_at: Date;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** 256 random bits, base64url: used for state, the browser binding and PKCE verifiers alike. */
export const randomToken = () => randomBytes(32).toString('base64url');
/** A fresh state and browser binding for one transaction. */
export const newKeys = () => ({ state: randomToken(), browserBinding: randomToken() });
/** Cookie carrying a transaction's browser binding; named by the state's hash so parallel flows do not collide. */
export const bindingCookieName = (stateHash: string) => `sb_oauth_${stateHash.slice(0, 24)}`;
const ownerOf = (id: string) => `oauth_transaction:${id}`;

/** What the bounce through a callback on another host needs: the cookie to set there and where to go next. */
export interface BoundStart {
    stateHash: string;
    browserBinding: string;
    redirectUri: string;
    authorizationUrl: string;
}

export type ConsumeResult =
    | { ok: true; transaction: OAuthTransaction }
    | { ok: false; reason: 'unknown_state' | 'expired' | 'wrong_browser'; transaction?: OAuthTransaction };

/**
 * Authorization transactions keyed by the hash of their state. Neither the state nor the browser binding is
 * stored in clear, so a database read cannot be replayed into a callback.
 */
export class OAuthTransactionStore {
    private readonly db: Db;
    private readonly vault: Vault;

    constructor(db: Db, vault: Vault) {
        this.db = db;
        this.vault = vault;
    }

    /**
     * Stores a new transaction under `state` (from newKeys(): OAuth 1.0a needs the state before the request
     * token exists) and the browser binding the caller sets as a cookie.
     */
    async create(
        t: Omit<OAuthTransaction, 'id' | 'expiresAt'>,
        keys: { state: string; browserBinding: string; startToken?: string | undefined },
        now = Date.now()
    ): Promise<OAuthTransaction> {
        const id = randomUUID();
        const { state, browserBinding, startToken } = keys;
        const expiresAt = new Date(now + TRANSACTION_TTL_MS);
        await this.db.query(
            `INSERT INTO oauth_transactions (id, state_hash, browser_hash, environment_id, integration_id, connect_session_id, auth_mode, connection_id,
                connection_config, ws_client_id, redirect_uri, expected_issuer, secrets, expires_at, start_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15)`,
            [
                id,
                sha256(state),
                sha256(browserBinding),
                t.environmentId,
                t.integrationId,
                t.connectSessionId,
                t.authMode,
                t.connectionId,
                JSON.stringify(t.connectionConfig),
                t.wsClientId,
                t.redirectUri,
                t.expectedIssuer,
                this.vault.encryptJson(t.secrets, ownerOf(id)),
                expiresAt,
                startToken ? sha256(startToken) : null
            ]
        );
        return { ...t, id, expiresAt };
    }

    /**
     * Binds a flow started with a start token to the browser that brings the token back to the callback's host
     * (issue #12 item 4): single use, whatever the outcome, and only before the transaction expires. The binding
     * is generated here, so the only browser holding it is the one this answer goes to; the state is revealed in
     * the same answer (the authorization URL), never before.
     */
    async bindStart(startToken: string, now = new Date()): Promise<BoundStart | undefined> {
        const browserBinding = randomToken();
        const [row] = await this.db.query<{ id: string; state_hash: string; redirect_uri: string; secrets: string }>(
            `UPDATE oauth_transactions SET start_hash = NULL, browser_hash = $2
             WHERE start_hash = $1 AND expires_at > $3
             RETURNING id, state_hash, redirect_uri, secrets`,
            [sha256(startToken), sha256(browserBinding), now]
        );
        if (!row) return undefined;
        const secrets = this.vault.decryptJson<TransactionSecrets>(row.secrets, ownerOf(row.id));
        if (!secrets.authorizationUrl) return undefined;
        return { stateHash: row.state_hash, browserBinding, redirectUri: row.redirect_uri, authorizationUrl: secrets.authorizationUrl };
    }

    /**
     * Deletes the transaction for `state` and returns it: a state is consumed by its first use, whatever the
     * outcome, so a replayed or raced callback never reaches the token endpoint (RFC 6749 §10.5).
     */
    async consume(state: string, browserBinding: string | undefined, now = new Date()): Promise<ConsumeResult> {
        const [row] = await this.db.query<Row>(
            `DELETE FROM oauth_transactions WHERE state_hash = $1
             RETURNING id, browser_hash, environment_id, integration_id, connect_session_id, auth_mode, connection_id, connection_config, ws_client_id,
                redirect_uri, expected_issuer, secrets, expires_at`,
            [sha256(state)]
        );
        if (!row) return { ok: false, reason: 'unknown_state' };
        const transaction: OAuthTransaction = {
            id: row.id,
            environmentId: row.environment_id,
            integrationId: row.integration_id,
            connectSessionId: row.connect_session_id,
            authMode: row.auth_mode,
            connectionId: row.connection_id,
            connectionConfig: row.connection_config ?? {},
            wsClientId: row.ws_client_id,
            redirectUri: row.redirect_uri,
            expectedIssuer: row.expected_issuer,
            secrets: this.vault.decryptJson<TransactionSecrets>(row.secrets, ownerOf(row.id)),
            expiresAt: row.expires_at
        };
        if (row.expires_at.getTime() <= now.getTime()) return { ok: false, reason: 'expired', transaction };
        if (!browserBinding || sha256(browserBinding) !== row.browser_hash) return { ok: false, reason: 'wrong_browser', transaction };
        return { ok: true, transaction };
    }

    async purgeExpired(now = new Date()): Promise<number> {
        const rows = await this.db.query<{ id: string }>('DELETE FROM oauth_transactions WHERE expires_at <= $1 RETURNING id', [now]);
        return rows.length;
    }
}
