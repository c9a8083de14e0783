// The dashboard's credential: an HttpOnly session cookie, and on anything that changes state a CSRF token in a
// header plus a same-origin Origin (docs/dashboard.md, "Sessions" and "CSRF"). The session cookie is SameSite=Strict
// and scoped to /dashboard, so the Bearer API never sees it; the token and the Origin check cover what SameSite
// does not (a same-site page on another port, an old browser).
import type { FastifyRequest } from 'fastify';
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import { matchesHash } from './sessions.ts';

/** The session cookie's name and path. */
export const SESSION_COOKIE = 'sb_dashboard';
export const COOKIE_PATH = '/dashboard';
/** The header carrying the CSRF token returned at sign-in. */
export const CSRF_HEADER = 'x-switchboard-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of one cookie of a Cookie header (RFC 6265 §5.4: `name=value` pairs separated by `; `). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
    for (const part of (header ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
    }
    return undefined;
}

/**
 * True when the request's Origin names this very server (the Host the browser sent): a browser always sends Origin
 * on a state-changing fetch (Fetch standard, "append a request Origin header"), so a missing one is refused too.
 */
export function sameOrigin(req: Pick<FastifyRequest, 'headers'>): boolean {
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (!origin || !host || !URL.canParse(origin)) return false;
    return new URL(origin).host === host.toLowerCase();
}

/** A session cookie for the browser; Secure when the server is reached over https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
    return [`${SESSION_COOKIE}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join(
        '; '
    );
}

/** Checks the cookie (and, unless the method is safe, the Origin and CSRF token); answers the session's id hash. */
export async function authenticateDashboard(req: FastifyRequest, services: Services): Promise<{ dashboardSession: string }> {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id) throw fail('dashboard_session_required');
    const session = await services.dashboardSessions.find(id);
    if (!session) throw fail('dashboard_session_required', { message: 'The dashboard session is unknown or expired: sign in again' });
    if (!SAFE_METHODS.has(req.method)) {
        if (!sameOrigin(req)) throw fail('dashboard_csrf_failed', { message: 'The request did not come from the dashboard (Origin)' });
        const token = req.headers[CSRF_HEADER];
        if (typeof token !== 'string' || !matchesHash(token, session.csrfHash)) throw fail('dashboard_csrf_failed');
    }
    return { dashboardSession: session.idHash };
}
