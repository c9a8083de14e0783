/**
 * Proves test/support/oidc.ts is a working, real authorization server — using nothing but fetch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startAuthServer } from './oidc.ts';
import type { TestAuthServer } from './oidc.ts';

interface TokenResponse {
    access_token?: string;
    refresh_token?: string;
    expires_in?: number;
    token_type?: string;
    scope?: string;
    id_token?: string;
    error?: string;
    error_description?: string;
}

async function postForm(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {}
): Promise<{ status: number; body: TokenResponse; headers: Headers }> {
    const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
        body: new URLSearchParams(form)
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as TokenResponse) : {}, headers: res.headers };
}

/** RFC 6749 §2.3.1: form-urlencode id and secret, then base64 "id:secret". */
function basic(id: string, secret: string): Record<string, string> {
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    return { authorization: `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}` };
}

function refreshPost(s: TestAuthServer, refreshToken: string, secret = s.clientSecret) {
    return postForm(s.tokenUrl, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: s.clientId,
        client_secret: secret
    });
}

function refreshBasic(s: TestAuthServer, refreshToken: string, secret = s.clientSecret) {
    return postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: refreshToken }, basic(s.clientId, secret));
}

async function userinfo(
    s: TestAuthServer,
    accessToken: string
): Promise<{ status: number; body: Record<string, unknown> | null; wwwAuthenticate: string | null }> {
    const res = await fetch(s.userinfoUrl, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
        body = JSON.parse(text) as Record<string, unknown>;
    } catch {
        body = null;
    }
    return { status: res.status, body, wwwAuthenticate: res.headers.get('www-authenticate') };
}

async function introspect(s: TestAuthServer, token: string): Promise<Record<string, unknown>> {
    const r = await postForm(s.introspectionUrl, { token }, basic(s.clientId, s.clientSecret));
    assert.equal(r.status, 200);
    return r.body as Record<string, unknown>;
}

test('minted access token works at userinfo; bad tokens are rejected', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());

    assert.match(s.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const g = await s.mintGrant({ accountId: 'alice' });
    assert.equal(g.expiresIn, 3600);
    assert.notEqual(g.accessToken, g.refreshToken);

    const ok = await userinfo(s, g.accessToken);
    assert.equal(ok.status, 200);
    assert.equal(ok.body?.sub, 'alice');
    assert.equal(ok.body?.email, 'alice@example.test');

    const bad = await userinfo(s, 'not-a-token');
    assert.equal(bad.status, 401);
    assert.equal(bad.body?.error, 'invalid_token');
    assert.match(bad.wwwAuthenticate ?? '', /^Bearer /);

    assert.equal(await s.isAccessTokenActive(g.accessToken), true);
    assert.equal(await s.isRefreshTokenActive(g.refreshToken), true);
    assert.equal(await s.isAccessTokenActive('nope'), false);
    assert.equal(await s.isRefreshTokenActive('nope'), false);

    // Introspection endpoint agrees.
    const intro = await introspect(s, g.refreshToken);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, 'alice');
    assert.equal(intro.client_id, s.clientId);

    // Discovery advertises the endpoints we export.
    const disco = (await (await fetch(s.discoveryUrl)).json()) as Record<string, unknown>;
    assert.equal(disco.issuer, s.issuer);
    assert.equal(disco.token_endpoint, s.tokenUrl);
    assert.equal(disco.authorization_endpoint, s.authorizationUrl);
    assert.equal(disco.revocation_endpoint, s.revocationUrl);
    assert.equal(disco.userinfo_endpoint, s.userinfoUrl);
    assert.deepEqual(disco.code_challenge_methods_supported, ['S256']);
});

