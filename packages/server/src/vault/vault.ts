// The vault: every credential and client secret is encrypted here before it reaches storage.
// There is deliberately no plaintext mode (docs/security.md, item 13).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KEY_BYTES } from './keys.ts';
import type { Keyring, VaultKey } from './keys.ts';

export type VaultErrorCode = 'VAULT_UNKNOWN_KEY' | 'VAULT_DECRYPT_FAILED' | 'VAULT_MALFORMED';

/** A ciphertext could not be opened; `code` is stable, `cause` keeps the crypto error. */
export class VaultError extends Error {
    readonly code: VaultErrorCode;

    constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = 'VaultError';
        this.code = code;
    }
}

/*
 * Ciphertext layout (one printable string, safe in a TEXT column, JSON and logs-by-mistake):
 *
 *   sbv1.<kid>.<wrapped>.<iv>.<ct>.<tag>
 *
 *   sbv1     format version
 *   kid      16 hex chars, id of the master key that wrapped the data key (see keys.ts keyId)
 *   wrapped  base64url( wrapIv[12] || AES-256-GCM(master, dek)[32] || wrapTag[16] ), AAD = kid + "." + owner
 *   iv       base64url, 12 bytes
 *   ct       base64url, AES-256-GCM(dek, plaintext), AAD = owner
 *   tag      base64url, 16 bytes
 *
 * Why envelope encryption: each ciphertext has its own random data key (DEK), so a master key never
 * encrypts more than 32-byte random values — far from GCM's per-key limits on random IVs (NIST SP 800-38D §8.3)
 * — and rotating the master key only needs the small wrapped DEK re-made, with the kid saying which key to use.
 * Why AAD = owner (the connection / integration id): a ciphertext copied into another row fails to decrypt
 * instead of handing one tenant's token to another. The kid is in the wrap AAD so it cannot be swapped either.
 */
const VERSION = 'sbv1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + KEY_BYTES + TAG_BYTES;
const KID = /^[0-9a-f]{16}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

type Parsed = { kid: string; wrapped: Buffer; iv: Buffer; ct: Buffer; tag: Buffer };

/** Envelope encryption (AES-256-GCM) with key ids for rotation and owner binding; see the layout above. */
export class Vault {
    #current: VaultKey;
    #keys: ReadonlyMap<string, Buffer>;

    constructor(keyring: Keyring) {
        this.#current = keyring.current;
        this.#keys = new Map([keyring.current, ...keyring.previous].map((k) => [k.id, k.key]));
    }

    /** Swaps in a new keyring (key-file rotation while running); ciphertexts under any of its keys decrypt. */
    useKeyring(keyring: Keyring): void {
        this.#current = keyring.current;
        this.#keys = new Map([keyring.current, ...keyring.previous].map((k) => [k.id, k.key]));
    }

    /** Id of the key new ciphertexts are made with. */
    get currentKeyId(): string {
        return this.#current.id;
    }

    /** Encrypt `plaintext` for `owner` (e.g. the connection id) with the current master key. */
    encrypt(plaintext: string, owner: string): string {
        checkOwner(owner);
        const { id: kid, key: master } = this.#current;
        const dek = randomBytes(KEY_BYTES);
        try {
            const wrapped = seal(master, dek, wrapAad(kid, owner));
            const data = seal(dek, Buffer.from(plaintext, 'utf8'), Buffer.from(owner, 'utf8'));
            const iv = data.subarray(0, IV_BYTES);
            const tag = data.subarray(data.length - TAG_BYTES);
            const ct = data.subarray(IV_BYTES, data.length - TAG_BYTES);
            return [VERSION, kid, wrapped, iv, ct, tag].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
        } finally {
            dek.fill(0);
        }
    }

