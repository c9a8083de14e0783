import type { Queryable } from '../storage/db.ts';
import type { Vault } from './vault.ts';

/**
 * Re-encrypts, under the current key, each row whose ciphertext names an older key. A row that cannot be
 * decrypted (wrong owner, lost key) is listed in `failed` and skipped, so it does not leave every later row
 * on the old key. `write` should compare-and-swap on the old ciphertext: a concurrent writer already used
 * the current key.
 */
async function reencryptRows(
    vault: Vault,
    rows: Array<{ uuid: string; credentials: string }>,
    owner: (uuid: string) => string,
    write: (uuid: string, oldCiphertext: string, newCiphertext: string) => Promise<void>,
    failed: string[]
): Promise<number> {
    let n = 0;
    for (const r of rows) {
        if (!vault.needsRotation(r.credentials)) continue;
        let ct: string;
        try {
            ct = vault.reencrypt(r.credentials, owner(r.uuid));
        } catch {
            failed.push(r.uuid);
            continue;
        }
        await write(r.uuid, r.credentials, ct);
        n++;
    }
    return n;
}

/** Where one encrypted column lives: a SELECT of `(uuid, credentials)` and a compare-and-swap UPDATE `($1 uuid, $2 new, $3 old)`. */
export interface EncryptedColumn {
    select: string;
    update: string;
}

/** The column `column` of `table`, whose rows are named by their `uuid` (a constant of the code, never input). */
export function encryptedColumn(table: string, column: string): EncryptedColumn {
    return {
        select: `SELECT uuid::text AS uuid, ${column} AS credentials FROM ${table} WHERE ${column} IS NOT NULL`,
        update: `UPDATE ${table} SET ${column} = $2 WHERE uuid = $1 AND ${column} = $3`
    };
}

/** Key rotation of one encrypted column: {@link reencryptRows} over every row of it, each written by compare-and-swap. */
export async function reencryptColumn(
    db: Queryable,
    vault: Vault,
    column: EncryptedColumn,
    owner: (uuid: string) => string,
    failed: string[]
): Promise<number> {
    const rows = await db.query<{ uuid: string; credentials: string }>(column.select);
    return reencryptRows(
        vault,
        rows,
        owner,
        async (uuid, old, ct) => {
            await db.query(column.update, [uuid, ct, old]);
        },
        failed
    );
}
