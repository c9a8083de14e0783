import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../storage/db.ts';
import { cacheKey, type ReadCache } from '../storage/read-cache.ts';
import { encryptedColumn, reencryptColumn } from '../vault/rotate.ts';
import type { Vault } from '../vault/vault.ts';
import { expiresAtOf, type StoredCredentials } from './credentials.ts';
import type { EndUser } from './schemas.ts';

export type ConnectionStatus = 'active' | 'expired' | 'revoked';

export interface Connection {
    id: number;
    uuid: string;
    environmentId: number;
    integrationId: number;
    providerConfigKey: string;
    provider: string;
    connectionId: string;
    authType: StoredCredentials['type'];
    credentials: StoredCredentials;
    credentialsVersion: number;
    expiresAt: Date | null;
    connectionConfig: Record<string, unknown>;
    metadata: Record<string, unknown> | null;
    endUser: EndUser | null;
    tags: Record<string, string>;
    webhookUrlOverride: string | null;
    status: ConnectionStatus;
    lastFetchedAt: Date | null;
    refreshedAt: Date | null;
    refreshFailedAt: Date | null;
    refreshError: { type: string; description: string } | null;
    /** When the refresh token stops working, if the provider said (see refreshExpiresAtOf); null when unknown. */
    refreshExpiresAt?: Date | null;
    createdAt: Date;
    updatedAt: Date;
}

export type ConnectionSummary = Omit<Connection, 'credentials' | 'authType' | 'credentialsVersion'>;

interface Row {
    id: number;
    uuid: string;
    environment_id: number;
    integration_id: number;
    unique_key: string;
    provider: string;
    connection_id: string;
    auth_type: StoredCredentials['type'];
    credentials?: string;
    credentials_version: number;
    expires_at: Date | null;
    connection_config: Record<string, unknown>;
    metadata: Record<string, unknown> | null;
    end_user: EndUser | null;
    tags: Record<string, string>;
    webhook_url_override: string | null;
    status: ConnectionStatus;
    last_fetched_at: Date | null;
    refreshed_at: Date | null;
    refresh_failed_at: Date | null;
    refresh_error: { type: string; description: string } | null;
    refresh_expires_at: Date | null;
    created_at: Date;
    updated_at: Date;
}

const summaryColumns = `c.id, c.uuid, c.environment_id, c.integration_id, i.unique_key, i.provider, c.connection_id, c.auth_type, c.credentials_version,
    c.expires_at, c.connection_config, c.metadata, c.end_user, c.tags, c.webhook_url_override, c.status, c.last_fetched_at, c.refreshed_at,
    c.refresh_failed_at, c.refresh_error, c.refresh_expires_at, c.created_at, c.updated_at`;
const fullColumns = `${summaryColumns}, c.credentials`;
const from = 'connections c JOIN integrations i ON i.id = c.integration_id';

const ownerOf = (uuid: string) => `connection:${uuid}`;
/** Read-cache tags: one connection, and every connection with this id in an environment. */
const connTag = (uuid: string) => cacheKey('conn', uuid);
const cidTag = (environmentId: number, connectionId: string) => cacheKey('cid', environmentId, connectionId);

export interface ListFilters {
    connectionId?: string | undefined;
    search?: string | undefined;
    endUserId?: string | undefined;
    endUserOrganizationId?: string | undefined;
    integrationIds?: string[] | undefined;
    tags?: Record<string, string> | undefined;
    /** The dashboard's filter (docs/dashboard.md); the API's list has none. */
    status?: ConnectionStatus | undefined;
    /** Connections with a failed last refresh only. */
    failing?: boolean | undefined;
    limit: number;
    page: number;
}

export interface NewConnection {
    connectionId: string;
    credentials: StoredCredentials;
    connectionConfig?: Record<string, unknown> | undefined;
    metadata?: Record<string, unknown> | undefined;
    endUser?: EndUser | undefined;
    tags?: Record<string, string> | undefined;
    webhookUrlOverride?: string | undefined;
}

/** Token-response fields that give the refresh token's lifetime in seconds (GitHub and Google; Intuit; Keycloak, where 0 means none). */
const REFRESH_LIFETIME_FIELDS = ['refresh_token_expires_in', 'x_refresh_token_expires_in', 'refresh_expires_in'];

