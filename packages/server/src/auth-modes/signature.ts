// SIGNATURE: a WSSE UsernameToken made from the end user's user name and secret, as Nango's SIGNATURE mode does
// for Emarsys's X-WSSE header (the WS-Security UsernameToken profile's fields, sent as one HTTP header): a random
// nonce, the creation time, and PasswordDigest = base64 of the hex SHA-1 of nonce + created + secret. A token is
// accepted for a few minutes and a nonce once, so every proxied request gets a new token; the stored one (what
// GET /connections shows) is renewed when it expires.
import { createHash, randomBytes } from 'node:crypto';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { SignatureCredentials } from '../connections/credentials.ts';
import { fail } from '../errors.ts';

const DEFAULT_LIFETIME_MS = 5 * 60 * 1000;

/** PasswordDigest for a nonce and creation time (what the API recomputes). */
export function wsseDigest(nonce: string, created: string, secret: string): string {
    return Buffer.from(
        createHash('sha1')
            .update(nonce + created + secret)
            .digest('hex')
    ).toString('base64');
}

/** One `UsernameToken Username="…", PasswordDigest="…", Nonce="…", Created="…"` value. */
export function wsseToken(username: string, secret: string, now = new Date()): string {
    const nonce = randomBytes(16).toString('hex');
    const created = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `UsernameToken Username="${username}", PasswordDigest="${wsseDigest(nonce, created, secret)}", Nonce="${nonce}", Created="${created}"`;
}

/** Checks the provider's protocol and makes credentials with a fresh token; an unknown protocol is invalid_auth_mode. */
export function mintSignature(def: ProviderDefinition, username: string, password: string, now = new Date()): SignatureCredentials {
    if (def.signature?.protocol !== 'WSSE') {
        throw fail('invalid_auth_mode', { message: `SIGNATURE needs signature.protocol WSSE; the provider says ${def.signature?.protocol ?? 'nothing'}` });
    }
    // A quote or backslash would end the quoted value early and let the user name add fields of its own.
    if (/["\\\r\n]/.test(username)) throw fail('invalid_body', { message: 'The user name cannot hold quotes, backslashes or line breaks' });
    const lifetime = def.token?.expires_in_ms ?? DEFAULT_LIFETIME_MS;
    return { type: 'SIGNATURE', username, password, token: wsseToken(username, password, now), expires_at: new Date(now.getTime() + lifetime).toISOString() };
}
