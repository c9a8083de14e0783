/** The webhook signing secret's format (`whsec_` + base64 of the key bytes, Standard Webhooks), checked at boot and when it is set. */
export const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** The key bytes behind a `whsec_` secret, or undefined when it is not one (bad prefix, base64, or length). */
export function secretKeyBytes(secret: string): Buffer | undefined {
    if (!secret.startsWith(SECRET_PREFIX)) return undefined;
    const b64 = secret.slice(SECRET_PREFIX.length);
    const bytes = Buffer.from(b64, 'base64');
    // Node's decoder skips invalid characters; insisting on the canonical spelling rejects typos instead of signing with other bytes.
    if (bytes.toString('base64') !== b64) return undefined;
    if (bytes.length < MIN_KEY_BYTES || bytes.length > MAX_KEY_BYTES) return undefined;
    return bytes;
}

export function isValidSecret(secret: string): boolean {
    return secretKeyBytes(secret) !== undefined;
}
