// PGlite has one connection: nothing may wait on its own transaction (issue #10 item 7).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openPglite } from '../src/storage/pglite.ts';
import { OwnTransactionWaitError, type Db } from '../src/storage/db.ts';

describe('PGlite transactions', () => {
    let db: Db;
    before(async () => {
        db = await openPglite('memory://');
        await db.exec('CREATE TABLE t (n int)');
    });
    after(async () => {
        await db.close();
    });

    it('a query or a transaction on the Db from inside a transaction fails at once instead of freezing the database', async () => {
        await assert.rejects(
            db.transaction(async (tx) => {
                await tx.query('INSERT INTO t VALUES (1)');
                await db.query('SELECT count(*) FROM t');
            }),
            OwnTransactionWaitError
        );
        await assert.rejects(
            db.transaction(async () => db.transaction(async (tx) => tx.query('SELECT 1'))),
            /inside an open transaction/
        );
        // Both rolled back, and the database still answers.
        assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM t'), [{ n: 0 }]);
    });

    it('work a notification starts is not part of the transaction that sent it, and work started inside runs after it ends', async () => {
        const seen: number[] = [];
        let listened: Promise<void> | undefined;
        await db.listen('t_changed', () => {
            listened = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((rows) => void seen.push(rows[0]!.n));
        });
        let later: ReturnType<typeof setTimeout> | undefined;
        const timerDone = new Promise<void>((resolve) => {
            void db.transaction(async (tx) => {
                await tx.query('INSERT INTO t VALUES (1)');
                await db.notify('t_changed', 'x');
                later = setTimeout(() => void db.query('SELECT 1').then(() => resolve()), 0);
            });
        });
        await timerDone;
        await listened;
        assert.ok(later);
        assert.deepEqual(seen, [1], 'the listener ran its query after the commit');
    });
});
