import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { KeyedMutex, LocalBus, OwnTransactionWaitError, type Db, type Queryable } from './db.ts';
import { lockFolder } from './folder-lock.ts';

export { DataDirLockedError } from './folder-lock.ts';

/**
 * The transaction whose callback runs in this async context. PGlite has one connection: a query or a transaction
 * sent to the Db (not to the transaction's Queryable) while that callback is running queues behind the
 * transaction, which in turn waits for it, and the whole database stops for good (issue #10 item 7). Such a call
 * fails at once instead, naming the mistake.
 */
const openTransaction = new AsyncLocalStorage<{ open: boolean }>();

function refuseOwnWait(what: string): void {
    if (openTransaction.getStore()?.open) {
        throw new OwnTransactionWaitError(
            `${what} was sent to the database from inside an open transaction; it would wait for that transaction forever on PGlite's single connection. Pass the transaction's Queryable instead.`
        );
    }
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
        query: async <T>(sql: string, params?: unknown[]) => {
            refuseOwnWait('A query');
            return base.query<T>(sql, params);
        },
        transaction: async (fn) => {
            refuseOwnWait('A transaction');
            return pg.transaction(async (tx) => {
                const state = { open: true };
                try {
                    return await openTransaction.run(state, () => fn(asQueryable(tx)));
                } finally {
                    state.open = false;
                }
            });
        },
        withLock: (key, fn) => mutex.run(key, fn),
        notify: async (channel, payload) => bus.emit(channel, payload),
        listen: async (channel, fn) => {
            // A listener is another party: what it starts is not part of the transaction that notified it.
            const deliver = (payload: string) => openTransaction.exit(() => fn(payload));
            bus.on(channel, deliver);
            // SQL pg_notify (sent inside a transaction, delivered at commit) reaches listeners too, as on PostgreSQL.
            await pg.listen(channel, deliver);
        },
        exec: async (sql) => {
            refuseOwnWait('A statement');
            await pg.exec(sql);
        },
        script: async <T>(sql: string) => {
            refuseOwnWait('A script');
            return (await pg.exec(sql)).flatMap((r) => r.rows as T[]);
        },
        close: async () => {
            await pg.close();
            unlock();
        }
    };
}
