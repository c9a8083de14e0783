import pg from 'pg';
import { type Db, type Queryable } from './db.ts';

/** PostgreSQL through a pool; any number of instances may share it. */
export async function openPostgres(url: string, poolSize = 10): Promise<Db> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'switchboard' });
    // Fail at boot, naming the cause, rather than on the first request.
    const probe = await pool.connect();
    probe.release();
    const asQueryable = (c: pg.Pool | pg.PoolClient): Queryable => ({
        async query<T>(sql: string, params: unknown[] = []) {
            const res = await c.query(sql, params);
            return res.rows as T[];
        }
    });
    const base = asQueryable(pool);
    return {
        kind: 'postgres',
        query: base.query,
        async transaction(fn) {
            const client = await pool.connect();
            try {
                await client.query('BEGIN');
                const out = await fn(asQueryable(client));
                await client.query('COMMIT');
                return out;
            } catch (err) {
                await client.query('ROLLBACK').catch(() => undefined);
                throw err;
            } finally {
                client.release();
            }
        },
        async withLock(key, fn) {
            const client = await pool.connect();
            let locked = false;
            try {
                await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
                locked = true;
                return await fn();
            } finally {
                if (locked) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
                client.release();
            }
        },
        exec: async (sql) => {
            await pool.query(sql);
        },
        close: () => pool.end()
    };
}
