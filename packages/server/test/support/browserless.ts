import assert from 'node:assert/strict';
import { createServer } from 'node:net';

/** A cookie jar per origin host, enough for our callback cookie and oidc-provider's interaction cookies. */
export class CookieJar {
    readonly cookies = new Map<string, string>();

    store(res: Response): void {
        for (const line of res.headers.getSetCookie()) {
            const pair = line.split(';', 1)[0] ?? '';
            const eq = pair.indexOf('=');
            if (eq <= 0) continue;
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
            else this.cookies.set(name, value);
        }
    }

    header(): string {
        return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
}

/** One request without following redirects, carrying and storing cookies. */
export async function hop(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (jar.cookies.size) headers.set('cookie', jar.header());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(res);
    return res;
}

async function next(jar: CookieJar, url: string, init: RequestInit = {}): Promise<string> {
    const res = await hop(jar, url, init);
    await res.arrayBuffer();
    const location = res.headers.get('location');
    assert.ok(res.status >= 300 && res.status < 400 && location, `expected a redirect from ${url}, got ${res.status}`);
    return new URL(location, url).href;
}

const form = (body: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body)
});

/** Logs in and consents on oidc-provider's dev pages; returns the redirect back to the client (the callback URL). */
export async function loginAndConsent(authorizeUrl: string, login = 'carol'): Promise<URL> {
    const jar = new CookieJar();
    const loginPage = await next(jar, authorizeUrl);
    const afterLogin = await next(jar, loginPage, form({ prompt: 'login', login, password: 'anything' }));
    const consentPage = await next(jar, afterLogin);
    const afterConsent = await next(jar, consentPage, form({ prompt: 'consent' }));
    return new URL(await next(jar, afterConsent));
}

/** A port that was free a moment ago, for servers whose public URL must be known before they start. */
export async function freePort(): Promise<number> {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    return port;
}

/** The SDK's WebSocket: resolves the ack's client id; `frame()` resolves the next result frame. */
export async function openSdkSocket(serverUrl: string): Promise<{ clientId: string; frame(): Promise<Record<string, unknown>>; close(): void }> {
    const ws = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/`);
    const frames: Array<Record<string, unknown>> = [];
    const waiters: Array<(f: Record<string, unknown>) => void> = [];
    ws.addEventListener('message', (e) => {
        const f = JSON.parse(String(e.data)) as Record<string, unknown>;
        const w = waiters.shift();
        if (w) w(f);
        else frames.push(f);
    });
    const nextFrame = () => new Promise<Record<string, unknown>>((r) => (frames.length ? r(frames.shift()!) : waiters.push(r)));
    await new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error('websocket failed')), { once: true });
    });
    const ack = await nextFrame();
    assert.equal(ack['message_type'], 'connection_ack');
    return { clientId: String(ack['ws_client_id']), frame: nextFrame, close: () => ws.close() };
}
