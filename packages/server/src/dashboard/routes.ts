// The dashboard's own endpoints: sign-in, the session, sign-out, and the one list no API route offers (sync runs
// across an environment). Everything else the dashboard shows comes from the API's routes, mounted under
// /dashboard/api (mount.ts). docs/dashboard.md.
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { COOKIE_PATH, SESSION_COOKIE, sameOrigin, sessionCookie } from './auth.ts';

const signIn = z.object({ admin_key: z.string().min(1).max(255) }).strict();

const runsQuery = z
    .object({
        integration: z.string().max(255).optional(),
        connection_id: z.string().max(255).optional(),
        status: z.enum(['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'STOPPED']).optional(),
        /** The id of the last run of the previous page: runs come newest first. */
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

interface RunRow {
    id: string;
    status: string;
    type: string | null;
    queued_at: Date;
    started_at: Date | null;
    finished_at: Date | null;
    result: Record<string, unknown> | null;
    error: unknown;
    sync_name: string;
    variant: string;
    provider_config_key: string;
    connection_id: string;
}

const connectionsQuery = z
    .object({
        integration: z.string().max(255).optional(),
        end_user: z.string().max(255).optional(),
        organization: z.string().max(255).optional(),
        search: z.string().max(255).optional(),
        status: z.enum(['active', 'expired', 'revoked', 'failing']).optional(),
        page: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

const catalogueQuery = z
    .object({
        search: z.string().max(255).optional(),
        category: z.string().max(100).optional(),
        page: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(200).default(48)
    })
    .strict();

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export const dashboardRoutes = [
    defineRoute({
        method: 'POST',
        url: '/dashboard/api/session',
        auth: 'public',
        // The operator's sign-in: never on the public port.
        surface: 'private',
        body: signIn,
        handler: async ({ body, req, reply }, s) => {
            // A sign-in form posted from another site would sign the browser in to a session the attacker chose.
            if (!sameOrigin(req)) throw fail('dashboard_csrf_failed', { message: 'Sign in from the dashboard page (Origin)' });
            if (!(await s.adminKeys.authenticate(body.admin_key))) {
                if (await s.environments.authenticate(body.admin_key)) throw fail('admin_key_required');
                throw fail('dashboard_sign_in_failed');
            }
            const session = await s.dashboardSessions.create();
            const secure = s.config.serverUrl.startsWith('https:');
            reply.header('set-cookie', sessionCookie(session.id, Math.floor(s.config.dashboardSessionTtlMs / 1000), secure));
            reply.header('cache-control', 'no-store');
            s.log.info({ expiresAt: session.expiresAt }, 'dashboard sign-in');
            return { data: { csrf_token: session.csrf, expires_at: session.expiresAt.toISOString() } };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/session',
        auth: 'dashboard_admin',
        handler: async (_input, s) => {
            const environments = await s.environments.list();
            return { data: { signed_in: true, environments: environments.map((e) => e.name) } };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/dashboard/api/session',
        auth: 'dashboard_admin',
        handler: async ({ req, reply }, s) => {
            const id = req.caller?.dashboardSession;
            if (id) await s.dashboardSessions.delete(id);
            reply.header('set-cookie', `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict`);
            return { success: true };
        }
    }),
    // GET /providers answers the whole catalogue with every field; the picker needs a page of names and logos.
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/catalogue',
        auth: 'dashboard_admin',
        query: catalogueQuery,
        handler: async ({ query }, s) => {
            const needle = query.search?.toLowerCase().trim();
            const all = s.catalogue.list();
            const categories = [...new Set(all.flatMap(([, def]) => def.categories ?? []))].sort();
            const matching = all.filter(
                ([name, def]) =>
                    (!needle || name.toLowerCase().includes(needle) || def.display_name.toLowerCase().includes(needle)) &&
                    (!query.category || (def.categories ?? []).includes(query.category))
            );
            const page = matching.slice(query.page * query.limit, (query.page + 1) * query.limit);
            return {
                data: page.map(([name, def]) => ({
                    name,
                    display_name: def.display_name,
                    auth_mode: def.auth_mode,
                    categories: def.categories ?? [],
                    logo: `/images/template-logos/${name}.svg`
                })),
                categories,
                total: matching.length,
                next_page: (query.page + 1) * query.limit < matching.length ? query.page + 1 : null
            };
        }
    }),
    // GET /connections has neither a status filter nor the refresh history the operator looks for.
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/connection-list',
        auth: 'dashboard',
        query: connectionsQuery,
        handler: async ({ env, query }, s) => {
            const failing = query.status === 'failing';
            const page = await s.connections.list(env.id, {
                integrationIds: query.integration ? [query.integration] : undefined,
                endUserId: query.end_user,
                endUserOrganizationId: query.organization,
                search: query.search,
                status: failing || !query.status ? undefined : (query.status as 'active' | 'expired' | 'revoked'),
                failing,
                limit: query.limit,
                page: query.page
            });
            return {
                data: page.map((c) => ({
                    connection_id: c.connectionId,
                    provider_config_key: c.providerConfigKey,
                    provider: c.provider,
                    status: c.status,
                    end_user: c.endUser,
                    tags: c.tags,
                    metadata: c.metadata,
                    created_at: iso(c.createdAt),
                    expires_at: iso(c.expiresAt),
                    last_fetched_at: iso(c.lastFetchedAt),
                    refreshed_at: iso(c.refreshedAt),
                    refresh_failed_at: iso(c.refreshFailedAt),
                    refresh_error: c.refreshError
                })),
                next_page: page.length === query.limit ? query.page + 1 : null
            };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/runs',
        auth: 'dashboard',
        query: runsQuery,
        handler: async ({ env, query }, s) => {
            const rows = await s.db.query<RunRow>(
                `SELECT r.id::text AS id, r.status, r.type, r.queued_at, r.started_at, r.finished_at, r.result, r.error,
                        f.name AS sync_name, y.variant, i.unique_key AS provider_config_key, c.connection_id
                 FROM runs r JOIN syncs y ON y.id = r.sync_id JOIN functions f ON f.id = y.function_id
                 JOIN integrations i ON i.id = f.integration_id JOIN connections c ON c.id = y.connection_id
                 WHERE f.environment_id = $1 AND ($2::text IS NULL OR i.unique_key = $2) AND ($3::text IS NULL OR c.connection_id = $3)
                   AND ($4::text IS NULL OR r.status = $4) AND ($5::bigint IS NULL OR r.id < $5)
                 ORDER BY r.id DESC LIMIT $6`,
                [env.id, query.integration ?? null, query.connection_id ?? null, query.status ?? null, query.cursor ?? null, query.limit]
            );
            const last = rows.at(-1);
            return {
                data: rows.map((r) => ({
                    id: Number(r.id),
                    sync: r.sync_name,
                    variant: r.variant,
                    provider_config_key: r.provider_config_key,
                    connection_id: r.connection_id,
                    type: r.type,
                    status: r.status,
                    queued_at: iso(r.queued_at),
                    started_at: iso(r.started_at),
                    finished_at: iso(r.finished_at),
                    result: r.result ?? {},
                    error: r.error ?? null
                })),
                next_cursor: rows.length === query.limit && last ? Number(last.id) : null
            };
        }
    })
];
