import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../storage/db.ts';
import { cacheKey, type ReadCache } from '../storage/read-cache.ts';
import { fail } from '../errors.ts';
import { hashKey, hashKeyMemo, newKey } from './hash.ts';

export interface Environment {
    id: number;
    uuid: string;
    name: string;
}

/** A secret key as listed: never the key, only what tells keys apart. */
export interface EnvironmentKey {
    uuid: string;
    label: string | null;
    source: 'config' | 'api';
    createdAt: Date;
    expiresAt: Date | null;
    revokedAt: Date | null;
}

interface KeyRow {
    uuid: string;
    label: string | null;
    source: 'config' | 'api';
    created_at: Date | string;
    expires_at: Date | string | null;
    revoked_at: Date | string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));
const formatKey = (r: KeyRow): EnvironmentKey => ({
    uuid: r.uuid,
    label: r.label,
    source: r.source,
    createdAt: new Date(r.created_at),
    expiresAt: date(r.expires_at),
    revokedAt: date(r.revoked_at)
});

/** Environment names: what a URL path segment, a CLI argument and a webhook's `environment` field hold as they are. */
export const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

// A key still valid: not revoked, and not past the end of its overlap window.
const VALID = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())';

interface Cached {
    env: Environment;
    expiresAt: number | null;
}

/** Environments and their secret keys (stored only as SHA-256 hashes, several per environment). */
export class Environments {
    private readonly db: Db;
    // Key hash → environment, shared with other instances' invalidations: a key revoked or replaced by one instance
    // stops working on every instance.
    private readonly cache: ReadCache<unknown> | undefined;

    constructor(db: Db, cache?: ReadCache<unknown>) {
        this.db = db;
        this.cache = cache;
    }

    /**
     * Ensures the default environment (the first one created, `dev` on a new install) exists. With `secretKey` set
     * it becomes the key declared by configuration (the previously configured one stops working; keys made through
     * the API stay); without one, a key is generated on first start and returned so the caller can print it once.
     * `configuredKeyRetired`: the configured key was revoked or has expired through the API, and stays refused.
     */
    async bootstrap(secretKey: string | undefined): Promise<{ environment: Environment; generatedKey: string | undefined; configuredKeyRetired: boolean }> {
        return this.db.withLock('switchboard:bootstrap', async () => {
            let [env] = await this.db.query<Environment>('SELECT id, uuid, name FROM environments ORDER BY id LIMIT 1');
            let generatedKey: string | undefined;
            let configuredKeyRetired = false;
            if (!env) {
                generatedKey = secretKey ? undefined : newKey();
                [env] = await this.db.query<Environment>("INSERT INTO environments (uuid, name) VALUES ($1, 'dev') RETURNING id, uuid, name", [randomUUID()]);
                await this.insertKey(this.db, env!.id, secretKey ?? generatedKey!, 'config', null);
            } else if (secretKey) {
                const hash = hashKey(secretKey);
                const [current] = await this.db.query<{ valid: boolean }>(
                    `SELECT (${VALID}) AS valid FROM environment_keys WHERE environment_id = $1 AND key_hash = $2`,
                    [env.id, hash]
                );
                // A configured key revoked or rotated out through the API stays so: a restart does not revive it.
                if (current) configuredKeyRetired = !current.valid;
                else {
                    await this.db.transaction(async (tx) => {
                        await tx.query("DELETE FROM environment_keys WHERE environment_id = $1 AND source = 'config'", [env!.id]);
                        await tx.query('DELETE FROM environment_keys WHERE key_hash = $1', [hash]);
                        await this.insertKey(tx, env!.id, secretKey, 'config', null);
                    });
                    await this.cache?.invalidate(cacheKey('env', env.id));
                }
            }
            return { environment: { id: env!.id, uuid: env!.uuid, name: env!.name }, generatedKey, configuredKeyRetired };
        });
    }

    private async insertKey(
        q: Queryable,
        environmentId: number,
        key: string,
        source: 'config' | 'api',
        label: string | null,
        expiresAt?: Date
    ): Promise<EnvironmentKey> {
        const [row] = await q.query<KeyRow>(
            `INSERT INTO environment_keys (uuid, environment_id, key_hash, source, label, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING uuid, label, source, created_at, expires_at, revoked_at`,
            [randomUUID(), environmentId, hashKey(key), source, label, expiresAt ?? null]
        );
        return formatKey(row!);
    }

    /** `q`: a caller inside a transaction must read through it (PGlite has one connection). */
    async byId(id: number, q: Queryable = this.db): Promise<Environment | undefined> {
        const [row] = await q.query<Environment>('SELECT id, uuid, name FROM environments WHERE id = $1', [id]);
        return row;
    }

    /** byId for many (a sync worker's batch): one round trip; the ones gone are left out. */
    async byIds(ids: number[], q: Queryable = this.db): Promise<Environment[]> {
        if (ids.length === 0) return [];
        return q.query<Environment>('SELECT id, uuid, name FROM environments WHERE id = ANY($1::int[])', [ids]);
    }

    async byUuid(uuid: string): Promise<Environment | undefined> {
        const [row] = await this.db.query<Environment>('SELECT id, uuid, name FROM environments WHERE uuid = $1', [uuid]);
        return row;
    }

    async byName(name: string): Promise<Environment | undefined> {
        const [row] = await this.db.query<Environment>('SELECT id, uuid, name FROM environments WHERE name = $1', [name]);
        return row;
    }

    /** The environment named `name`, or `unknown_environment`. */
    async require(name: string): Promise<Environment> {
        const env = await this.byName(name);
        if (!env) throw fail('unknown_environment', { message: `No environment named "${name}"` });
        return env;
    }

