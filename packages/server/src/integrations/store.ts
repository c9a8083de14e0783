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
    /** The secret keys of `custom` (SECRET_CUSTOM_KEYS) as a vault ciphertext; read through IntegrationStore.customOf(). */
    customSecretsCiphertext: string | null;
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
    custom_secrets: string | null;
    created_at: Date;
    updated_at: Date;
}

export const integrationColumns =
    'id, uuid, environment_id, unique_key, provider, display_name, credentials, forward_webhooks, integration_config, custom, custom_secrets, created_at, updated_at';

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
        credentialsCiphertext: r.credentials,
        customSecretsCiphertext: r.custom_secrets
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
// Its own owner: a credentials ciphertext copied into custom_secrets (or back) does not decrypt.
const customOwnerOf = (uuid: string) => `integration:${uuid}:custom`;

/**
 * Keys of `custom` that hold secrets (Nango's place for a webhook signing secret; the AWS key an AWS_SIGV4
 * integration assumes roles with): stored encrypted, never in the jsonb.
 */
export const SECRET_CUSTOM_KEYS: readonly string[] = ['webhookSecret', 'aws_secret_access_key'];

/** `custom` split into what is stored as it is and the secrets (null when there are none). */
function splitCustom(custom: Record<string, string>): { plain: Record<string, string>; secrets: Record<string, string> | null } {
    const plain: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const [k, v] of Object.entries(custom)) (SECRET_CUSTOM_KEYS.includes(k) ? secrets : plain)[k] = v;
    return { plain, secrets: Object.keys(secrets).length > 0 ? secrets : null };
}

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

    /** `custom` whole: the stored keys, with the secrets decrypted (a row sealed before or not, both read). */
    customOf(integration: Integration): Record<string, string> | null {
        if (!integration.customSecretsCiphertext) return integration.custom;
        const secrets = this.vault.decryptJson(integration.customSecretsCiphertext, customOwnerOf(integration.uuid)) as Record<string, string>;
        return { ...(integration.custom ?? {}), ...secrets };
    }

    private sealed(uuid: string, custom: Record<string, string> | undefined): { plain: string | null; ciphertext: string | null } {
        if (!custom) return { plain: null, ciphertext: null };
        const { plain, secrets } = splitCustom(custom);
        return { plain: JSON.stringify(plain), ciphertext: secrets ? this.vault.encryptJson(secrets, customOwnerOf(uuid)) : null };
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

    /** A page of the environment's integrations by unique key, after `after` (the last key of the previous page). */
    async page(environmentId: number, after: string | undefined, limit: number): Promise<Integration[]> {
        const rows = await this.db.query<Row>(
            `SELECT ${integrationColumns} FROM integrations WHERE environment_id = $1 AND ($2::text IS NULL OR unique_key > $2) ORDER BY unique_key LIMIT $3`,
            [environmentId, after ?? null, limit]
        );
        return rows.map(toIntegration);
    }

    /** Returns undefined when the unique key is taken. */
    async create(environmentId: number, input: IntegrationInput, q: Queryable = this.db): Promise<Integration | undefined> {
        const uuid = randomUUID();
        const ct = input.credentials ? this.vault.encryptJson(input.credentials, ownerOf(uuid)) : null;
        const custom = this.sealed(uuid, input.custom);
        const [row] = await q.query<Row>(
            `INSERT INTO integrations (uuid, environment_id, unique_key, provider, display_name, credentials, forward_webhooks, integration_config, custom, custom_secrets)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
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
                custom.plain,
                custom.ciphertext
            ]
        );
        return row && toIntegration(row);
    }

    /** Applies a partial update; returns 'conflict' when renaming onto an existing key. */
    async update(existing: Integration, patch: Partial<IntegrationInput>): Promise<Integration | 'conflict'> {
        const ct = patch.credentials ? this.vault.encryptJson(patch.credentials, ownerOf(existing.uuid)) : existing.credentialsCiphertext;
        // A new `custom` replaces the whole map, its secrets included; without one, both parts stay as they are.
        const custom = patch.custom
            ? this.sealed(existing.uuid, patch.custom)
            : { plain: JSON.stringify(existing.custom), ciphertext: existing.customSecretsCiphertext };
        try {
            const [row] = await this.db.query<Row>(
                `UPDATE integrations SET unique_key = $2, display_name = $3, credentials = $4, forward_webhooks = $5,
                    integration_config = $6::jsonb, custom = $7::jsonb, custom_secrets = $8, updated_at = now()
                 WHERE id = $1 RETURNING ${integrationColumns}`,
                [
                    existing.id,
                    patch.uniqueKey ?? existing.uniqueKey,
                    patch.displayName ?? existing.displayName,
                    ct,
                    patch.forwardWebhooks ?? existing.forwardWebhooks,
                    JSON.stringify(patch.integrationConfig ?? existing.integrationConfig),
                    custom.plain,
                    custom.ciphertext
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
        const n =
            (await reencryptColumn(this.db, this.vault, encryptedColumn('integrations', 'credentials'), ownerOf, failed)) +
            (await reencryptColumn(this.db, this.vault, encryptedColumn('integrations', 'custom_secrets'), customOwnerOf, failed));
        await this.cache?.invalidate(ALL);
        return n;
    }

    /**
     * Moves secrets that rows written before migration 023 keep in plaintext in `custom` into the ciphertext, at
     * start. Each row is written by compare-and-swap on what was read, so instances starting together, or a PATCH
     * meanwhile, never lose a value. Returns how many rows were sealed.
     */
    async sealCustomSecrets(): Promise<number> {
        const keys = SECRET_CUSTOM_KEYS.map((k) => `custom ? '${k}'`).join(' OR ');
        const rows = await this.db.query<{ uuid: string; custom: Record<string, string>; custom_secrets: string | null }>(
            `SELECT uuid::text AS uuid, custom, custom_secrets FROM integrations WHERE ${keys}`
        );
        let n = 0;
        for (const r of rows) {
            const { plain, secrets } = splitCustom(r.custom);
            let before: Record<string, string> = {};
            try {
                if (r.custom_secrets) before = this.vault.decryptJson(r.custom_secrets, customOwnerOf(r.uuid)) as Record<string, string>;
            } catch {
                continue; // a key not configured: the row stays readable as it is, and is sealed at a later start
            }
            // A value already sealed was written later than the plaintext one: it wins.
            const ct = this.vault.encryptJson({ ...secrets, ...before }, customOwnerOf(r.uuid));
            const done = await this.db.query(
                `UPDATE integrations SET custom = $2::jsonb, custom_secrets = $3
                 WHERE uuid = $1 AND custom = $4::jsonb AND custom_secrets IS NOT DISTINCT FROM $5 RETURNING id`,
                [r.uuid, JSON.stringify(plain), ct, JSON.stringify(r.custom), r.custom_secrets]
            );
            n += done.length;
        }
        if (n > 0) await this.cache?.invalidate(ALL);
        return n;
    }
}
