import { createHmac, randomBytes } from 'node:crypto';

// Keyed per process: a fingerprint tells two values apart within one plan, and is useless as a guessing oracle
// anywhere else (it is never printed, but a heap dump or a debug log should not hold a stable hash either).
const key = randomBytes(32);

/** A fingerprint of secret values (order-independent over object keys); undefined fields are left out. */
export function fingerprint(values: Record<string, string | undefined | null>): string {
    const entries = Object.entries(values)
        .filter((e): e is [string, string] => typeof e[1] === 'string')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHmac('sha256', key).update(JSON.stringify(entries)).digest('base64url');
}
