// Helpers for the records cache tests and bench: a bare connection row to hang records on, and page walking.
import type { Db } from '../../src/storage/db.ts';
import type { RecordsStore, ListQuery } from '../../src/records/store.ts';

/** Inserts an environment, integration and connection directly (the records cache only needs connections.id). */
export async function insertConnection(db: Db, name = `c-${Math.random().toString(36).slice(2)}`): Promise<number> {
    const [env] = await db.query<{ id: number }>(`INSERT INTO environments (uuid, name) VALUES (gen_random_uuid(), $1) RETURNING id`, [name]);
    const [integration] = await db.query<{ id: number }>(
        `INSERT INTO integrations (uuid, environment_id, unique_key, provider) VALUES (gen_random_uuid(), $1, 'k', 'p') RETURNING id`,
        [env!.id]
    );
    const [connection] = await db.query<{ id: number }>(
        `INSERT INTO connections (uuid, environment_id, integration_id, connection_id, auth_type, credentials) VALUES (gen_random_uuid(), $1, $2, $3, 'API_KEY', 'x') RETURNING id`,
        [env!.id, integration!.id, name]
    );
    return connection!.id;
}

/** Every page of a feed from `q.cursor` on; returns the records and how many pages it took. */
export async function readAll(
    store: RecordsStore,
    scope: { connectionId: number; model: string },
    q: ListQuery = {}
): Promise<{ records: Array<Record<string, unknown>>; pages: number }> {
    const records: Array<Record<string, unknown>> = [];
    let cursor = q.cursor;
    let pages = 0;
    for (;;) {
        const page = await store.list(scope, { ...q, cursor });
        pages++;
        records.push(...page.records);
        if (!page.next_cursor) return { records, pages };
        cursor = page.next_cursor;
    }
}
