import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../storage/db.ts';
import { ALL, cacheKey, type ReadCache } from '../storage/read-cache.ts';
import { encryptedColumn, reencryptColumn } from '../vault/rotate.ts';
import type { Vault } from '../vault/vault.ts';
import type { IntegrationCredentials, StoredIntegrationCredentials } from './schemas.ts';

export interface Integration {
    id: number;
    uuid: string;
    environmentId: number;
    uniqueKey: string;
    provider: string;
    displayName: string | null;
    forwardWebhooks: boolean;
    integrationConfig: Record<string, string>;
    custom: Record<string, string> | null;
    createdAt: Date;
    updatedAt: Date;
    /** Vault ciphertext bound to `uuid`; read through IntegrationStore.credentials(). */
    credentialsCiphertext: string | null;
}

interface Row {
    id: number;
    uuid: string;
    environment_id: number;
    unique_key: string;
    provider: string;
    display_name: string | null;
    credentials: string | null;
    forward_webhooks: boolean;
    integration_config: Record<string, string>;
    custom: Record<string, string> | null;
    created_at: Date;
    updated_at: Date;
}

export const integrationColumns =
    'id, uuid, environment_id, unique_key, provider, display_name, credentials, forward_webhooks, integration_config, custom, created_at, updated_at';

export function toIntegration(r: Row): Integration {
    return {
        id: r.id,
        uuid: r.uuid,
        environmentId: r.environment_id,
        uniqueKey: r.unique_key,
        provider: r.provider,
        displayName: r.display_name,
        forwardWebhooks: r.forward_webhooks,
        integrationConfig: r.integration_config ?? {},
        custom: r.custom,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        credentialsCiphertext: r.credentials
    };
}

export interface IntegrationInput {
    uniqueKey: string;
    provider: string;
    displayName?: string | undefined;
    forwardWebhooks?: boolean | undefined;
    integrationConfig?: Record<string, string> | undefined;
    custom?: Record<string, string> | undefined;
    credentials?: IntegrationCredentials | undefined;
}

const ownerOf = (uuid: string) => `integration:${uuid}`;

/** Integrations of an environment; client secrets live only as vault ciphertexts bound to the row. */
export class IntegrationStore {
    private readonly db: Db;
    private readonly vault: Vault;
    private readonly cache: ReadCache<unknown> | undefined;

    /** With a cache, get() is served from memory; updates and deletes invalidate it (and the integration's connections) everywhere. */
    constructor(db: Db, vault: Vault, cache?: ReadCache<unknown>) {
        this.db = db;
        this.vault = vault;
        this.cache = cache;
    }

    credentials(integration: Integration): StoredIntegrationCredentials | null {
        if (!integration.credentialsCiphertext) return null;
        return this.vault.decryptJson(integration.credentialsCiphertext, ownerOf(integration.uuid)) as StoredIntegrationCredentials;
    }

    /**
     * Replaces the credentials only if they are still those `existing` was read with (compare-and-swap on the
     * ciphertext): two first connects that each registered an MCP client keep one of the two. The updated row, or
     * undefined when another writer came first.
     */
    async swapCredentials(existing: Integration, credentials: StoredIntegrationCredentials): Promise<Integration | undefined> {
        const ct = this.vault.encryptJson(credentials, ownerOf(existing.uuid));
        const [row] = await this.db.query<Row>(
            `UPDATE integrations SET credentials = $3, updated_at = now()
             WHERE id = $1 AND credentials IS NOT DISTINCT FROM $2 RETURNING ${integrationColumns}`,
            [existing.id, existing.credentialsCiphertext, ct]
        );
        await this.cache?.invalidate(cacheKey('int', existing.id));
        return row && toIntegration(row);
    }

    async get(environmentId: number, uniqueKey: string, q: Queryable = this.db): Promise<Integration | undefined> {
        const key = cacheKey('int', environmentId, uniqueKey);
        const cached = q === this.db ? (this.cache?.get(key) as Integration | undefined) : undefined;
        if (cached && cached.environmentId === environmentId && cached.uniqueKey === uniqueKey) return cached;
        const generation = this.cache?.generation ?? 0;
        const [row] = await q.query<Row>(`SELECT ${integrationColumns} FROM integrations WHERE environment_id = $1 AND unique_key = $2`, [
            environmentId,
            uniqueKey
        ]);
        const integration = row && toIntegration(row);
        if (integration && q === this.db) this.cache?.set(key, integration, [cacheKey('int', integration.id)], generation);
        return integration;
    }

