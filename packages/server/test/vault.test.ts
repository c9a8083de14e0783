import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadOrCreateKeyFile, rotateKeyFile } from '../src/vault/key-file.ts';
import { KeyError, keyId, makeKeyring, parseKey } from '../src/vault/keys.ts';
import { Vault, VaultError } from '../src/vault/vault.ts';
import type { VaultErrorCode } from '../src/vault/vault.ts';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const vaultA = new Vault(makeKeyring(keyA, []));
const OWNER = 'conn_1';

function throwsVault(fn: () => unknown, codes: VaultErrorCode | VaultErrorCode[]): void {
    const expected = Array.isArray(codes) ? codes : [codes];
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof VaultError, `expected VaultError, got ${String(err)}`);
        assert.ok(expected.includes(err.code), `expected ${expected.join('|')}, got ${err.code}`);
        return true;
    });
}

/** Replace the first character of a base64url part by another one (always changes the decoded bytes). */
function tamperPart(ct: string, index: number): string {
    const parts = ct.split('.');
    const p = parts[index]!;
    parts[index] = (p[0] === 'A' ? 'B' : 'A') + p.slice(1);
    return parts.join('.');
}

/** Flip one bit inside the bytes of a part, keeping the encoding canonical. */
function flipBit(ct: string, index: number): string {
    const parts = ct.split('.');
    const bytes = Buffer.from(parts[index]!, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    parts[index] = bytes.toString('base64url');
    return parts.join('.');
}

describe('Vault', () => {
    test('round trip, including empty and non-ASCII plaintexts', () => {
        for (const plaintext of ['refresh-token-123', '', 'ünïcødé 🔑', 'x'.repeat(100_000)]) {
            const ct = vaultA.encrypt(plaintext, OWNER);
            assert.equal(vaultA.decrypt(ct, OWNER), plaintext);
        }
    });

    test('ciphertext is printable, versioned, carries the key id and not the plaintext', () => {
        const ct = vaultA.encrypt('my-secret-token', OWNER);
        assert.match(ct, /^sbv1\.[0-9a-f]{16}(\.[A-Za-z0-9_-]+){4}$/);
        assert.equal(vaultA.keyIdOf(ct), keyId(keyA));
        assert.equal(vaultA.currentKeyId, keyId(keyA));
        assert.ok(!ct.includes('my-secret-token'));
        assert.ok(!ct.includes(Buffer.from('my-secret-token').toString('base64url')));
    });

    test('same plaintext encrypts to different ciphertexts', () => {
        assert.notEqual(vaultA.encrypt('same', OWNER), vaultA.encrypt('same', OWNER));
    });

    test('owner binding: a ciphertext copied to another owner does not decrypt', () => {
        const ct = vaultA.encrypt('secret', 'conn_1');
        throwsVault(() => vaultA.decrypt(ct, 'conn_2'), 'VAULT_DECRYPT_FAILED');
        throwsVault(() => vaultA.decrypt(ct, 'conn_1 '), 'VAULT_DECRYPT_FAILED');
    });

    test('empty owner is refused (it would bind to nothing)', () => {
        assert.throws(() => vaultA.encrypt('secret', ''), TypeError);
        const ct = vaultA.encrypt('secret', OWNER);
        assert.throws(() => vaultA.decrypt(ct, ''), TypeError);
    });

    test('tampering with any part fails', () => {
        const ct = vaultA.encrypt('secret value', OWNER);
        throwsVault(() => vaultA.decrypt(tamperPart(ct, 0), OWNER), 'VAULT_MALFORMED'); // version
        throwsVault(
            () =>
                vaultA.decrypt(
                    ct.replace(/^sbv1\.(.)/, (_, c: string) => `sbv1.${c === 'a' ? 'b' : 'a'}`),
                    OWNER
                ),
            'VAULT_UNKNOWN_KEY'
        );
        for (const index of [2, 3, 4, 5]) {
            // wrapped key, iv, ciphertext, tag
            throwsVault(() => vaultA.decrypt(flipBit(ct, index), OWNER), 'VAULT_DECRYPT_FAILED');
            throwsVault(() => vaultA.decrypt(tamperPart(ct, index), OWNER), ['VAULT_DECRYPT_FAILED', 'VAULT_MALFORMED']);
        }
        // Every single-character change anywhere in the string is detected.
        for (let i = 0; i < ct.length; i++) {
            const c = ct[i] === 'A' ? 'B' : 'A';
            const changed = ct.slice(0, i) + c + ct.slice(i + 1);
            throwsVault(() => vaultA.decrypt(changed, OWNER), ['VAULT_DECRYPT_FAILED', 'VAULT_MALFORMED', 'VAULT_UNKNOWN_KEY']);
        }
        // Parts swapped between two ciphertexts of the same owner do not mix.
        const other = vaultA.encrypt('other value', OWNER).split('.');
        const mixed = ct.split('.');
        mixed[2] = other[2]!;
        throwsVault(() => vaultA.decrypt(mixed.join('.'), OWNER), 'VAULT_DECRYPT_FAILED');
    });

    test('malformed input is reported as VAULT_MALFORMED', () => {
        const ct = vaultA.encrypt('secret', OWNER);
        for (const bad of ['', 'plaintext', `${ct}.x`, ct.split('.').slice(0, 5).join('.'), `sbv2${ct.slice(4)}`, `${ct}=`, ct.replace(/\.([^.]+)$/, '.$1A')]) {
            throwsVault(() => vaultA.decrypt(bad, OWNER), 'VAULT_MALFORMED');
        }
        throwsVault(() => vaultA.keyIdOf('nope'), 'VAULT_MALFORMED');
        throwsVault(() => vaultA.decrypt(42 as unknown as string, OWNER), 'VAULT_MALFORMED');
    });

    test('unknown key id', () => {
        const ct = vaultA.encrypt('secret', OWNER);
        const vaultB = new Vault(makeKeyring(keyB, []));
        throwsVault(() => vaultB.decrypt(ct, OWNER), 'VAULT_UNKNOWN_KEY');
    });

    test('JSON helpers', () => {
        const value = { access_token: 'at', refresh_token: 'rt', expires_at: 1_700_000_000, scopes: ['a', 'b'] };
        const ct = vaultA.encryptJson(value, OWNER);
        assert.deepEqual(vaultA.decryptJson<typeof value>(ct, OWNER), value);
        assert.throws(() => vaultA.encryptJson(undefined, OWNER), TypeError);
        const notJson = vaultA.encrypt('{not json: secret', OWNER);
        assert.throws(
            () => vaultA.decryptJson(notJson, OWNER),
            (err: unknown) => err instanceof VaultError && err.code === 'VAULT_MALFORMED' && !err.message.includes('secret')
        );
    });

    test('rotation: old ciphertexts decrypt with a previous key and re-encrypt to the current one', () => {
        const ctA = vaultA.encrypt('crown jewel', OWNER);
        const vaultBA = new Vault(makeKeyring(keyB, [keyA]));
        assert.equal(vaultBA.decrypt(ctA, OWNER), 'crown jewel');
        assert.equal(vaultBA.needsRotation(ctA), true);
        assert.equal(vaultA.needsRotation(ctA), false);

        const ctB = vaultBA.reencrypt(ctA, OWNER);
        assert.equal(vaultBA.keyIdOf(ctB), keyId(keyB));
        assert.equal(vaultBA.needsRotation(ctB), false);
        // Key A can now be retired: the new ciphertext decrypts without it.
        assert.equal(new Vault(makeKeyring(keyB, [])).decrypt(ctB, OWNER), 'crown jewel');
        throwsVault(() => vaultA.decrypt(ctB, OWNER), 'VAULT_UNKNOWN_KEY');
        // Re-encryption keeps the owner binding.
        throwsVault(() => vaultBA.reencrypt(ctA, 'conn_2'), 'VAULT_DECRYPT_FAILED');
    });
});

describe('keys', () => {
    test('parseKey accepts base64, base64url and hex', () => {
        const key = Buffer.from('fb'.repeat(16) + 'ff'.repeat(16), 'hex'); // contains + and / in base64
        assert.ok(key.toString('base64').includes('+') || key.toString('base64').includes('/'));
        assert.deepEqual(parseKey(key.toString('base64')), key);
        assert.deepEqual(parseKey(key.toString('base64url')), key);
        assert.deepEqual(parseKey(key.toString('hex')), key);
        assert.deepEqual(parseKey(key.toString('hex').toUpperCase()), key);
        assert.deepEqual(parseKey(`${key.toString('base64')}\n`), key);
    });

    test('parseKey refuses wrong lengths and junk with a clear message that does not echo the value', () => {
        const junk = [
            '',
            'secret',
            randomBytes(16).toString('base64'),
            randomBytes(31).toString('hex'),
            randomBytes(33).toString('base64url'),
            randomBytes(48).toString('base64'), // 64 chars, but not hex
            `${randomBytes(32).toString('base64').slice(0, 42)}!=`,
            `${randomBytes(32).toString('base64url').slice(0, 42)}+`, // mixed alphabets
            'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=' // non-canonical: spare bits set
        ];
        for (const text of junk) {
            assert.throws(
                () => parseKey(text),
                (err: unknown) => {
                    assert.ok(err instanceof KeyError);
                    assert.equal(err.code, 'VAULT_KEY_INVALID');
                    assert.match(err.message, /32-byte key .* base64 .* base64url .* hex/);
                    if (text.length > 0) assert.ok(!err.message.includes(text.trim()), 'message must not echo the key');
                    return true;
                },
                text
            );
        }
    });

    test('keyId is stable, short and not a prefix of the key', () => {
        assert.equal(keyId(keyA), keyId(Buffer.from(keyA)));
        assert.match(keyId(keyA), /^[0-9a-f]{16}$/);
        assert.notEqual(keyId(keyA), keyId(keyB));
        assert.ok(!keyA.toString('hex').startsWith(keyId(keyA)));
    });

    test('makeKeyring drops duplicates and refuses wrong key sizes', () => {
        const ring = makeKeyring(keyB, [keyA, keyB, Buffer.from(keyA)]);
        assert.equal(ring.current.id, keyId(keyB));
        assert.deepEqual(
            ring.previous.map((k) => k.id),
            [keyId(keyA)]
        );
        assert.throws(() => makeKeyring(randomBytes(16), []), KeyError);
    });
});

describe('key file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-vault-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const posix = process.platform !== 'win32';

    test('created with mode 0600 in a new 0700 folder, then reused', () => {
        const file = path.join(dir, 'new', 'nested', 'vault-key.json');
        const first = loadOrCreateKeyFile(file);
        assert.equal(first.created, true);
        if (posix) {
            assert.equal(fs.statSync(file).mode & 0o777, 0o600);
            assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        }
        const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { current: string; previous: string[] };
        assert.deepEqual(parseKey(json.current), first.keyring.current.key);
        assert.deepEqual(json.previous, []);

        const second = loadOrCreateKeyFile(file);
        assert.equal(second.created, false);
        assert.equal(second.keyring.current.id, first.keyring.current.id);
        const ct = new Vault(first.keyring).encrypt('secret', OWNER);
        assert.equal(new Vault(second.keyring).decrypt(ct, OWNER), 'secret');
    });

    test('refused when readable by group or others', { skip: !posix }, () => {
        const file = path.join(dir, 'loose.json');
        loadOrCreateKeyFile(file);
        fs.chmodSync(file, 0o644);
        assert.throws(
            () => loadOrCreateKeyFile(file),
            (err: unknown) => err instanceof KeyError && err.code === 'VAULT_KEY_FILE_INSECURE' && err.message.includes('chmod 600')
        );
        fs.chmodSync(file, 0o600);
        assert.equal(loadOrCreateKeyFile(file).created, false);
    });

    test('invalid content is refused without echoing it', () => {
        const file = path.join(dir, 'bad.json');
        fs.writeFileSync(file, '{"current": "not-a-key-SECRETISH"}', { mode: 0o600 });
        assert.throws(
            () => loadOrCreateKeyFile(file),
            (err: unknown) =>
                err instanceof KeyError && err.code === 'VAULT_KEY_FILE_INVALID' && /"current"/.test(err.message) && !err.message.includes('SECRETISH')
        );
        fs.writeFileSync(file, 'SECRETISH not json');
        assert.throws(
            () => loadOrCreateKeyFile(file),
            (err: unknown) => err instanceof KeyError && err.message.includes('not valid JSON') && !err.message.includes('SECRETISH')
        );
    });

    test('rotateKeyFile makes a new current key and keeps the old one decryptable', () => {
        const file = path.join(dir, 'rotate.json');
        const { keyring: original } = loadOrCreateKeyFile(file);
        const ct = new Vault(original).encrypt('old secret', OWNER);

        const rotated = rotateKeyFile(file);
        assert.notEqual(rotated.current.id, original.current.id);
        assert.deepEqual(
            rotated.previous.map((k) => k.id),
            [original.current.id]
        );
        if (posix) assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.deepEqual(
            fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
            []
        );

        const reloaded = loadOrCreateKeyFile(file);
        assert.equal(reloaded.created, false);
        assert.equal(reloaded.keyring.current.id, rotated.current.id);
        const vault = new Vault(reloaded.keyring);
        assert.equal(vault.decrypt(ct, OWNER), 'old secret');
        assert.equal(vault.needsRotation(ct), true);

        // A second rotation puts the newest old key first.
        const again = rotateKeyFile(file);
        assert.deepEqual(
            again.previous.map((k) => k.id),
            [rotated.current.id, original.current.id]
        );
    });
});