test('accessTokenTtl mints a short-lived access token that really expires', async (t) => {
    const s = await startAuthServer({ accessTokenTtlSeconds: 120 });
    t.after(() => s.close());

    const normal = await s.mintGrant();
    assert.equal(normal.expiresIn, 120);

    const g = await s.mintGrant({ accessTokenTtl: 1 });
    assert.equal(g.expiresIn, 1);
    assert.equal((await userinfo(s, g.accessToken)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await s.isAccessTokenActive(g.accessToken), false);
    assert.equal((await userinfo(s, g.accessToken)).status, 401);

    // The refresh token is still good and yields a fresh access token with the server TTL.
    const r = await refreshPost(s, g.refreshToken);
    assert.equal(r.status, 200);
    assert.equal(r.body.expires_in, 120);
    assert.equal((await userinfo(s, r.body.access_token ?? '')).status, 200);
});

test('refresh with client_secret_post and client_secret_basic works and rotates the refresh token', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const g = await s.mintGrant();

    // client_secret_post
    const r1 = await refreshPost(s, g.refreshToken);
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.body.token_type, 'Bearer');
    assert.equal(r1.body.expires_in, 3600);
    assert.ok(r1.body.access_token);
    assert.ok(r1.body.refresh_token);
    assert.notEqual(r1.body.refresh_token, g.refreshToken, 'refresh token rotated');
    assert.notEqual(r1.body.access_token, g.accessToken);
    assert.equal(await s.isRefreshTokenActive(g.refreshToken), false, 'old RT consumed');
    assert.equal(await s.isRefreshTokenActive(r1.body.refresh_token), true);
    assert.equal((await userinfo(s, r1.body.access_token)).status, 200);
    // Rotation does not revoke access tokens already issued from the grant.
    assert.equal((await userinfo(s, g.accessToken)).status, 200);

    // client_secret_basic
    const r2 = await refreshBasic(s, r1.body.refresh_token);
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.ok(r2.body.refresh_token);
    assert.notEqual(r2.body.refresh_token, r1.body.refresh_token);
    assert.equal(await s.isRefreshTokenActive(r1.body.refresh_token), false);
    assert.equal(await s.isRefreshTokenActive(r2.body.refresh_token), true);
    assert.equal((await userinfo(s, r2.body.access_token ?? '')).status, 200);

    // Both mechanisms at once is a protocol error.
    const both = await postForm(
        s.tokenUrl,
        { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token, client_id: s.clientId, client_secret: s.clientSecret },
        basic(s.clientId, s.clientSecret)
    );
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');

    assert.deepEqual(
        s.events.filter((e) => e.kind === 'refresh').map((e) => e.clientAuth),
        ['client_secret_post', 'client_secret_basic']
    );
});

test('reusing a rotated refresh token fails with invalid_grant and revokes the whole grant', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const g = await s.mintGrant();

    const r1 = await refreshPost(s, g.refreshToken);
    assert.equal(r1.status, 200);
    const newRt = r1.body.refresh_token ?? '';
    const newAt = r1.body.access_token ?? '';
    assert.equal(await s.isRefreshTokenActive(newRt), true);

    // Replay the consumed one.
    const reuse = await refreshPost(s, g.refreshToken);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');

    // The whole grant is gone: the new RT, the new AT and the original AT.
    assert.equal(await s.isRefreshTokenActive(newRt), false);
    assert.equal(await s.isAccessTokenActive(newAt), false);
    assert.equal(await s.isAccessTokenActive(g.accessToken), false);
    assert.equal((await userinfo(s, newAt)).status, 401);
    assert.equal((await introspect(s, newRt)).active, false);

    const afterKill = await refreshBasic(s, newRt);
    assert.equal(afterKill.status, 400);
    assert.equal(afterKill.body.error, 'invalid_grant');

    assert.equal(s.counts.grantRevoked, 1);
    const reuseEvent = s.events.find((e) => e.kind === 'refresh_failed');
    assert.equal(reuseEvent?.error, 'invalid_grant');
    assert.match(reuseEvent?.detail ?? '', /already used/);
    assert.deepEqual(
        s.events.map((e) => e.kind),
        ['refresh', 'grant_revoked', 'refresh_failed', 'refresh_failed']
    );
});

test('revocation (RFC 7009) of a refresh token makes it inactive', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const g = await s.mintGrant();
    const other = await s.mintGrant({ accountId: 'bob' });

    const rev = await postForm(s.revocationUrl, {
        token: g.refreshToken,
        token_type_hint: 'refresh_token',
        client_id: s.clientId,
        client_secret: s.clientSecret
    });
    assert.equal(rev.status, 200);
    assert.equal(await s.isRefreshTokenActive(g.refreshToken), false);
    // oidc-provider revokes the grant's other tokens too.
    assert.equal(await s.isAccessTokenActive(g.accessToken), false);
    const r = await refreshPost(s, g.refreshToken);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');

    // Another grant is untouched.
    assert.equal(await s.isRefreshTokenActive(other.refreshToken), true);

    // Unknown tokens: still 200 (RFC 7009 §2.2); with Basic auth too.
    const unknown = await postForm(s.revocationUrl, { token: 'whatever' }, basic(s.clientId, s.clientSecret));
    assert.equal(unknown.status, 200);

    // Bad client credentials at the revocation endpoint.
    const badAuth = await postForm(s.revocationUrl, { token: other.refreshToken, client_id: s.clientId, client_secret: 'wrong' });
    assert.equal(badAuth.status, 401);
    assert.equal(badAuth.body.error, 'invalid_client');
    assert.equal(await s.isRefreshTokenActive(other.refreshToken), true);

    assert.equal(s.counts.revocation, 2);
    assert.equal(s.counts.failedRevocation, 1);
});

