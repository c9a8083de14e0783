// Master keys: parsing from configuration, key ids, and the keyring the Vault decrypts with.
import { createHash } from 'node:crypto';

/** Length of every master key and data key: AES-256. */
export const KEY_BYTES = 32;

export type KeyErrorCode = 'VAULT_KEY_INVALID' | 'VAULT_KEY_FILE_INVALID' | 'VAULT_KEY_FILE_INSECURE';

/** A master key or key file could not be used. Messages never contain key material. */
export class KeyError extends Error {
    readonly code: KeyErrorCode;

    constructor(message: string, code: KeyErrorCode = 'VAULT_KEY_INVALID', options?: { cause?: unknown }) {
        super(message, options);
        this.name = 'KeyError';
        this.code = code;
    }
}

export type VaultKey = { readonly id: string; readonly key: Buffer };

/** The current key encrypts; previous keys only decrypt, so old ciphertexts stay readable during rotation. */
export type Keyring = { readonly current: VaultKey; readonly previous: readonly VaultKey[] };

// Each accepted spelling, with the canonical form Node re-encodes to (hex is case-insensitive).
const FORMATS: ReadonlyArray<{ pattern: RegExp; encoding: BufferEncoding }> = [
    { pattern: /^[0-9a-fA-F]{64}$/, encoding: 'hex' },
    { pattern: /^[A-Za-z0-9+/]{43}=$/, encoding: 'base64' },
    { pattern: /^[A-Za-z0-9_-]{43}$/, encoding: 'base64url' }
];

/**
 * Parse a 32-byte key written as standard base64 (44 chars), base64url (43 chars) or hex (64 chars).
 * The caller prefixes the message with the variable name; the message never echoes the value, which is a secret.
 */
export function parseKey(text: string): Buffer {
    const value = text.trim(); // tolerate the trailing newline of `openssl rand -base64 32 > file`
    const format = FORMATS.find((f) => f.pattern.test(value));
    const key = format ? Buffer.from(value, format.encoding) : undefined;
    // Re-encoding rejects spare bits set in the last base64 character: two spellings of one key would be a trap.
    const canonical = format?.encoding === 'hex' ? value.toLowerCase() : value;
    if (!format || !key || key.length !== KEY_BYTES || key.toString(format.encoding) !== canonical) {
        throw new KeyError(
            `must be a 32-byte key encoded as base64 (44 chars), base64url (43 chars) or hex (64 chars); ` +
                `got ${value.length} characters that are not such an encoding (generate one with \`openssl rand -base64 32\`)`
        );
    }
    return key;
}

// A fixed label makes the id a hash in its own domain: it reveals nothing about the key beyond telling keys apart.
const KEY_ID_LABEL = 'switchboard vault key id v1\0';

/** Public identifier of a master key: the first 16 hex chars of SHA-256(label || key). */
export function keyId(key: Buffer): string {
    return createHash('sha256').update(KEY_ID_LABEL).update(key).digest('hex').slice(0, 16);
}

/** Build a keyring; previous keys equal to the current one or to each other are dropped. */
export function makeKeyring(current: Buffer, previous: Buffer[]): Keyring {
    const toKey = (key: Buffer): VaultKey => {
        if (key.length !== KEY_BYTES) throw new KeyError(`a vault key must be ${KEY_BYTES} bytes, got ${key.length}`);
        return { id: keyId(key), key: Buffer.from(key) }; // copy: the caller may reuse or zero its buffer
    };
    const cur = toKey(current);
    const seen = new Set([cur.id]);
    const prev: VaultKey[] = [];
    for (const buf of previous) {
        const k = toKey(buf);
        if (seen.has(k.id)) continue;
        seen.add(k.id);
        prev.push(k);
    }
    return { current: cur, previous: prev };
}
