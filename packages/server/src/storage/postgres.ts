import pg from 'pg';
import { LocalBus, type Db, type Queryable } from './db.ts';

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
    const bus = new LocalBus();
    const channels = new Set<string>();
    // One dedicated connection receives notifications; on loss, listeners get '*' (drop everything) and it reconnects.
    let listener: pg.Client | undefined;
    let closed = false;
    const connectListener = async (): Promise<void> => {
        const client = new pg.Client({ connectionString: url, application_name: 'switchboard-listen' });
        client.on('notification', (n) => bus.emit(n.channel, n.payload ?? ''));
        client.on('error', () => {
            if (listener === client) listener = undefined;
            for (const c of channels) bus.emit(c, '*');
            if (!closed) setTimeout(() => void connectListener().catch(() => undefined), 1000).unref();
        });
        await client.connect();
        for (const c of channels) await client.query(`LISTEN "${c}"`);
        listener = client;
    };
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
        async notify(channel, payload) {
            await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
        },
        async listen(channel, fn) {
            if (!/^[a-z_]+$/.test(channel)) throw new Error(`invalid channel ${channel}`);
            bus.on(channel, fn);
            channels.add(channel);
            if (!listener) await connectListener();
            else await listener.query(`LISTEN "${channel}"`);
        },
        exec: async (sql) => {
            await pool.query(sql);
        },
        async close() {
            closed = true;
            await listener?.end().catch(() => undefined);
            await pool.end();
        }
    };
}