test('a wrong client secret gives invalid_client (post and basic) and does not consume the refresh token', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const g = await s.mintGrant();

    const post = await refreshPost(s, g.refreshToken, 'wrong-secret');
    assert.equal(post.status, 401);
    assert.equal(post.body.error, 'invalid_client');

    const viaBasic = await refreshBasic(s, g.refreshToken, 'wrong-secret');
    assert.equal(viaBasic.status, 401);
    assert.equal(viaBasic.body.error, 'invalid_client');
    assert.match(viaBasic.headers.get('www-authenticate') ?? '', /^Basic /);

    const unknownClient = await postForm(s.tokenUrl, {
        grant_type: 'refresh_token',
        refresh_token: g.refreshToken,
        client_id: 'nobody',
        client_secret: 'x'
    });
    assert.equal(unknownClient.status, 401);
    assert.equal(unknownClient.body.error, 'invalid_client');

    assert.equal(await s.isRefreshTokenActive(g.refreshToken), true);
    assert.equal((await refreshPost(s, g.refreshToken)).status, 200);
});

test('setClientSecret rotates the secret: the old one fails with invalid_client, the new one works', async (t) => {
    const s = await startAuthServer({ clientSecret: 'first-secret' });
    t.after(() => s.close());
    assert.equal(s.clientSecret, 'first-secret');
    const g = await s.mintGrant();

    s.setClientSecret('second-secret');
    assert.equal(s.clientSecret, 'second-secret');

    const old = await refreshPost(s, g.refreshToken, 'first-secret');
    assert.equal(old.status, 401);
    assert.equal(old.body.error, 'invalid_client');
    const oldBasic = await refreshBasic(s, g.refreshToken, 'first-secret');
    assert.equal(oldBasic.status, 401);
    assert.equal(oldBasic.body.error, 'invalid_client');

    const fresh = await refreshBasic(s, g.refreshToken, 'second-secret');
    assert.equal(fresh.status, 200);

    // Secrets with characters that need form-encoding in the Basic header.
    s.setClientSecret('p@ss word+%/=');
    const special = await refreshBasic(s, fresh.body.refresh_token ?? '');
    assert.equal(special.status, 200, JSON.stringify(special.body));
    const specialPost = await refreshPost(s, special.body.refresh_token ?? '');
    assert.equal(specialPost.status, 200, JSON.stringify(specialPost.body));
});

test('counters and events match what happened, in order', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const g = await s.mintGrant();
    assert.equal(s.events.length, 0);

    const ok1 = await refreshPost(s, g.refreshToken); // refresh
    assert.equal(ok1.status, 200);
    await refreshPost(s, ok1.body.refresh_token ?? '', 'wrong'); // refresh_failed (invalid_client)
    const ok2 = await refreshBasic(s, ok1.body.refresh_token ?? ''); // refresh
    assert.equal(ok2.status, 200);
    await postForm(s.tokenUrl, {
        // authorization_code_failed
        grant_type: 'authorization_code',
        code: 'bogus',
        redirect_uri: s.redirectUris[0] ?? '',
        code_verifier: 'x'.repeat(43),
        client_id: s.clientId,
        client_secret: s.clientSecret
    });
    await postForm(s.revocationUrl, { token: ok2.body.refresh_token ?? '' }, basic(s.clientId, s.clientSecret)); // grant_revoked + revocation
    await refreshPost(s, ok2.body.refresh_token ?? ''); // refresh_failed (invalid_grant)
    await fetch(s.userinfoUrl, { headers: { authorization: `Bearer ${g.accessToken}` } }); // not counted

    assert.deepEqual(
        { ...s.counts },
        {
            refresh: 2,
            authorizationCode: 0,
            revocation: 1,
            failedRefresh: 2,
            failedAuthorizationCode: 1,
            failedRevocation: 0,
            tokenRequests: 5,
            grantRevoked: 1,
            registrationRequests: 0,
            registered: 0
        }
    );
    assert.deepEqual(
        s.events.map((e) => e.kind),
        ['refresh', 'refresh_failed', 'refresh', 'authorization_code_failed', 'grant_revoked', 'revocation', 'refresh_failed']
    );
    assert.deepEqual(
        s.events.map((e) => e.error),
        [undefined, 'invalid_client', undefined, 'invalid_grant', undefined, undefined, 'invalid_grant']
    );
    const times = s.events.map((e) => e.at);
    assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b)
    );
});

// ---------------------------------------------------------------------------------------------
// Authorization-code flow through the dev-interaction pages, with fetch and a tiny cookie jar.
// ---------------------------------------------------------------------------------------------

class CookieJar {
    readonly cookies = new Map<string, string>();