    /** By row id: flows in flight hold the id, so a renamed unique key does not lose them. */
    async getById(id: number): Promise<Integration | undefined> {
        const [row] = await this.db.query<Row>(`SELECT ${integrationColumns} FROM integrations WHERE id = $1`, [id]);
        return row && toIntegration(row);
    }

    async list(environmentId: number): Promise<Integration[]> {
        const rows = await this.db.query<Row>(`SELECT ${integrationColumns} FROM integrations WHERE environment_id = $1 ORDER BY id`, [environmentId]);
        return rows.map(toIntegration);
    }

    /** Returns undefined when the unique key is taken. */
    async create(environmentId: number, input: IntegrationInput, q: Queryable = this.db): Promise<Integration | undefined> {
        const uuid = randomUUID();
        const ct = input.credentials ? this.vault.encryptJson(input.credentials, ownerOf(uuid)) : null;
        const [row] = await q.query<Row>(
            `INSERT INTO integrations (uuid, environment_id, unique_key, provider, display_name, credentials, forward_webhooks, integration_config, custom)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
             ON CONFLICT (environment_id, unique_key) DO NOTHING
             RETURNING ${integrationColumns}`,
            [
                uuid,
                environmentId,
                input.uniqueKey,
                input.provider,
                input.displayName ?? null,
                ct,
                input.forwardWebhooks ?? true,
                JSON.stringify(input.integrationConfig ?? {}),
                input.custom ? JSON.stringify(input.custom) : null
            ]
        );
        return row && toIntegration(row);
    }

    /** Applies a partial update; returns 'conflict' when renaming onto an existing key. */
    async update(existing: Integration, patch: Partial<IntegrationInput>): Promise<Integration | 'conflict'> {
        const ct = patch.credentials ? this.vault.encryptJson(patch.credentials, ownerOf(existing.uuid)) : existing.credentialsCiphertext;
        try {
            const [row] = await this.db.query<Row>(
                `UPDATE integrations SET unique_key = $2, display_name = $3, credentials = $4, forward_webhooks = $5,
                    integration_config = $6::jsonb, custom = $7::jsonb, updated_at = now()
                 WHERE id = $1 RETURNING ${integrationColumns}`,
                [
                    existing.id,
                    patch.uniqueKey ?? existing.uniqueKey,
                    patch.displayName ?? existing.displayName,
                    ct,
                    patch.forwardWebhooks ?? existing.forwardWebhooks,
                    JSON.stringify(patch.integrationConfig ?? existing.integrationConfig),
                    JSON.stringify(patch.custom ?? existing.custom)
                ]
            );
            await this.cache?.invalidate(cacheKey('int', existing.id));
            return toIntegration(row!);
        } catch (err) {
            if ((err as { code?: string }).code === '23505') return 'conflict';
            throw err;
        }
    }

    /**
     * Deletes the integration (its connections go with it) and creates `input` under its unique key, in one
     * transaction: when the create fails, the integration is still there as it was.
     */
    async replace(existing: Integration, input: IntegrationInput): Promise<Integration> {
        const created = await this.db.transaction(async (tx) => {
            await tx.query('DELETE FROM integrations WHERE id = $1', [existing.id]);
            const row = await this.create(existing.environmentId, { ...input, uniqueKey: existing.uniqueKey }, tx);
            if (!row) throw new Error(`integration "${existing.uniqueKey}" was recreated during its replacement`);
            return row;
        });
        await this.cache?.invalidate(cacheKey('int', existing.id));
        return created;
    }

    async delete(id: number): Promise<void> {
        await this.db.query('DELETE FROM integrations WHERE id = $1', [id]);
        await this.cache?.invalidate(cacheKey('int', id));
    }

    /** Re-encrypts every integration secret under the vault's current key (key rotation). */
    async reencryptAll(failed: string[] = []): Promise<number> {
        const n = await reencryptColumn(this.db, this.vault, encryptedColumn('integrations', 'credentials'), ownerOf, failed);
        await this.cache?.invalidate(ALL);
        return n;
    }
}
