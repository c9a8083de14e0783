import type { Db, Queryable } from '../storage/db.ts';
import { TRACK_DELETES_INFIX } from './keys.ts';

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
    async putIfAbsent(connectionDbId: number, key: string, data: Checkpoint, q: Queryable = this.db): Promise<boolean> {
        const rows = await q.query('INSERT INTO checkpoints (connection_id, key, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key', [
            connectionDbId,
            key,
            JSON.stringify(data)
        ]);
        return rows.length > 0;
    }

    async delete(connectionDbId: number, key: string, q: Queryable = this.db): Promise<void> {
        await q.query('DELETE FROM checkpoints WHERE connection_id = $1 AND key = $2', [connectionDbId, key]);
    }

    /**
     * Forgets a sync's checkpoint and its trackDeletes windows (`<key>:trackDeletes:<Model>`): a full resync, or its
     * variant deleted. Only those keys: `sync:items` must not take `sync:items:eu` (another variant) with it. Model
     * names have no ':' (the rule GET /records enforces, records/schemas.ts), so a window is the infix plus one
     * colon-free segment; variant `trackDeletes`'s windows (`sync:items:trackDeletes:trackDeletes:Item`) have one
     * more segment and are not the base's.
     */
    async deleteSyncState(connectionDbId: number, checkpointKey: string, q: Queryable = this.db): Promise<void> {
        const windows = `${checkpointKey}${TRACK_DELETES_INFIX}`;
        await q.query(
            `DELETE FROM checkpoints WHERE connection_id = $1
               AND (key = $2 OR (starts_with(key, $3) AND strpos(substr(key, length($3) + 1), ':') = 0))`,
            [connectionDbId, checkpointKey, windows]
        );
    }
}
