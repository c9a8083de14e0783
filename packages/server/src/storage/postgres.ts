import pg from 'pg';
import { LocalBus, type Db, type Queryable } from './db.ts';
import { backoffMs, retry, sleep } from '../egress/retry.ts';

const ignore = () => undefined;

/** PostgreSQL through a pool; any number of instances may share it. */
export async function openPostgres(url: string, poolSize = 10): Promise<Db> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'switchboard' });
    // Lock holders get their own pool: a holder's fn queries through `pool`, so sharing one would let
    // poolSize concurrent holders wait forever for a connection only they could return.
    const lockPool = new pg.Pool({ connectionString: url, max: Math.max(2, poolSize), application_name: 'switchboard' });
    // An idle client whose session the server ends (restart, failover) emits 'error'; the pool drops it, and the
    // next query opens a new one. Without a listener that event would end the process.
    pool.on('error', ignore);
    lockPool.on('error', ignore);
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
    // One dedicated connection receives notifications. When it is lost, listeners get '*' (drop everything)
    // and it reconnects with backoff until it succeeds.
    let listener: pg.Client | undefined;
    let closed = false;
    const connectListener = async (): Promise<void> => {
        const client = new pg.Client({ connectionString: url, application_name: 'switchboard-listen' });
        client.on('notification', (n) => bus.emit(n.channel, n.payload ?? ''));
        client.on('error', () => {
            if (listener !== client) return;
            listener = undefined;
            for (const c of channels) bus.emit(c, '*');
            void reconnect();
        });
        try {
            await client.connect();
            for (const c of channels) await client.query(`LISTEN "${c}"`);
        } catch (err) {
            await client.end().catch(ignore);
            throw err;
        }
        listener = client;
    };
    // Closing the store stops a reconnect loop in its wait.
    const stop = new AbortController();
    const reconnect = async (): Promise<void> => {
        // The first try after 1 s, then 2, 4… up to 30 s between tries, until it connects or the store closes.
        if (!(await sleep(1000, { signal: stop.signal, unref: true }))) return;
        await retry(
            async () => {
                if (closed || listener) return;
                await connectListener();
                for (const c of channels) bus.emit(c, '*'); // notifications may have been missed while away
            },
            {
                retries: Infinity,
                signal: stop.signal,
                unref: true,
                delayMs: (o, attempt) => (o.ok ? undefined : backoffMs(attempt + 1, { baseMs: 1000, maxMs: 30_000 }))
            }
        ).catch(ignore);
    };
    const statsOf = (name: string, p: pg.Pool, max: number) => ({ pool: name, max, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });
    return {
        kind: 'postgres',
        query: base.query,
        poolStats: () => [statsOf('main', pool, poolSize), statsOf('lock', lockPool, Math.max(2, poolSize))],
        async transaction(fn) {
            const client = await pool.connect();
            try {
                await client.query('BEGIN');
                const out = await fn(asQueryable(client));
                await client.query('COMMIT');
                return out;
            } catch (err) {
                await client.query('ROLLBACK').catch(ignore);
                throw err;
            } finally {
                client.release();
            }
        },
        async withLock(key, fn) {
            const client = await lockPool.connect();
            // If the server ends this session while fn runs, the lock is released by the server; we only need
            // to not crash, and to discard the client.
            let broken: Error | undefined;
            const onError = (err: Error) => (broken = err);
            client.on('error', onError);
            let locked = false;
            try {
                await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
                locked = true;
                return await fn();
            } finally {
                if (locked && !broken) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch((err: Error) => (broken = err));
                client.off('error', onError);
                client.release(broken);
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
        script: async <T>(sql: string) => {
            // node-postgres answers a multi-statement query with one result per statement.
            const res: pg.QueryResult | pg.QueryResult[] = await pool.query(sql);
            return (Array.isArray(res) ? res : [res]).flatMap((r) => (r.rows ?? []) as T[]);
        },
        async close() {
            closed = true;
            stop.abort();
            const l = listener;
            listener = undefined;
            await l?.end().catch(ignore);
            await lockPool.end();
            await pool.end();
        }
    };
}