/**
 * When the refresh token of freshly obtained OAuth 2 credentials stops working, if the token response said so;
 * counted from now, since the response was just received. Null when the provider gave no lifetime.
 */
export function refreshExpiresAtOf(c: StoredCredentials, now = Date.now()): Date | null {
    if (c.type !== 'OAUTH2' || !c.refresh_token || !c.raw || typeof c.raw !== 'object') return null;
    const raw = c.raw as Record<string, unknown>;
    for (const field of REFRESH_LIFETIME_FIELDS) {
        const seconds = Number(raw[field]);
        if (Number.isFinite(seconds) && seconds > 0) return new Date(now + seconds * 1000);
    }
    return null;
}

/** Connections and their credentials; credentials are vault ciphertexts bound to the connection's uuid. */
export class ConnectionStore {
    private readonly db: Db;
    private readonly vault: Vault;
    private readonly cache: ReadCache<unknown> | undefined;

    /** With a cache, get() is served from memory and every write invalidates across instances. */
    constructor(db: Db, vault: Vault, cache?: ReadCache<unknown>) {
        this.db = db;
        this.vault = vault;
        this.cache = cache;
    }

    private async changed(...tags: string[]): Promise<void> {
        if (this.cache) for (const t of tags) await this.cache.invalidate(t);
    }

    private summary(r: Row): ConnectionSummary {
        return {
            id: r.id,
            uuid: r.uuid,
            environmentId: r.environment_id,
            integrationId: r.integration_id,
            providerConfigKey: r.unique_key,
            provider: r.provider,
            connectionId: r.connection_id,
            expiresAt: r.expires_at,
            connectionConfig: r.connection_config ?? {},
            metadata: r.metadata,
            endUser: r.end_user,
            tags: r.tags ?? {},
            webhookUrlOverride: r.webhook_url_override,
            status: r.status,
            lastFetchedAt: r.last_fetched_at,
            refreshedAt: r.refreshed_at,
            refreshFailedAt: r.refresh_failed_at,
            refreshError: r.refresh_error,
            refreshExpiresAt: r.refresh_expires_at,
            createdAt: r.created_at,
            updatedAt: r.updated_at
        };
    }

    private full(r: Row): Connection {
        const credentials = this.vault.decryptJson(r.credentials!, ownerOf(r.uuid)) as StoredCredentials;
        return { ...this.summary(r), authType: r.auth_type, credentials, credentialsVersion: r.credentials_version };
    }

    async get(environmentId: number, providerConfigKey: string, connectionId: string): Promise<Connection | undefined> {
        const key = cacheKey('conn', environmentId, providerConfigKey, connectionId);
        const hit = this.cache?.get(key) as Connection | undefined;
        // The key is unambiguous; checking the row against the question as well means no key bug can hand out another connection.
        if (hit && hit.environmentId === environmentId && hit.providerConfigKey === providerConfigKey && hit.connectionId === connectionId) return hit;
        const generation = this.cache?.generation ?? 0;
        const [row] = await this.db.query<Row>(
            `SELECT ${fullColumns} FROM ${from} WHERE c.environment_id = $1 AND i.unique_key = $2 AND c.connection_id = $3`,
            [environmentId, providerConfigKey, connectionId]
        );
        const conn = row && this.full(row);
        if (conn) this.cache?.set(key, conn, [connTag(conn.uuid), cacheKey('int', conn.integrationId), cidTag(environmentId, connectionId)], generation);
        return conn;
    }

    async getById(id: number, q: Queryable = this.db): Promise<Connection | undefined> {
        const [row] = await q.query<Row>(`SELECT ${fullColumns} FROM ${from} WHERE c.id = $1`, [id]);
        return row && this.full(row);
    }

    /** getById for many (a sync worker's batch): one round trip; the ones gone are left out. */
    async getByIds(ids: number[], q: Queryable = this.db): Promise<Connection[]> {
        if (ids.length === 0) return [];
        const rows = await q.query<Row>(`SELECT ${fullColumns} FROM ${from} WHERE c.id = ANY($1::int[])`, [ids]);
        return rows.map((r) => this.full(r));
    }

    async getByUuid(uuid: string, q: Queryable = this.db): Promise<Connection | undefined> {
        const [row] = await q.query<Row>(`SELECT ${fullColumns} FROM ${from} WHERE c.uuid = $1`, [uuid]);
        return row && this.full(row);
    }

