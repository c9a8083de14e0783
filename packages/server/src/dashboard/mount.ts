import type { AuthMode, RouteDef } from '../http/route.ts';

// biome-ignore lint/suspicious/noExplicitAny: routes have heterogeneous schema types
type AnyRoute = RouteDef<any, any, any, any>;

/** Where the API's routes are mounted for the dashboard (the session cookie's path covers it). */
export const DASHBOARD_API_PREFIX = '/dashboard/api';

/**
 * What an API route's auth mode becomes under /dashboard/api: the operator's session stands for the admin key, with
 * the environment named by header on per-environment routes. Routes a browser or agent reaches with its own
 * credential (connect sessions, MCP, public routes) and the proxy's streamed bodies are not mounted.
 */
const mountedAs: Partial<Record<AuthMode, AuthMode>> = {
    secret: 'dashboard',
    secret_or_admin: 'dashboard',
    secret_or_session: 'dashboard',
    admin: 'dashboard_admin'
};

/**
 * The API's routes again under /dashboard/api, authenticated by the dashboard session (http/route.ts, `dashboard`):
 * the same handlers and schemas, so the dashboard never holds a key and never needs a copy of a route.
 */
export function dashboardMounts(routes: readonly AnyRoute[]): AnyRoute[] {
    return routes.flatMap((def) => {
        const auth = mountedAs[def.auth];
        if (!auth || def.streamBody || def.rawBody) return [];
        const urls = (Array.isArray(def.url) ? def.url : [def.url]).filter((u) => !u.startsWith(DASHBOARD_API_PREFIX));
        if (urls.length === 0) return [];
        return [{ ...def, auth, surface: 'private' as const, url: urls.map((u) => `${DASHBOARD_API_PREFIX}${u}`) }];
    });
}
