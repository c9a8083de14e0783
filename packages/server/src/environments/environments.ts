import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../storage/db.ts';
import { cacheKey, type ReadCache } from '../storage/read-cache.ts';

export interface Environment {
    id: number;
    uuid: string;
    name: string;
}

function hashKey(key: string): string {
    return createHash('sha256').update(key).digest('hex');
}

// Every authenticated request presents its key; hashing it each time was a visible share of a proxied request.
// Bounded, because the keys come from callers (wrong ones too): when full it starts over.
const MEMO_MAX = 256;
const memo = new Map<string, string>();
function hashKeyMemo(key: string): string {
    let hash = memo.get(key);
    if (hash === undefined) {
        if (memo.size >= MEMO_MAX) memo.clear();
        hash = hashKey(key);
        memo.set(key, hash);
    }
    return hash;
}

/** Environments and their secret keys (stored only as SHA-256 hashes). */
export class Environments {
    private readonly db: Db;
    // Key hash → environment, shared with other instances' invalidations: a key replaced by one instance's
    // bootstrap stops working on every instance.
    private readonly cache: ReadCache<unknown> | undefined;

    constructor(db: Db, cache?: ReadCache<unknown>) {
        this.db = db;
        this.cache = cache;
    }

    /**
     * Ensures the default environment exists. With `secretKey` set it becomes the key; without one, a key is
     * generated on first start and returned so the caller can print it once.
     */
    async bootstrap(secretKey: string | undefined): Promise<{ environment: Environment; generatedKey: string | undefined }> {
        return this.db.withLock('switchboard:bootstrap', async () => {
            let [env] = await this.db.query<Environment & { secret_key_hash: string | null }>(
                "SELECT id, uuid, name, secret_key_hash FROM environments WHERE name = 'dev'"
            );
            let generatedKey: string | undefined;
            if (!env) {
                generatedKey = secretKey ? undefined : randomUUID();
                const hash = hashKey(secretKey ?? generatedKey!);
                [env] = await this.db.query(
                    "INSERT INTO environments (uuid, name, secret_key_hash) VALUES ($1, 'dev', $2) RETURNING id, uuid, name, secret_key_hash",
                    [randomUUID(), hash]
                );
            } else if (secretKey && env.secret_key_hash !== hashKey(secretKey)) {
                await this.db.query('UPDATE environments SET secret_key_hash = $1 WHERE id = $2', [hashKey(secretKey), env.id]);
                await this.cache?.invalidate(cacheKey('env', env.id));
            }
            const environment = { id: env!.id, uuid: env!.uuid, name: env!.name };
            return { environment, generatedKey };
        });
    }

    /** `q`: a caller inside a transaction must read through it (PGlite has one connection). */
    async byId(id: number, q: Queryable = this.db): Promise<Environment | undefined> {
        const [row] = await q.query<Environment>('SELECT id, uuid, name FROM environments WHERE id = $1', [id]);
        return row;
    }

    async byUuid(uuid: string): Promise<Environment | undefined> {
        const [row] = await this.db.query<Environment>('SELECT id, uuid, name FROM environments WHERE uuid = $1', [uuid]);
        return row;
    }

    /** Resolves a secret key to its environment, or undefined. */
    async authenticate(secretKey: string): Promise<Environment | undefined> {
        const hash = hashKeyMemo(secretKey);
        const key = cacheKey('key', hash);
        const cached = this.cache?.get(key) as Environment | undefined;
        if (cached) return cached;
        const generation = this.cache?.generation ?? 0;
        const [row] = await this.db.query<Environment>('SELECT id, uuid, name FROM environments WHERE secret_key_hash = $1', [hash]);
        if (!row) return undefined;
        const env = { id: row.id, uuid: row.uuid, name: row.name };
        this.cache?.set(key, env, [cacheKey('env', env.id)], generation);
        return env;
    }
}