    async list(environmentId: number, f: ListFilters): Promise<ConnectionSummary[]> {
        const where = ['c.environment_id = $1'];
        const params: unknown[] = [environmentId];
        const add = (sql: (p: string) => string, value: unknown) => {
            params.push(value);
            where.push(sql(`$${params.length}`));
        };
        if (f.connectionId) add((p) => `c.connection_id = ${p}`, f.connectionId);
        if (f.search) add((p) => `c.connection_id ILIKE ${p}`, `%${f.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
        if (f.endUserId) add((p) => `c.end_user_id = ${p}`, f.endUserId);
        if (f.endUserOrganizationId) add((p) => `c.end_user->'organization'->>'id' = ${p}`, f.endUserOrganizationId);
        if (f.integrationIds?.length) add((p) => `i.unique_key = ANY(${p}::text[])`, f.integrationIds);
        if (f.tags && Object.keys(f.tags).length) add((p) => `c.tags @> ${p}::jsonb`, JSON.stringify(f.tags));
        if (f.status) add((p) => `c.status = ${p}`, f.status);
        if (f.failing) where.push('c.refresh_error IS NOT NULL');
        params.push(f.limit, f.page * f.limit);
        const rows = await this.db.query<Row>(
            `SELECT ${summaryColumns} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
            params
        );
        return rows.map((r) => this.summary(r));
    }

    /** How many connections each integration of the environment has (integration id → count). */
    async countByIntegration(environmentId: number): Promise<Map<number, number>> {
        const rows = await this.db.query<{ integration_id: number; n: number }>(
            'SELECT integration_id, count(*)::int AS n FROM connections WHERE environment_id = $1 GROUP BY integration_id',
            [environmentId]
        );
        return new Map(rows.map((r) => [r.integration_id, r.n]));
    }

    /**
     * Connections of an integration whose connection_config holds `value` at `path`, either nested or under the
     * dotted key (providers' token metadata is stored as e.g. "team.id"). Routes inbound provider webhooks.
     */
    async findByConfig(integrationId: number, path: string[], value: string): Promise<ConnectionSummary[]> {
        const rows = await this.db.query<Row>(
            `SELECT ${summaryColumns} FROM ${from} WHERE c.integration_id = $1 AND (c.connection_config->>$2 = $4 OR c.connection_config #>> $3::text[] = $4) ORDER BY c.id LIMIT 100`,
            [integrationId, path.join('.'), path, value]
        );
        return rows.map((r) => this.summary(r));
    }

    /**
     * Inserts, or overrides the credentials of an existing connection with the same id. `inTx` runs inside the
     * same transaction with the result (e.g. to queue the `auth` webhook with enqueueAuth); if it throws, nothing
     * is written. Query only through `tx` there: PGlite would wait on itself otherwise. Keep this signature stable:
     *
     *   upsert(integrationId, environmentId, input, inTx?: (tx: Queryable, result: { connection: Connection; created: boolean }) => Promise<void>)
     */
    async upsert(
        integrationId: number,
        environmentId: number,
        input: NewConnection,
        inTx?: (tx: Queryable, result: { connection: Connection; created: boolean }) => Promise<void>
    ): Promise<{ connection: Connection; created: boolean }> {
        return this.db
            .transaction(async (tx) => {
                const [existing] = await tx.query<{ uuid: string }>(
                    'SELECT uuid FROM connections WHERE integration_id = $1 AND connection_id = $2 FOR UPDATE',
                    [integrationId, input.connectionId]
                );
                const uuid = existing?.uuid ?? randomUUID();
                const ct = this.vault.encryptJson(input.credentials, ownerOf(uuid));
                const values = [
                    input.credentials.type,
                    ct,
                    expiresAtOf(input.credentials),
                    JSON.stringify(input.connectionConfig ?? {}),
                    input.metadata === undefined ? null : JSON.stringify(input.metadata),
                    input.endUser?.id ?? null,
                    input.endUser ? JSON.stringify(input.endUser) : null,
                    JSON.stringify(input.tags ?? {}),
                    input.webhookUrlOverride || null,
                    refreshExpiresAtOf(input.credentials)
                ];
                if (existing) {
                    await tx.query(
                        `UPDATE connections SET auth_type = $2, credentials = $3, expires_at = $4, connection_config = connection_config || $5::jsonb,
                        metadata = COALESCE($6::jsonb, metadata), end_user_id = COALESCE($7, end_user_id), end_user = COALESCE($8::jsonb, end_user),
                        tags = tags || $9::jsonb, webhook_url_override = COALESCE($10, webhook_url_override), credentials_version = credentials_version + 1,
                        status = 'active', refresh_failed_at = NULL, refresh_error = NULL, refresh_expires_at = $11, updated_at = now()
                     WHERE uuid = $1`,
                        [uuid, ...values]
                    );
                } else {
                    await tx.query(
                        `INSERT INTO connections (uuid, environment_id, integration_id, connection_id, auth_type, credentials, expires_at, connection_config, metadata,
                        end_user_id, end_user, tags, webhook_url_override, refresh_expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11::jsonb, $12::jsonb, $13, $14)`,
                        [uuid, environmentId, integrationId, input.connectionId, ...values]
                    );
                }
                const result = { connection: (await this.getByUuid(uuid, tx))!, created: !existing };
                if (inTx) await inTx(tx, result);
                return result;
            })
            .then(async (out) => {
                await this.changed(connTag(out.connection.uuid));
                return out;
            });
    }

