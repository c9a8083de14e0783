import type { Db } from '../storage/db.ts';
import { hashKey, hashKeyMemo, newKey } from './hash.ts';

/**
 * The operator credential (SWITCHBOARD_ADMIN_KEY) for `/admin/*` and environment management, stored as a SHA-256
 * hash. It is not an environment's key: an app's secret key never passes as it, nor it as an app's key.
 */
export class AdminKeys {
    private readonly db: Db;
    /** Hashes of in-process keys (withInProcessKey): never stored, never printed, gone when the call ends. */
    private readonly inProcess = new Set<string>();

    constructor(db: Db) {
        this.db = db;
    }

    /**
     * With `configured` set it becomes the admin key (a previous configured or generated one stops working); without
     * one, a key is generated on first start and returned so the caller can print it once.
     */
    async bootstrap(configured: string | undefined): Promise<{ generatedKey: string | undefined }> {
        return this.db.withLock('switchboard:admin-key', async () => {
            const rows = await this.db.query<{ key_hash: string }>('SELECT key_hash FROM admin_keys');
            if (configured) {
                const hash = hashKey(configured);
                if (rows.length === 1 && rows[0]!.key_hash === hash) return { generatedKey: undefined };
                await this.db.transaction(async (tx) => {
                    await tx.query('DELETE FROM admin_keys');
                    await tx.query("INSERT INTO admin_keys (key_hash, source) VALUES ($1, 'config')", [hash]);
                });
                return { generatedKey: undefined };
            }
            if (rows.length > 0) return { generatedKey: undefined };
            const generatedKey = newKey();
            await this.db.query("INSERT INTO admin_keys (key_hash, source) VALUES ($1, 'generated')", [hashKey(generatedKey)]);
            return { generatedKey };
        });
    }

    /**
     * Runs `fn` with a random admin key valid only in this process until `fn` settles: the server applies
     * SWITCHBOARD_CONFIG through its own routes (Fastify inject) with it, as `switchboard apply` would over HTTP.
     */
    async withInProcessKey<T>(fn: (key: string) => Promise<T>): Promise<T> {
        const key = newKey();
        const hash = hashKey(key);
        this.inProcess.add(hash);
        try {
            return await fn(key);
        } finally {
            this.inProcess.delete(hash);
        }
    }

    /** True when `key` is the admin key. */
    async authenticate(key: string): Promise<boolean> {
        const hash = hashKeyMemo(key);
        if (this.inProcess.size && this.inProcess.has(hash)) return true;
        // Not cached: admin calls are rare, and a key replaced by another instance's restart must stop at once.
        const [row] = await this.db.query<{ id: number }>('SELECT id FROM admin_keys WHERE key_hash = $1', [hash]);
        return !!row;
    }
}