    store(res: Response): void {
        for (const line of res.headers.getSetCookie()) {
            const pair = line.split(';', 1)[0] ?? '';
            const eq = pair.indexOf('=');
            if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
    }

    header(): string {
        return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
}

async function step(jar: CookieJar, url: string, init: RequestInit = {}): Promise<string> {
    const headers = new Headers(init.headers);
    headers.set('cookie', jar.header());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(res);
    await res.arrayBuffer();
    const location = res.headers.get('location');
    assert.ok(res.status >= 300 && res.status < 400 && location, `expected a redirect from ${url}, got ${res.status}`);
    return new URL(location, url).href;
}

function pkcePair(): { verifier: string; challenge: string } {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

test('authorization-code flow with PKCE issues a refresh token; PKCE is required', async (t) => {
    const s = await startAuthServer();
    t.after(() => s.close());
    const redirectUri = s.redirectUris[0] ?? '';
    const base = { client_id: s.clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid email', state: 'st-1' };

    // No code_challenge: rejected back to the client with invalid_request.
    const noPkce = await fetch(`${s.authorizationUrl}?${new URLSearchParams(base)}`, { redirect: 'manual' });
    await noPkce.arrayBuffer();
    const noPkceLoc = new URL(noPkce.headers.get('location') ?? '', s.issuer);
    assert.equal(`${noPkceLoc.origin}${noPkceLoc.pathname}`, redirectUri);
    assert.equal(noPkceLoc.searchParams.get('error'), 'invalid_request');
    assert.match(noPkceLoc.searchParams.get('error_description') ?? '', /PKCE/);

    // plain is not accepted either.
    const plain = await fetch(`${s.authorizationUrl}?${new URLSearchParams({ ...base, code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' })}`, {
        redirect: 'manual'
    });
    await plain.arrayBuffer();
    assert.equal(new URL(plain.headers.get('location') ?? '', s.issuer).searchParams.get('error'), 'invalid_request');

    const { verifier, challenge } = pkcePair();
    const jar = new CookieJar();
    const authUrl = `${s.authorizationUrl}?${new URLSearchParams({ ...base, code_challenge: challenge, code_challenge_method: 'S256' })}`;
    const loginPage = await step(jar, authUrl);
    assert.match(loginPage, /\/interaction\//);
    const afterLogin = await step(jar, loginPage, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login: 'carol', password: 'anything' })
    });
    const consentPage = await step(jar, afterLogin);
    assert.match(consentPage, /\/interaction\//);
    const afterConsent = await step(jar, consentPage, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'consent' })
    });
    const callback = new URL(await step(jar, afterConsent));
    assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
    assert.equal(callback.searchParams.get('state'), 'st-1');
    assert.equal(callback.searchParams.get('iss'), s.issuer);
    const code = callback.searchParams.get('code') ?? '';
    assert.ok(code);

    // Wrong verifier fails (and does not burn the code).
    const wrong = await postForm(
        s.tokenUrl,
        {
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            code_verifier: pkcePair().verifier
        },
        basic(s.clientId, s.clientSecret)
    );
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');

    const ok = await postForm(s.tokenUrl, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: s.clientId,
        client_secret: s.clientSecret
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.access_token);
    assert.ok(ok.body.refresh_token, 'refresh token issued without offline_access/prompt=consent');
    assert.ok(ok.body.id_token);

    const me = await userinfo(s, ok.body.access_token ?? '');
    assert.equal(me.status, 200);
    assert.equal(me.body?.sub, 'carol');

    // The refresh token from the code exchange rotates like a minted one.
    const r = await refreshBasic(s, ok.body.refresh_token ?? '');
    assert.equal(r.status, 200);
    assert.notEqual(r.body.refresh_token, ok.body.refresh_token);
    assert.equal(await s.isRefreshTokenActive(r.body.refresh_token ?? ''), true);

    // The code is single-use, and replaying it revokes everything issued from it (RFC 6749 §4.1.2).
    const again = await postForm(
        s.tokenUrl,
        {
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            code_verifier: verifier
        },
        basic(s.clientId, s.clientSecret)
    );
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.equal(await s.isRefreshTokenActive(r.body.refresh_token ?? ''), false);

    assert.equal(s.counts.authorizationCode, 1);
    assert.equal(s.counts.failedAuthorizationCode, 2);
    assert.equal(s.counts.refresh, 1);
});

test('close() stops the server', async () => {
    const s = await startAuthServer();
    const g = await s.mintGrant();
    assert.equal((await userinfo(s, g.accessToken)).status, 200); // leaves a keep-alive socket open
    await s.close();
    await s.close(); // idempotent
    await assert.rejects(fetch(s.userinfoUrl));
});