    /**
     * Replaces the credentials only if nobody else did since `expectedVersion` was read (compare-and-swap).
     * Returns the new connection, or undefined when the swap lost. `inTx` runs in the same transaction, so the
     * event it records (the refresh webhook) exists exactly when the new credentials do.
     */
    async swapCredentials(
        uuid: string,
        expectedVersion: number,
        credentials: StoredCredentials,
        extra: Record<string, unknown> = {},
        inTx?: (tx: Queryable, connection: Connection) => Promise<void>
    ): Promise<Connection | undefined> {
        const ct = this.vault.encryptJson(credentials, ownerOf(uuid));
        const swapped = await this.db.transaction(async (tx) => {
            const [row] = await tx.query<{ uuid: string }>(
                `UPDATE connections SET credentials = $3, expires_at = $4, credentials_version = credentials_version + 1, refreshed_at = now(),
                    refresh_failed_at = NULL, refresh_error = NULL, status = 'active', connection_config = connection_config || $5::jsonb,
                    refresh_expires_at = COALESCE($6, refresh_expires_at), updated_at = now()
                 WHERE uuid = $1 AND credentials_version = $2 RETURNING uuid`,
                [uuid, expectedVersion, ct, expiresAtOf(credentials), JSON.stringify(extra), refreshExpiresAtOf(credentials)]
            );
            if (!row) return undefined;
            const connection = (await this.getByUuid(uuid, tx))!;
            await inTx?.(tx, connection);
            return connection;
        });
        if (swapped) await this.changed(connTag(uuid));
        return swapped;
    }

    /** Records a refused refresh; `inTx` runs in the same transaction (the failure webhook). */
    async recordRefreshFailure(
        uuid: string,
        error: { type: string; description: string },
        status: ConnectionStatus | undefined,
        inTx?: (tx: Queryable, connection: Connection) => Promise<void>
    ): Promise<Connection | undefined> {
        const after = await this.db.transaction(async (tx) => {
            await tx.query(
                `UPDATE connections SET refresh_failed_at = now(), refresh_error = $2::jsonb, status = COALESCE($3, status), updated_at = now() WHERE uuid = $1`,
                [uuid, JSON.stringify(error), status ?? null]
            );
            const connection = await this.getByUuid(uuid, tx);
            if (connection) await inTx?.(tx, connection);
            return connection;
        });
        await this.changed(connTag(uuid));
        return after;
    }

    async touchFetched(uuid: string): Promise<void> {
        await this.db.query('UPDATE connections SET last_fetched_at = now() WHERE uuid = $1', [uuid]);
    }

