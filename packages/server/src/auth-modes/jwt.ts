// JWT: the token is a JWT signed from the end user's inputs (a key id, a private key or shared secret), as the
// provider's `signature` and `token` fields say; re-signed when it is about to expire. jose signs.
import { importPKCS8, SignJWT, type CryptoKey, type JWTHeaderParameters } from 'jose';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { JwtCredentials } from '../connections/credentials.ts';
import { interpolate, InterpolationError } from '../providers/interpolate.ts';
import { fail } from '../errors.ts';

const DEFAULT_LIFETIME_MS = 5 * 60 * 1000;

/** Signs a new token for `inputs`; a missing or unusable key is `connection_test_failed` naming what is wrong. */
export async function mintJwt(
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    inputs: Record<string, string>,
    now = new Date()
): Promise<JwtCredentials> {
    const spec = def.token;
    const protocol = def.signature?.protocol;
    if (!spec?.signing_key || !spec.header?.alg || (protocol !== 'RSA' && protocol !== 'HMAC' && protocol !== 'EC')) {
        throw fail('invalid_auth_mode', { message: 'The provider definition lacks signature.protocol, token.signing_key or token.header.alg' });
    }
    const fill = (t: string | undefined) => {
        if (t === undefined) return undefined;
        try {
            return interpolate(t, { connectionConfig, credentials: inputs });
        } catch (err) {
            if (err instanceof InterpolationError) throw fail('connection_test_failed', { message: `The JWT cannot be made: ${err.message}` });
            throw err;
        }
    };
    const rawKey = fill(spec.signing_key)!;
    const alg = spec.header.alg;
    let key: Uint8Array | CryptoKey;
    try {
        if (protocol === 'HMAC') key = def.signature?.hmac_secret_encoding === 'hex' ? Buffer.from(rawKey, 'hex') : Buffer.from(rawKey, 'utf8');
        else key = await importPKCS8(rawKey.replace(/\\n/g, '\n'), alg);
    } catch (err) {
        throw fail('connection_test_failed', { message: `The signing key is not a usable ${protocol} key for ${alg}: ${(err as Error).message}` });
    }
    if (key instanceof Uint8Array && key.length === 0) throw fail('connection_test_failed', { message: 'The signing key is empty' });
    const header: JWTHeaderParameters = { alg };
    const typ = fill(spec.header.typ);
    const kid = fill(spec.header.kid);
    if (typ) header.typ = typ;
    if (kid) header.kid = kid;
    const claims: Record<string, unknown> = {};
    const scope = spec.payload?.scope;
    if (scope !== undefined) claims['scope'] = Array.isArray(scope) ? scope.map((s) => fill(s)).join(' ') : fill(scope);
    const iat = Math.floor(now.getTime() / 1000);
    const lifetime = spec.expires_in_ms ?? DEFAULT_LIFETIME_MS;
    const exp = Math.floor((now.getTime() + lifetime) / 1000);
    const jwt = new SignJWT(claims).setProtectedHeader(header).setIssuedAt(iat).setExpirationTime(exp);
    const iss = fill(spec.payload?.iss);
    const sub = fill(spec.payload?.sub);
    const aud = fill(spec.payload?.aud);
    if (iss) jwt.setIssuer(iss);
    if (sub) jwt.setSubject(sub);
    if (aud) jwt.setAudience(aud);
    let token: string;
    try {
        token = await jwt.sign(key);
    } catch (err) {
        throw fail('connection_test_failed', { message: `The JWT could not be signed: ${(err as Error).message}` });
    }
    return { type: 'JWT', inputs, token, expires_at: new Date(exp * 1000).toISOString() };
}
