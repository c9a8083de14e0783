import type { Queryable } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import { ConfigError } from '../errors.ts';
import type { Vault } from './vault.ts';

// The newest rows of every table holding ciphertexts: enough to tell a wrong key from a few stale rows.
const SAMPLE = `
    (SELECT credentials AS ct FROM connections ORDER BY updated_at DESC LIMIT 20)
    UNION ALL (SELECT credentials FROM integrations WHERE credentials IS NOT NULL ORDER BY updated_at DESC LIMIT 20)
    UNION ALL (SELECT custom_secrets FROM integrations WHERE custom_secrets IS NOT NULL ORDER BY updated_at DESC LIMIT 20)
    UNION ALL (SELECT signing_secret FROM webhook_settings ORDER BY updated_at DESC LIMIT 20)`;

/**
 * Refuses to start when the configured keys cannot read the data (a wrong SWITCHBOARD_ENCRYPTION_KEY would
 * otherwise start fine and answer 500 on every credential read), and warns when only some rows use a key that
 * is no longer configured (an old key dropped before its rotation finished).
 */
export async function checkKeysMatchData(db: Queryable, vault: Vault, log: Logger): Promise<void> {
    const rows = await db.query<{ ct: string }>(SAMPLE);
    const kids = new Map<string, number>();
    for (const { ct } of rows) {
        let kid: string;
        try {
            kid = vault.keyIdOf(ct);
        } catch {
            continue; // malformed rows are reported when read
        }
        kids.set(kid, (kids.get(kid) ?? 0) + 1);
    }
    const unknown = [...kids.keys()].filter((k) => !vault.hasKey(k));
    if (!unknown.length) return;
    if (unknown.length === kids.size) {
        throw new ConfigError(
            `the encryption key does not match the stored data (it was encrypted with key id ${unknown.join(', ')}, configured: ${vault.currentKeyId}): ` +
                'set SWITCHBOARD_ENCRYPTION_KEY to the key the data was written with, adding newer ones through SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS'
        );
    }
    log.warn(
        { unknownKeyIds: unknown },
        'some stored secrets use an encryption key that is not configured; they cannot be read until it is added to SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS'
    );
}
