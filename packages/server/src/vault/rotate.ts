import type { Vault } from './vault.ts';

/**
 * Re-encrypts, under the current key, each row whose ciphertext names an older key. A row that cannot be
 * decrypted (wrong owner, lost key) is listed in `failed` and skipped, so it does not leave every later row
 * on the old key. `write` should compare-and-swap on the old ciphertext: a concurrent writer already used
 * the current key.
 */
export async function reencryptRows(
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