    /** Decrypt a ciphertext made for `owner` with the current or any previous master key. */
    decrypt(ciphertext: string, owner: string): string {
        checkOwner(owner);
        const { kid, wrapped, iv, ct, tag } = parse(ciphertext);
        const master = this.#keys.get(kid);
        if (!master) {
            throw new VaultError('VAULT_UNKNOWN_KEY', `ciphertext was made with vault key ${kid}, which is not in the keyring`);
        }
        let dek: Buffer | undefined;
        try {
            dek = open(master, wrapped, wrapAad(kid, owner));
            return open(dek, Buffer.concat([iv, ct, tag]), Buffer.from(owner, 'utf8')).toString('utf8');
        } catch (cause) {
            throw new VaultError('VAULT_DECRYPT_FAILED', 'ciphertext failed authentication (tampered, or made for another owner)', { cause });
        } finally {
            dek?.fill(0);
        }
    }

    /** Encrypt any JSON-serialisable value. */
    encryptJson(value: unknown, owner: string): string {
        const json = JSON.stringify(value);
        if (json === undefined) throw new TypeError('vault: value is not JSON-serialisable');
        return this.encrypt(json, owner);
    }

    /** Decrypt a ciphertext made by encryptJson; the type parameter is the caller's claim, not a check. */
    decryptJson<T = unknown>(ciphertext: string, owner: string): T {
        const json = this.decrypt(ciphertext, owner);
        try {
            return JSON.parse(json) as T;
        } catch {
            // No cause on purpose: JSON.parse's message quotes the input, which is the secret.
            throw new VaultError('VAULT_MALFORMED', 'decrypted value is not JSON');
        }
    }

    /** Id of the master key a ciphertext was made with. */
    keyIdOf(ciphertext: string): string {
        return parse(ciphertext).kid;
    }

    /** True when this vault holds the master key with this id. */
    hasKey(kid: string): boolean {
        return this.#keys.has(kid);
    }

    /** True when the ciphertext was not made with the current key and should be re-encrypted. */
    needsRotation(ciphertext: string): boolean {
        return this.keyIdOf(ciphertext) !== this.#current.id;
    }

    /** Decrypt with whichever key made it, encrypt again with the current key (fresh data key too). */
    reencrypt(ciphertext: string, owner: string): string {
        return this.encrypt(this.decrypt(ciphertext, owner), owner);
    }
}

function checkOwner(owner: string): void {
    // An empty owner would bind the ciphertext to nothing, silently disabling the copy-to-another-row defence.
    if (typeof owner !== 'string' || owner.length === 0) throw new TypeError('vault: owner must be a non-empty string');
}

function wrapAad(kid: string, owner: string): Buffer {
    return Buffer.from(`${kid}.${owner}`, 'utf8'); // kid is fixed-length hex, so the join is unambiguous
}

/** AES-256-GCM with a fresh random IV; returns iv || ciphertext || tag. */
function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, ct, cipher.getAuthTag()]);
}

/** Inverse of seal; throws when authentication fails. */
function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

function parse(ciphertext: string): Parsed {
    const malformed = (why: string) => new VaultError('VAULT_MALFORMED', `not a vault ciphertext: ${why}`);
    if (typeof ciphertext !== 'string') throw malformed('not a string');
    const parts = ciphertext.split('.');
    if (parts.length !== 6) throw malformed(`expected 6 dot-separated parts, got ${parts.length}`);
    const [version, kid, ...rest] = parts as [string, string, string, string, string, string];
    if (version !== VERSION) throw malformed(`unknown version "${version.slice(0, 8)}"`);
    if (!KID.test(kid)) throw malformed('bad key id');
    const [wrapped, iv, ct, tag] = rest.map((part, i) => {
        // Node's decoder skips invalid characters and ignores the spare bits of the last one; insist on the
        // canonical spelling so every change to the string is a change to the bytes (and so is detected).
        const bytes = Buffer.from(part, 'base64url');
        if (!B64URL.test(part) || bytes.toString('base64url') !== part) throw malformed(`part ${i + 3} is not base64url`);
        return bytes;
    }) as [Buffer, Buffer, Buffer, Buffer];
    if (wrapped.length !== WRAPPED_BYTES) throw malformed('bad wrapped key length');
    if (iv.length !== IV_BYTES) throw malformed('bad iv length');
    if (tag.length !== TAG_BYTES) throw malformed('bad tag length');
    return { kid, wrapped, iv, ct, tag };
}