    async list(): Promise<Array<Environment & { createdAt: Date }>> {
        const rows = await this.db.query<Environment & { created_at: Date | string }>('SELECT id, uuid, name, created_at FROM environments ORDER BY id');
        return rows.map((r) => ({ id: r.id, uuid: r.uuid, name: r.name, createdAt: new Date(r.created_at) }));
    }

    /** A new environment with its first secret key, returned once. */
    async create(name: string): Promise<{ environment: Environment; key: string }> {
        return this.db.transaction(async (tx) => {
            const [taken] = await tx.query('SELECT 1 FROM environments WHERE name = $1', [name]);
            if (taken) throw fail('environment_already_exists');
            const [env] = await tx.query<Environment>('INSERT INTO environments (uuid, name) VALUES ($1, $2) RETURNING id, uuid, name', [randomUUID(), name]);
            const key = newKey();
            await this.insertKey(tx, env!.id, key, 'api', null);
            return { environment: env!, key };
        });
    }

    async rename(env: Environment, name: string): Promise<Environment> {
        if (name === env.name) return env;
        const [taken] = await this.db.query('SELECT 1 FROM environments WHERE name = $1', [name]);
        if (taken) throw fail('environment_already_exists');
        const [row] = await this.db.query<Environment>('UPDATE environments SET name = $2 WHERE id = $1 RETURNING id, uuid, name', [env.id, name]);
        await this.cache?.invalidate(cacheKey('env', env.id));
        return row!;
    }

    /**
     * Deletes an environment and everything in it (integrations, connections and their credentials, records,
     * scripts, runs, webhooks, variables, keys; its audit trail too). The default environment cannot be deleted:
     * the server's configuration (SWITCHBOARD_SECRET_KEY, SWITCHBOARD_WEBHOOK_URL) applies to it.
     */
    async delete(env: Environment): Promise<void> {
        const [first] = await this.db.query<{ id: number }>('SELECT id FROM environments ORDER BY id LIMIT 1');
        if (first?.id === env.id) throw fail('default_environment_not_deletable');
        await this.db.transaction(async (tx) => {
            await tx.query('DELETE FROM audit_events WHERE environment_id = $1', [env.id]);
            await tx.query('DELETE FROM environments WHERE id = $1', [env.id]);
        });
        await this.cache?.invalidate(cacheKey('env', env.id));
    }

    async listKeys(env: Environment): Promise<EnvironmentKey[]> {
        const rows = await this.db.query<KeyRow>(
            'SELECT uuid, label, source, created_at, expires_at, revoked_at FROM environment_keys WHERE environment_id = $1 ORDER BY id',
            [env.id]
        );
        return rows.map(formatKey);
    }

    /** Adds a secret key (optionally expiring); the key is returned once. */
    async addKey(env: Environment, opts: { label?: string | undefined; expiresAt?: Date | undefined } = {}): Promise<{ key: string; info: EnvironmentKey }> {
        const key = newKey();
        const info = await this.insertKey(this.db, env.id, key, 'api', opts.label ?? null, opts.expiresAt);
        return { key, info };
    }

    /**
     * Rotation: a new key, and every other valid key of the environment now expires after `overlapSeconds` (0: at
     * once), so apps can move to the new key before the old one stops working.
     */
    async rotate(
        env: Environment,
        opts: { overlapSeconds: number; label?: string | undefined }
    ): Promise<{ key: string; info: EnvironmentKey; retired: EnvironmentKey[] }> {
        const key = newKey();
        const result = await this.db.transaction(async (tx) => {
            const retired = await tx.query<KeyRow>(
                `UPDATE environment_keys SET expires_at = LEAST(COALESCE(expires_at, 'infinity'::timestamptz), now() + make_interval(secs => $2))
                 WHERE environment_id = $1 AND ${VALID} RETURNING uuid, label, source, created_at, expires_at, revoked_at`,
                [env.id, opts.overlapSeconds]
            );
            const info = await this.insertKey(tx, env.id, key, 'api', opts.label ?? null);
            return { key, info, retired: retired.map(formatKey) };
        });
        await this.cache?.invalidate(cacheKey('env', env.id));
        return result;
    }

    /** Revokes one key at once; `unknown_environment_key` when the environment has no such key. */
    async revokeKey(env: Environment, uuid: string): Promise<EnvironmentKey> {
        const [row] = await this.db.query<KeyRow>(
            `UPDATE environment_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE environment_id = $1 AND uuid = $2
             RETURNING uuid, label, source, created_at, expires_at, revoked_at`,
            [env.id, uuid]
        );
        if (!row) throw fail('unknown_environment_key');
        await this.cache?.invalidate(cacheKey('env', env.id));
        return formatKey(row);
    }

    /** Resolves a secret key to its environment, or undefined (unknown, revoked, or past its expiry). */
    async authenticate(secretKey: string): Promise<Environment | undefined> {
        const hash = hashKeyMemo(secretKey);
        const key = cacheKey('key', hash);
        const cached = this.cache?.get(key) as Cached | undefined;
        if (cached && (cached.expiresAt === null || cached.expiresAt > Date.now())) return cached.env;
        const generation = this.cache?.generation ?? 0;
        const [row] = await this.db.query<Environment & { expires_at: Date | string | null }>(
            `SELECT e.id, e.uuid, e.name, k.expires_at FROM environment_keys k JOIN environments e ON e.id = k.environment_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
            [hash]
        );
        if (!row) return undefined;
        const env = { id: row.id, uuid: row.uuid, name: row.name };
        const entry: Cached = { env, expiresAt: row.expires_at === null ? null : new Date(row.expires_at).getTime() };
        this.cache?.set(key, entry, [cacheKey('env', env.id)], generation);
        return env;
    }
}
