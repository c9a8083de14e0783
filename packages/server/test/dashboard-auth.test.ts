// Issue #16 item 1: the dashboard's sign-in, session cookie, CSRF protection, expiry and sign-out, and the API's
// routes mounted under /dashboard/api with the session as the admin credential. Security cases assert what did
// NOT change (the integration list read back with the app's key). docs/dashboard.md.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeDir, startServer, storageEnv, type TestServer } from './support/server.ts';

interface Answer {
    status: number;
    body: { data?: unknown; error?: { code: string } } & Record<string, unknown>;
    setCookie: string | null;
}

async function call(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
    const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        redirect: 'manual'
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {}, setCookie: res.headers.get('set-cookie') };
}

interface Signed {
    cookie: string;
    csrf: string;
}

async function signIn(server: TestServer, key: string): Promise<Answer & { signed?: Signed }> {
    const a = await call(server.url, 'POST', '/dashboard/api/session', { headers: { origin: server.url }, body: { admin_key: key } });
    if (a.status !== 200) return a;
    const cookie = /^(sb_dashboard=[^;]+)/.exec(a.setCookie ?? '')?.[1];
    const csrf = (a.body.data as { csrf_token: string }).csrf_token;
    return { ...a, signed: { cookie: cookie!, csrf } };
}

/** A dashboard call: the cookie, the environment header, and for a change the Origin and CSRF token (overridable). */
function dash(server: TestServer, s: Signed, method: string, path: string, extra: { headers?: Record<string, string>; body?: unknown } = {}) {
    const write = method !== 'GET';
    return call(server.url, method, `/dashboard/api${path}`, {
        body: extra.body,
        headers: {
            cookie: s.cookie,
            'switchboard-environment': 'dev',
            ...(write ? { origin: server.url, 'x-switchboard-csrf': s.csrf } : {}),
            ...extra.headers
        }
    });
}

async function integrationKeys(server: TestServer): Promise<string[]> {
    const a = await call(server.url, 'GET', '/integrations', { headers: { authorization: `Bearer ${server.secretKey}` } });
    assert.equal(a.status, 200);
    return (a.body.data as Array<{ unique_key: string }>).map((i) => i.unique_key).sort();
}