    async patch(
        uuid: string,
        p: { endUser?: EndUser | undefined; tags?: Record<string, string> | undefined; webhookUrlOverride?: string | undefined }
    ): Promise<void> {
        await this.db.query(
            `UPDATE connections SET end_user_id = CASE WHEN $2::jsonb IS NULL THEN end_user_id ELSE $2::jsonb->>'id' END, end_user = COALESCE($2::jsonb, end_user),
                tags = COALESCE($3::jsonb, tags), webhook_url_override = CASE WHEN $4::text IS NULL THEN webhook_url_override ELSE NULLIF($4::text, '') END,
                updated_at = now()
             WHERE uuid = $1`,
            [uuid, p.endUser ? JSON.stringify(p.endUser) : null, p.tags ? JSON.stringify(p.tags) : null, p.webhookUrlOverride ?? null]
        );
        await this.changed(connTag(uuid));
    }

    /** Sets (or shallow-merges) metadata on every listed connection, or on none if one is missing. */
    async setMetadata(
        environmentId: number,
        providerConfigKey: string,
        connectionIds: string[],
        metadata: Record<string, unknown>,
        merge: boolean
    ): Promise<string[]> {
        return this.db
            .transaction(async (tx) => {
                const rows = await tx.query<{ connection_id: string }>(
                    `SELECT c.connection_id FROM ${from} WHERE c.environment_id = $1 AND i.unique_key = $2 AND c.connection_id = ANY($3::text[]) FOR UPDATE OF c`,
                    [environmentId, providerConfigKey, connectionIds]
                );
                const found = new Set(rows.map((r) => r.connection_id));
                const missing = connectionIds.filter((id) => !found.has(id));
                if (missing.length) return missing;
                await tx.query(
                    `UPDATE connections c SET metadata = ${merge ? "COALESCE(c.metadata, '{}'::jsonb) || $4::jsonb" : '$4::jsonb'}, updated_at = now()
                 FROM integrations i WHERE i.id = c.integration_id AND c.environment_id = $1 AND i.unique_key = $2 AND c.connection_id = ANY($3::text[])`,
                    [environmentId, providerConfigKey, connectionIds, JSON.stringify(metadata)]
                );
                return [];
            })
            .then(async (missing) => {
                if (!missing.length) await this.changed(...connectionIds.map((id) => cidTag(environmentId, id)));
                return missing;
            });
    }

    /** Deletes the connection; `inTx` runs in the same transaction (the `deletion` webhook is queued there). */
    async delete(uuid: string, inTx?: (tx: Queryable) => Promise<void>): Promise<void> {
        await this.db.transaction(async (tx) => {
            await tx.query('DELETE FROM connections WHERE uuid = $1', [uuid]);
            if (inTx) await inTx(tx);
        });
        await this.changed(connTag(uuid));
    }

    /** OAuth connections that expire before `before` and are not in refresh backoff, oldest expiry first. */
    async listExpiring(before: Date, limit: number): Promise<string[]> {
        const rows = await this.db.query<{ uuid: string }>(
            `SELECT uuid FROM connections WHERE expires_at IS NOT NULL AND expires_at < $1 AND status = 'active'
               AND auth_type IN ('OAUTH2', 'OAUTH2_CC') AND (refresh_failed_at IS NULL OR refresh_failed_at < now() - interval '30 seconds')
               -- refresh/policy.ts refreshWindow: a token renewed here is not due before half its lifetime
               AND (refreshed_at IS NULL OR refreshed_at >= expires_at OR expires_at - now() < (expires_at - refreshed_at) / 2)
             ORDER BY expires_at LIMIT $2`,
            [before, limit]
        );
        return rows.map((r) => r.uuid);
    }

    /** Re-encrypts every credential under the vault's current key (key rotation); each row by compare-and-swap. */
    async reencryptAll(failed: string[] = []): Promise<number> {
        const n = await reencryptColumn(this.db, this.vault, encryptedColumn('connections', 'credentials'), ownerOf, failed);
        await this.changed('*');
        return n;
    }

    /** One row of the audit trail (GET /admin/audit); `connectionUuid` is null for a connection that was never stored. */
    async audit(e: {
        environmentId: number;
        connectionUuid: string | null;
        providerConfigKey: string;
        connectionId: string;
        kind: string;
        outcome: string;
        detail?: unknown;
    }): Promise<void> {
        await this.db.query(
            'INSERT INTO audit_events (environment_id, connection_uuid, provider_config_key, connection_id, kind, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)',
            [
                e.environmentId,
                e.connectionUuid,
                e.providerConfigKey,
                e.connectionId,
                e.kind,
                e.outcome,
                e.detail === undefined ? null : JSON.stringify(e.detail)
            ]
        );
    }
}
