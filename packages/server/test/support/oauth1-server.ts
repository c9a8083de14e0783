import { createHmac, randomBytes } from 'node:crypto';
import { startUpstream, json } from './upstream.ts';

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Checks an OAuth 1.0a HMAC-SHA1 Authorization header independently of the server's library (RFC 5849 §3.4). */
export function verifyOAuth1(
    method: string,
    url: string,
    header: string,
    form: Record<string, string>,
    consumerSecret: string,
    tokenSecret: string
): Record<string, string> | undefined {
    if (!header.startsWith('OAuth ')) return undefined;
    const params = Object.fromEntries([...header.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, decodeURIComponent(m[2]!)]));
    const all: Record<string, string> = { ...params, ...form };
    const signature = all['oauth_signature'];
    delete all['oauth_signature'];
    const normalized = Object.keys(all)
        .sort()
        .map((k) => `${enc(k)}=${enc(all[k]!)}`)
        .join('&');
    const base = [method, enc(url), enc(normalized)].join('&');
    const expected = createHmac('sha1', `${enc(consumerSecret)}&${enc(tokenSecret)}`)
        .update(base)
        .digest('base64');
    return signature === expected ? params : undefined;
}

/**
 * A loopback OAuth 1.0a provider (Trello-like): request token, authorize (auto-approves, redirecting to the
 * oauth_callback it was given), access token. Every signed request is verified.
 */
export async function startOAuth1Server(consumerKey: string, consumerSecret: string) {
    const pending = new Map<string, { secret: string; callback: string; verifier?: string }>();
    const issued: string[] = [];
    const up = await startUpstream((req, res) => {
        const path = req.url.split('?')[0]!;
        const form = Object.fromEntries(new URLSearchParams(req.body));
        if (path === '/request_token') {
            const p = verifyOAuth1('POST', `${up.url}/request_token`, String(req.headers.authorization ?? ''), form, consumerSecret, '');
            if (!p || p['oauth_consumer_key'] !== consumerKey || !p['oauth_callback']) return json(res, 401, { error: 'invalid_signature' });
            const token = `rt-${randomBytes(6).toString('hex')}`;
            pending.set(token, { secret: `rts-${randomBytes(6).toString('hex')}`, callback: p['oauth_callback'] });
            res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
            res.end(`oauth_token=${token}&oauth_token_secret=${pending.get(token)!.secret}&oauth_callback_confirmed=true`);
            return;
        }
        if (path === '/authorize') {
            const token = new URL(req.url, up.url).searchParams.get('oauth_token') ?? '';
            const p = pending.get(token);
            if (!p) return json(res, 400, { error: 'unknown token' });
            p.verifier = `v-${randomBytes(6).toString('hex')}`;
            const back = new URL(p.callback);
            back.searchParams.set('oauth_token', token);
            back.searchParams.set('oauth_verifier', p.verifier);
            res.writeHead(302, { location: back.toString() });
            res.end();
            return;
        }
        if (path === '/access_token') {
            const header = String(req.headers.authorization ?? '');
            const token = /oauth_token="([^"]*)"/.exec(header)?.[1] ?? '';
            const p = pending.get(decodeURIComponent(token));
            const ok = p && verifyOAuth1('POST', `${up.url}/access_token`, header, form, consumerSecret, p.secret);
            if (!p || !ok || form['oauth_verifier'] !== p.verifier) return json(res, 401, { error: 'invalid_signature' });
            pending.delete(decodeURIComponent(token));
            const access = `at-${randomBytes(6).toString('hex')}`;
            issued.push(access);
            res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
            res.end(`oauth_token=${access}&oauth_token_secret=ats-secret&user_id=42`);
            return;
        }
        if (path === '/1/members/me') {
            const header = String(req.headers.authorization ?? '');
            const ok = verifyOAuth1('GET', `${up.url}/1/members/me`, header, {}, consumerSecret, 'ats-secret');
            return ok ? json(res, 200, { id: 'member-42' }) : json(res, 401, { error: 'invalid_signature' });
        }
        json(res, 404, {});
    });
    return { ...up, issued };
}