const oauth = { type: 'OAUTH2', client_id: 'client-1', client_secret: 'secret-1' };

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`dashboard sign-in, sessions and CSRF (${backend})`, () => {
        let server: TestServer;
        let storage: Awaited<ReturnType<typeof storageEnv>>;
        let signed: Signed;

        before(async () => {
            storage = await storageEnv(backend);
            server = await startServer(storage.env);
        });
        after(async () => {
            await server?.stop();
            if (server) removeDir(server.dataDir);
            await storage?.drop();
        });

        it('signs in with the admin key: an HttpOnly, SameSite=Strict cookie scoped to /dashboard, and a CSRF token', async () => {
            const a = await signIn(server, server.adminKey);
            assert.equal(a.status, 200, JSON.stringify(a.body));
            assert.ok(a.signed);
            signed = a.signed;
            const cookie = a.setCookie ?? '';
            assert.match(cookie, /^sb_dashboard=[A-Za-z0-9_-]{43};/);
            assert.match(cookie, /; HttpOnly/);
            assert.match(cookie, /; SameSite=Strict/);
            assert.match(cookie, /; Path=\/dashboard;/);
            assert.match(cookie, /; Max-Age=43200;/, 'twelve hours by default');
            assert.doesNotMatch(cookie, /Secure/, 'the server URL is plain http on loopback');
            assert.ok(signed.csrf.length >= 43);
            assert.doesNotMatch(server.output(), new RegExp(signed.csrf), 'the CSRF token is never logged');
            assert.doesNotMatch(server.output(), new RegExp(signed.cookie.split('=')[1]!), 'the session id is never logged');
            const me = await dash(server, signed, 'GET', '/session');
            assert.equal(me.status, 200);
            assert.deepEqual((me.body.data as { environments: string[] }).environments, ['dev']);
        });

        it("refuses an app's secret key, a wrong key and a sign-in from another origin, setting no cookie", async () => {
            const app = await signIn(server, server.secretKey);
            assert.equal(app.status, 403);
            assert.equal(app.body.error?.code, 'admin_key_required');
            assert.equal(app.setCookie, null);
            const wrong = await signIn(server, `${server.adminKey}x`);
            assert.equal(wrong.status, 401);
            assert.equal(wrong.body.error?.code, 'dashboard_sign_in_failed');
            assert.equal(wrong.setCookie, null);
            const foreign = await call(server.url, 'POST', '/dashboard/api/session', {
                headers: { origin: 'http://evil.example' },
                body: { admin_key: server.adminKey }
            });
            assert.equal(foreign.status, 403);
            assert.equal(foreign.body.error?.code, 'dashboard_csrf_failed');
            assert.equal(foreign.setCookie, null);
        });

        it('serves the API routes under /dashboard/api with the session, and refuses them without it', async () => {
            const created = await dash(server, signed, 'POST', '/integrations', { body: { provider: 'github', unique_key: 'gh', credentials: oauth } });
            assert.equal(created.status, 200, JSON.stringify(created.body));
            assert.deepEqual(await integrationKeys(server), ['gh'], 'the app sees what the operator created');
            const listed = await dash(server, signed, 'GET', '/integrations');
            assert.equal(listed.status, 200);
            assert.deepEqual(
                (listed.body.data as Array<{ unique_key: string }>).map((i) => i.unique_key),
                ['gh']
            );
            // A `secret` route (connections) and an admin-only one (environments) are both reachable.
            assert.equal((await dash(server, signed, 'GET', '/connections?limit=10&page=0')).status, 200);
            assert.equal((await dash(server, signed, 'GET', '/admin/environments')).status, 200);

            const noCookie = await call(server.url, 'GET', '/dashboard/api/integrations', { headers: { 'switchboard-environment': 'dev' } });
            assert.equal(noCookie.status, 401);
            assert.equal(noCookie.body.error?.code, 'dashboard_session_required');
            const forgedCookie = await call(server.url, 'GET', '/dashboard/api/integrations', {
                headers: { cookie: 'sb_dashboard=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'switchboard-environment': 'dev' }
            });
            assert.equal(forgedCookie.status, 401);
            // The app's key or the admin key as Bearer is not the dashboard's credential.
            for (const key of [server.secretKey, server.adminKey]) {
                const bearer = await call(server.url, 'GET', '/dashboard/api/integrations', {
                    headers: { authorization: `Bearer ${key}`, 'switchboard-environment': 'dev' }
                });
                assert.equal(bearer.status, 401);
            }
            // The cookie opens nothing on the API's own paths.
            const onApi = await call(server.url, 'GET', '/integrations', { headers: { cookie: signed.cookie } });
            assert.equal(onApi.status, 401);
            const noEnv = await dash(server, signed, 'GET', '/integrations', { headers: { 'switchboard-environment': '' } });
            assert.equal(noEnv.status, 400);
            const otherEnv = await dash(server, signed, 'GET', '/integrations', { headers: { 'switchboard-environment': 'nope' } });
            assert.equal(otherEnv.status, 404);
            assert.equal(otherEnv.body.error?.code, 'unknown_environment');
        });

        it('refuses a change without the CSRF token, with a forged one, or from another origin; nothing changes', async () => {
            const before = await integrationKeys(server);
            const attempts: Array<[string, Record<string, string>]> = [
                ['no CSRF token', { 'x-switchboard-csrf': '' }],
                ['a forged CSRF token', { 'x-switchboard-csrf': 'A'.repeat(43) }],
                ['another session’s token shape', { 'x-switchboard-csrf': `${signed.csrf.slice(0, -1)}${signed.csrf.endsWith('A') ? 'B' : 'A'}` }],
                ['another origin', { origin: 'http://evil.example' }],
                ['no origin', { origin: '' }]
            ];
            for (const [what, headers] of attempts) {
                const post = await dash(server, signed, 'POST', '/integrations', {
                    headers,
                    body: { provider: 'github', unique_key: 'evil', credentials: oauth }
                });
                assert.equal(post.status, 403, `POST with ${what}`);
                assert.equal(post.body.error?.code, 'dashboard_csrf_failed');
                const del = await dash(server, signed, 'DELETE', '/integrations/gh', { headers });
                assert.equal(del.status, 403, `DELETE with ${what}`);
                const patch = await dash(server, signed, 'PATCH', '/integrations/gh', { headers, body: { display_name: 'Hacked' } });
                assert.equal(patch.status, 403, `PATCH with ${what}`);
            }
            const noCookie = await call(server.url, 'DELETE', '/dashboard/api/integrations/gh', {
                headers: { origin: server.url, 'x-switchboard-csrf': signed.csrf, 'switchboard-environment': 'dev' }
            });
            assert.equal(noCookie.status, 401, 'the CSRF token alone is not a credential');
            assert.deepEqual(await integrationKeys(server), before, 'no integration was created or deleted');
            const one = await call(server.url, 'GET', '/integrations/gh', { headers: { authorization: `Bearer ${server.secretKey}` } });
            assert.notEqual((one.body.data as { display_name: string }).display_name, 'Hacked');
            const deleted = await dash(server, signed, 'DELETE', '/integrations/gh');
            assert.equal(deleted.status, 200, 'the same request with the token and origin goes through');
            assert.deepEqual(await integrationKeys(server), []);
        });

        it('signs out: the session is deleted, the cookie cleared, and sign-out itself needs the CSRF token', async () => {
            const other = (await signIn(server, server.adminKey)).signed!;
            const forged = await dash(server, other, 'DELETE', '/session', { headers: { 'x-switchboard-csrf': 'x' } });
            assert.equal(forged.status, 403);
            assert.equal((await dash(server, other, 'GET', '/session')).status, 200, 'a forged sign-out signs nobody out');
            const out = await dash(server, other, 'DELETE', '/session');
            assert.equal(out.status, 200);
            assert.match(out.setCookie ?? '', /^sb_dashboard=; Path=\/dashboard; Max-Age=0/);
            assert.equal((await dash(server, other, 'GET', '/session')).status, 401);
            assert.equal((await dash(server, other, 'GET', '/integrations')).status, 401);
            assert.equal((await dash(server, signed, 'GET', '/session')).status, 200, 'another session is untouched');
        });

        it('keeps sessions across a restart, expires them after the TTL, and is never on the public port', async () => {
            await server.stop();
            server = await startServer({
                ...storage.env,
                SWITCHBOARD_DATA_DIR: server.dataDir,
                SWITCHBOARD_SECRET_KEY: server.secretKey,
                SWITCHBOARD_ADMIN_KEY: server.adminKey,
                SWITCHBOARD_DASHBOARD_SESSION_TTL: '1s',
                SWITCHBOARD_PUBLIC_PORT: '0'
            });
            assert.equal((await dash(server, signed, 'GET', '/session')).status, 200, 'stored in the database, not in memory');
            const short = (await signIn(server, server.adminKey)).signed!;
            assert.equal((await dash(server, short, 'GET', '/session')).status, 200);
            await sleep(1100);
            const expired = await dash(server, short, 'GET', '/session');
            assert.equal(expired.status, 401, 'past its one-second TTL');
            assert.equal(expired.body.error?.code, 'dashboard_session_required');

            const pub = server.publicUrl!;
            assert.ok(pub);
            const page = await fetch(`${pub}/dashboard/`);
            assert.equal(page.status, 404);
            await page.arrayBuffer();
            const signInThere = await call(pub, 'POST', '/dashboard/api/session', { headers: { origin: pub }, body: { admin_key: server.adminKey } });
            assert.equal(signInThere.status, 404);
            assert.equal(signInThere.setCookie, null);
            const apiThere = await call(pub, 'GET', '/dashboard/api/integrations', { headers: { cookie: signed.cookie, 'switchboard-environment': 'dev' } });
            assert.equal(apiThere.status, 404);
            const pageMain = await fetch(`${server.url}/dashboard/`);
            assert.notEqual(pageMain.status, 404, 'the private port serves it');
            assert.equal(pageMain.headers.get('x-frame-options'), 'DENY');
            await pageMain.arrayBuffer();
        });
    });
}
