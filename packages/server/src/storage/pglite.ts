import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyedMutex, LocalBus, type Db, type Queryable } from './db.ts';

/** Embedded PostgreSQL (WebAssembly) in `dataDir/pgdata`; `memory://` keeps it in memory (tests). */
export async function openPglite(dataDir: string | 'memory://'): Promise<Db> {
    let location = dataDir;
    if (dataDir !== 'memory://') {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        location = join(dataDir, 'pgdata');
    }
    const pg = await PGlite.create(location);
    const mutex = new KeyedMutex();
    const asQueryable = (q: Pick<PGlite, 'query'>): Queryable => ({
        async query<T>(sql: string, params: unknown[] = []) {
            const res = await q.query<T>(sql, params);
            return res.rows;
        }
    });
    const base = asQueryable(pg);
    const bus = new LocalBus();
    return {
        kind: 'pglite',
        query: base.query,
        transaction: (fn) => pg.transaction((tx) => fn(asQueryable(tx))),
        withLock: (key, fn) => mutex.run(key, fn),
        notify: async (channel, payload) => bus.emit(channel, payload),
        listen: async (channel, fn) => bus.on(channel, fn),
        exec: async (sql) => {
            await pg.exec(sql);
        },
        close: () => pg.close()
    };
}
