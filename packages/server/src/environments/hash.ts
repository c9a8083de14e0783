import { createHash, randomUUID } from 'node:crypto';

/** SHA-256 hex of a key: what is stored and compared, never the key itself. */
export function hashKey(key: string): string {
    return createHash('sha256').update(key).digest('hex');
}

// Every authenticated request presents its key; hashing it each time was a visible share of a proxied request.
// Bounded, because the keys come from callers (wrong ones too): when full it starts over.
const MEMO_MAX = 256;
const memo = new Map<string, string>();
export function hashKeyMemo(key: string): string {
    let hash = memo.get(key);
    if (hash === undefined) {
        if (memo.size >= MEMO_MAX) memo.clear();
        hash = hashKey(key);
        memo.set(key, hash);
    }
    return hash;
}

/** A new secret key: a UUID v4, the format Nango's SDKs and middleware expect of a secret key. */
export const newKey = (): string => randomUUID();
