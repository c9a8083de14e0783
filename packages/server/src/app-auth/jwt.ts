import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * GitHub App authentication (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app):
 * an RS256 JWT whose `iss` is the app id, `iat` 60 s in the past (clock drift) and `exp` at most 10 minutes
 * ahead. We use 9 minutes so a clock slightly ahead of GitHub's is still accepted.
 */
export const APP_JWT_TTL_SECONDS = 9 * 60;
const CLOCK_DRIFT_SECONDS = 60;

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

/**
 * Signs the app JWT with jose. The KeyObject is handed over as is: GitHub issues PKCS#1 ("BEGIN RSA PRIVATE
 * KEY") keys, which jose's importPKCS8 would refuse, while node's createPrivateKey reads both formats. Throws
 * when the key is unusable; the JWT itself must never be logged or stored.
 */
export async function appJwt(appId: string, privateKey: KeyObject, nowMs: number): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(appId)
        .setIssuedAt(now - CLOCK_DRIFT_SECONDS)
        .setExpirationTime(now + APP_JWT_TTL_SECONDS)
        .sign(privateKey);
}
