import type { Db, Queryable } from '../storage/db.ts';

export type Checkpoint = Record<string, string | number | boolean>;

/**
 * Script checkpoints, per connection and key (`sync:<name>[:variant]`, `action:<name>`, and the trackDeletes
 * keys under a sync's prefix). A checkpoint commits on its own, so whatever a run saved survives its crash.
 */
export class CheckpointStore {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    async get(connectionDbId: number, key: string): Promise<Checkpoint | null> {
        const rows = await this.db.query<{ data: Checkpoint }>('SELECT data FROM checkpoints WHERE connection_id = $1 AND key = $2', [connectionDbId, key]);
        return rows[0]?.data ?? null;
    }

    async put(connectionDbId: number, key: string, data: Checkpoint, q: Queryable = this.db): Promise<void> {
        await q.query(
            `INSERT INTO checkpoints (connection_id, key, data) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id, key) DO UPDATE SET data = EXCLUDED.data, version = checkpoints.version + 1, updated_at = now()`,
            [connectionDbId, key, JSON.stringify(data)]
        );
    }

    /** Stores only when absent; true when this call stored it. */
    async putIfAbsent(connectionDbId: number, key: string, data: Checkpoint): Promise<boolean> {
        const rows = await this.db.query('INSERT INTO checkpoints (connection_id, key, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key', [connectionDbId, key, JSON.stringify(data)]);
        return rows.length > 0;
    }

    async delete(connectionDbId: number, key: string): Promise<void> {
        await this.db.query('DELETE FROM checkpoints WHERE connection_id = $1 AND key = $2', [connectionDbId, key]);
    }

    /** A full resync forgets the sync's checkpoint and its trackDeletes windows (`<prefix>` and `<prefix>:…`). */
    async deletePrefix(connectionDbId: number, prefix: string, q: Queryable = this.db): Promise<void> {
        await q.query('DELETE FROM checkpoints WHERE connection_id = $1 AND (key = $2 OR starts_with(key, $3))', [connectionDbId, prefix, `${prefix}:`]);
    }
}
