import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

/**
 * GitHub App authentication (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app):
 * an RS256 JWT whose `iss` is the app id, `iat` 60 s in the past (clock drift) and `exp` at most 10 minutes
 * ahead. We use 9 minutes so a clock slightly ahead of GitHub's is still accepted.
 */
export const APP_JWT_TTL_SECONDS = 9 * 60;
const CLOCK_DRIFT_SECONDS = 60;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The private key as a KeyObject, or a readable reason why it is not a usable RSA private key. */
export function parseRsaPrivateKey(pem: string): { ok: true; key: KeyObject } | { ok: false; reason: string } {
    try {
        const key = createPrivateKey({ key: pem, format: 'pem' });
        if (key.asymmetricKeyType !== 'rsa') return { ok: false, reason: `expected an RSA key, got ${key.asymmetricKeyType ?? 'an unknown type'}` };
        return { ok: true, key };
    } catch {
        // The library's message can quote parts of the input; never echo the key.
        return { ok: false, reason: 'not a PEM-encoded private key' };
    }
}

/** Signs the app JWT. Throws when the key is unusable; the JWT itself must never be logged or stored. */
export function appJwt(appId: string, privateKey: KeyObject, nowMs: number): string {
    const now = Math.floor(nowMs / 1000);
    const signingInput = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iat: now - CLOCK_DRIFT_SECONDS, exp: now + APP_JWT_TTL_SECONDS, iss: appId })}`;
    // RS256 = RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), node's default padding for RSA keys.
    const signature = sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
}
