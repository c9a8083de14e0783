// Key file for the embedded mode: a local JSON file holding the master keys, so `switchboard` runs
// with encryption on and zero configuration. Production deployments pass keys through config instead.
//
// Format: { "current": "<base64>", "previous": ["<base64>", ...] }, mode 0600, in a 0700 folder.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KEY_BYTES, KeyError, makeKeyring, parseKey } from './keys.ts';
import type { Keyring } from './keys.ts';

type KeyFileJson = { current: string; previous: string[] };

/** Read the key file at `file`, or create it with a fresh random key if it does not exist. */
export function loadOrCreateKeyFile(file: string): { keyring: Keyring; created: boolean } {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    let fd: number;
    try {
        // 'wx' fails if the file exists: two processes starting at once never overwrite each other's key
        // (which would make everything the first one encrypted unreadable).
        fd = fs.openSync(file, 'wx', 0o600);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        waitUntilWritten(file);
        return { keyring: readKeyFile(file), created: false };
    }
    try {
        fs.writeSync(fd, serialise({ current: key.toString('base64'), previous: [] }));
        fs.fsyncSync(fd);
    } catch (err) {
        fs.closeSync(fd);
        fs.rmSync(file, { force: true }); // an empty key file would block every later start
        throw err;
    }
    fs.closeSync(fd);
    return { keyring: makeKeyring(key, []), created: true };
}

/**
 * Make a new random current key; the old current becomes the first previous key, so existing
 * ciphertexts stay readable until they are re-encrypted. Running processes see the new key after a restart.
 */
export function rotateKeyFile(file: string): Keyring {
    const old = readKeyFile(file);
    const keyring = makeKeyring(randomBytes(KEY_BYTES), [old.current.key, ...old.previous.map((k) => k.key)]);
    const json: KeyFileJson = {
        current: keyring.current.key.toString('base64'),
        previous: keyring.previous.map((k) => k.key.toString('base64'))
    };
    // Write a private temp file and rename it over the old one: a crash leaves the old or the new file, never half of one.
    const tmp = `${file}.${randomUUID()}.tmp`;
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
        fs.writeSync(fd, serialise(json));
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    return keyring;
}

function serialise(json: KeyFileJson): string {
    return `${JSON.stringify(json, null, 2)}\n`;
}

function readKeyFile(file: string): Keyring {
    const bad = (why: string, cause?: unknown) =>
        new KeyError(`vault key file ${file}: ${why}`, 'VAULT_KEY_FILE_INVALID', cause === undefined ? undefined : { cause });
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw bad('is not a regular file');
    // Like ssh with private keys: a key readable by others is a leaked key, so refuse rather than warn.
    // (Windows has no POSIX mode bits; its ACLs are the user's business.)
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        const mode = (stat.mode & 0o777).toString(8).padStart(3, '0');
        throw new KeyError(`vault key file ${file} has mode ${mode}, readable by other users; run \`chmod 600 ${file}\``, 'VAULT_KEY_FILE_INSECURE');
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
        // No cause: JSON.parse's message quotes the file content, i.e. the keys.
        throw bad('is not valid JSON');
    }
    const json = toKeyFileJson(parsed);
    if (!json) throw bad('expected {"current": "<base64 key>", "previous": ["<base64 key>", ...]}');
    const parse = (text: string, where: string) => {
        try {
            return parseKey(text);
        } catch (err) {
            throw bad(`${where} ${(err as Error).message}`, err);
        }
    };
    return makeKeyring(
        parse(json.current, '"current"'),
        json.previous.map((k, i) => parse(k, `"previous[${i}]"`))
    );
}

function toKeyFileJson(v: unknown): KeyFileJson | undefined {
    if (typeof v !== 'object' || v === null) return undefined;
    const { current, previous = [] } = v as Record<string, unknown>; // "previous" may be omitted
    if (typeof current !== 'string' || !Array.isArray(previous)) return undefined;
    return previous.every((k) => typeof k === 'string') ? { current, previous } : undefined;
}

/** Wait (briefly, synchronously) while another process that just won the 'wx' race writes its key. */
function waitUntilWritten(file: string): void {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 50 && fs.statSync(file).size === 0; i++) Atomics.wait(pause, 0, 0, 20);
}
