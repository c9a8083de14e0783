import { PGlite } from '@electric-sql/pglite';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeyedMutex, LocalBus, type Db, type Queryable } from './db.ts';

/** Another live process (or this one) already has the data folder open. */
export class DataDirLockedError extends Error {
    override name = 'DataDirLockedError';
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
}

/**
 * PGlite has no cross-process locking, and two processes on one folder would corrupt it and break the
 * one-refresh-per-connection guarantee; a pid lock file makes the second one refuse to start.
 */
function lockFolder(dir: string): () => void {
    const file = join(dir, 'switchboard.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            const fd = openSync(file, 'wx', 0o600);
            writeSync(fd, String(process.pid));
            closeSync(fd);
            return () => rmSync(file, { force: true });
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
            const pid = Number(readFileSync(file, 'utf8').trim());
            if (pid === process.pid || (pid > 0 && isAlive(pid))) {
                throw new DataDirLockedError(`SWITCHBOARD_DATA_DIR ${dir} is in use by process ${pid}; run one process per data folder, or use SWITCHBOARD_DATABASE_URL for several instances`);
            }
            rmSync(file, { force: true }); // left behind by a process that died
        }
    }
    throw new DataDirLockedError(`SWITCHBOARD_DATA_DIR ${dir}: could not take the lock file`);
}

/** Embedded PostgreSQL (WebAssembly) in `dataDir/pgdata`; `memory://` keeps it in memory (tests). */
export async function openPglite(dataDir: string | 'memory://'): Promise<Db> {
    let location = dataDir;
    let unlock = () => {};
    if (dataDir !== 'memory://') {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        unlock = lockFolder(dataDir);
        location = join(dataDir, 'pgdata');
    }
    let pg: PGlite;
    try {
        pg = await PGlite.create(location);
    } catch (err) {
        unlock();
        throw err;
    }
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
        listen: async (channel, fn) => {
            bus.on(channel, fn);
            // SQL pg_notify (sent inside a transaction, delivered at commit) reaches listeners too, as on PostgreSQL.
            await pg.listen(channel, fn);
        },
        exec: async (sql) => {
            await pg.exec(sql);
        },
        script: async <T>(sql: string) => (await pg.exec(sql)).flatMap((r) => r.rows as T[]),
        close: async () => {
            await pg.close();
            unlock();
        }
    };
}
