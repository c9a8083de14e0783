import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { startUpstream, json, type RecordedRequest } from './upstream.ts';

/** A PKCS#1 PEM RSA key pair, the format GitHub hands out for app private keys. */
export function rsaKeyPair(): { privateKey: string; publicKey: KeyObject } {
    const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' }
    });
    return { privateKey, publicKey: createPublicKey(privateKey) };
}

export interface AppJwtCheck {
    ok: boolean;
    reason?: string;
}

/** What GitHub checks on an app JWT: RS256, the app's key, iss = app id, iat not in the future, exp ≤ iat + 10 min and not past. */
export function checkAppJwt(jwt: string, publicKey: KeyObject, appId: string, nowMs = Date.now()): AppJwtCheck {
    const parts = jwt.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'A JSON web token could not be decoded' };
    const [h, p, sig] = parts as [string, string, string];
    let header: { alg?: string };
    let claims: { iss?: unknown; iat?: number; exp?: number };
    try {
        header = JSON.parse(Buffer.from(h, 'base64url').toString()) as typeof header;
        claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof claims;
    } catch {
        return { ok: false, reason: 'A JSON web token could not be decoded' };
    }
    if (header.alg !== 'RS256') return { ok: false, reason: `unexpected alg ${header.alg}` };
    if (!verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, 'base64url')))
        return { ok: false, reason: 'A JSON web token could not be decoded' };
    const now = Math.floor(nowMs / 1000);
    if (String(claims.iss) !== appId) return { ok: false, reason: 'Integration not found' };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return { ok: false, reason: "Missing 'iat' or 'exp' claim" };
    if (claims.iat > now + 5) return { ok: false, reason: "'Issued at' claim ('iat') must be an Integer representing a time in the past" };
    if (claims.exp - claims.iat > 600) return { ok: false, reason: "'Expiration time' claim ('exp') is too far in the future" };
    if (claims.exp <= now) return { ok: false, reason: "'Expiration time' claim ('exp') must be a numeric value representing the future time" };
    return { ok: true };
}

export interface GitHubStandIn {
    url: string;
    appId: string;
    privateKey: string;
    requests: RecordedRequest[];
    /** JWTs and installation tokens handed out, to check that none of them reaches the logs. */
    jwts: string[];
    tokens: string[];
    mints: number;
    /** Installations of the app; removing one is an uninstall. */
    installations: Set<string>;
    /** Where the install page sends the browser (the app's Setup URL) and with which query. */
    setup: { url: string; query: (state: string) => Record<string, string> };
    tokenTtlMs: number;
    close(): Promise<void>;
}

/**
 * A loopback stand-in for the parts of GitHub a GitHub App connection uses: the install page (redirects to the
 * Setup URL with installation_id, setup_action and state), POST /app/installations/:id/access_tokens (verifies
 * the app JWT against the app's public key) and GET /installation/repositories (checks the installation token).
 */
export async function startGitHubStandIn(appId = '424242'): Promise<GitHubStandIn> {
    const { privateKey, publicKey } = rsaKeyPair();
    const issued = new Map<string, { installation: string; expiresAt: number }>();
    const self: Omit<GitHubStandIn, 'url' | 'requests' | 'close'> = {
        appId,
        privateKey,
        jwts: [],
        tokens: [],
        mints: 0,
        installations: new Set(['1001']),
        setup: { url: '', query: (state) => ({ installation_id: '1001', setup_action: 'install', state }) },
        tokenTtlMs: 60 * 60 * 1000
    };
    const up = await startUpstream((req, res) => {
        const url = new URL(req.url, 'http://x');
        if (req.method === 'GET' && url.pathname === '/apps/test-app/installations/new') {
            const target = new URL(self.setup.url);
            for (const [k, v] of Object.entries(self.setup.query(url.searchParams.get('state') ?? ''))) target.searchParams.set(k, v);
            res.writeHead(302, { location: target.href });
            res.end();
            return;
        }
        const mint = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(url.pathname);
        if (req.method === 'POST' && mint) {
            const jwt = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
            self.jwts.push(jwt);
            const check = checkAppJwt(jwt, publicKey, appId);
            if (!check.ok) return json(res, 401, { message: check.reason, documentation_url: 'https://docs.github.com/rest' });
            if (!self.installations.has(mint[1]!)) return json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
            self.mints++;
            const token = `ghs_${randomBytes(18).toString('base64url')}`;
            const expiresAt = Date.now() + self.tokenTtlMs;
            issued.set(token, { installation: mint[1]!, expiresAt });
            self.tokens.push(token);
            return json(res, 201, {
                token,
                expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
                permissions: { contents: 'read' },
                repository_selection: 'all'
            });
        }
        if (req.method === 'GET' && url.pathname === '/installation/repositories') {
            const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
            const grant = issued.get(token);
            if (!grant || grant.expiresAt <= Date.now()) return json(res, 401, { message: 'Bad credentials' });
            return json(res, 200, { total_count: 1, repositories: [{ full_name: `installation-${grant.installation}/repo` }] });
        }
        // DELETE /installation/token: the installation token revokes itself (204), as GitHub documents.
        if (req.method === 'DELETE' && url.pathname === '/installation/token') {
            const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
            if (!issued.delete(token)) return json(res, 401, { message: 'Bad credentials' });
            res.writeHead(204);
            return void res.end();
        }
        json(res, 404, { message: 'Not Found' });
    });
    return Object.assign(self, { url: up.url, requests: up.requests, close: up.close });
}

/** A providers file entry for the stand-in, shaped like the built-in github-app. */
export function githubAppProviderYaml(gh: { url: string }, name = 'test-github-app'): string {
    return `
${name}:
  display_name: Test GitHub App
  auth_mode: APP
  authorization_url: \${connectionConfig.appPublicLink}/installations/new
  token_url: ${gh.url}/app/installations/\${connectionConfig.installation_id}/access_tokens
  revocation_url: ${gh.url}/installation/token
  revocation_method: DELETE
  revocation_auth_method: bearer
  revocation_body_format: none
  proxy:
    base_url: ${gh.url}
    headers:
      Accept: application/vnd.github+json
`;
}
