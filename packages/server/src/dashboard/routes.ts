// The dashboard's own endpoints: sign-in, the session, sign-out, and the one list no API route offers (sync runs
// across an environment). Everything else the dashboard shows comes from the API's routes, mounted under
// /dashboard/api (mount.ts). docs/dashboard.md.
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import { apiIntegration } from '../integrations/format.ts';
import type { RunListFilter } from '../runs/store.ts';
import { listInboundWebhooks } from '../webhooks/inbound/received.ts';
import { COOKIE_PATH, SESSION_COOKIE, sameOrigin, sessionCookie } from './auth.ts';

const signIn = z.object({ admin_key: z.string().min(1).max(255) }).strict();

const integrationsQuery = z
    .object({
        /** The unique key of the last integration of the previous page: integrations come by unique key. */
        cursor: z.string().min(1).max(255).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

const runsQuery = z
    .object({
        /** Sync runs (scheduled, triggered, onWebhook) or action runs (synchronous and X-Async). */
        kind: z.enum(['sync', 'action']).default('sync'),
        integration: z.string().max(255).optional(),
        connection_id: z.string().max(255).optional(),
        status: z.enum(['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'STOPPED']).optional(),
        /** The id of the last run of the previous page: runs come newest first. */
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

/** `key:value` pairs, comma-separated: connections carrying every one of these tags. */
const tagsParam = z
    .string()
    .max(1000)
    .transform((v, ctx) => {
        const out: Record<string, string> = {};
        for (const pair of v
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)) {
            const i = pair.indexOf(':');
            const key = i === -1 ? '' : pair.slice(0, i).trim();
            if (!key || key.length > 64 || pair.length - i - 1 > 255) {
                ctx.addIssue({ code: 'custom', message: 'tags are key:value pairs separated by commas' });
                return z.NEVER;
            }
            out[key] = pair.slice(i + 1).trim();
        }
        return out;
    });

const errorsQuery = z
    .object({
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

const inboundQuery = z
    .object({
        integration: z.string().max(255).optional(),
        outcome: z.enum(['routed', 'answered', 'refused']).optional(),
        cursor: z.coerce.number().int().positive().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(25)
    })
    .strict();

const connectionsQuery = z
    .object({
        integration: z.string().max(255).optional(),
        end_user: z.string().max(255).optional(),
        organization: z.string().max(255).optional(),
        search: z.string().max(255).optional(),
        tags: tagsParam.optional(),
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
    // GET /integrations answers every integration at once (as Nango does); the dashboard pages through them.
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/integration-list',
        auth: 'dashboard',
        query: integrationsQuery,
        handler: async ({ env, query }, s) => {
            const page = await s.integrations.page(env.id, query.cursor, query.limit);
            return {
                data: page.map((i) => apiIntegration(s, env.uuid, i)),
                next_cursor: page.length === query.limit ? (page.at(-1)?.uniqueKey ?? null) : null
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
                tags: query.tags,
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
            if (query.kind === 'action') return actionRuns(s, env.id, query);
            const rows = await s.runs.listSyncRuns(env.id, runFilter(query));
            const last = rows.at(-1);
            return {
                data: rows.map((r) => ({
                    id: r.id,
                    sync: r.sync,
                    variant: r.variant,
                    provider_config_key: r.providerConfigKey,
                    connection_id: r.connectionId,
                    type: r.type,
                    reset: r.reset,
                    status: r.status,
                    queued_at: iso(r.queuedAt),
                    started_at: iso(r.startedAt),
                    finished_at: iso(r.finishedAt),
                    result: r.result ?? {},
                    error: r.error ?? null
                })),
                next_cursor: rows.length === query.limit && last ? last.id : null
            };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/errors',
        auth: 'dashboard_admin',
        query: errorsQuery,
        handler: async ({ query }, s) => {
            const page = s.recentErrors.page(query.cursor, query.limit);
            return { data: page.entries, next_cursor: page.nextCursor, capacity: s.recentErrors.capacity };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/dashboard/api/inbound-webhooks',
        auth: 'dashboard',
        query: inboundQuery,
        handler: async ({ env, query }, s) => {
            const rows = await listInboundWebhooks(s.db, env.id, {
                integration: query.integration,
                outcome: query.outcome,
                before: query.cursor,
                limit: query.limit
            });
            const last = rows.at(-1);
            return {
                data: rows,
                next_cursor: rows.length === query.limit && last ? last.id : null
            };
        }
    })
];

/** The store's filter from the query: the cursor is the id of the last run of the previous page. */
function runFilter(query: z.infer<typeof runsQuery>): RunListFilter {
    return { integration: query.integration, connectionId: query.connection_id, status: query.status, before: query.cursor, limit: query.limit };
}

/** Action runs, synchronous and X-Async, newest first: sizes of input and output, never their contents. */
async function actionRuns(s: Services, environmentId: number, query: z.infer<typeof runsQuery>) {
    const rows = await s.runs.listActionRuns(environmentId, runFilter(query));
    const last = rows.at(-1);
    return {
        data: rows.map((r) => {
            const error = r.error as { type?: unknown; message?: unknown } | null;
            return {
                id: r.id,
                action: r.action,
                provider_config_key: r.providerConfigKey,
                connection_id: r.connectionId,
                mode: r.uuid ? 'async' : 'sync',
                action_id: r.uuid,
                status: r.status,
                attempts: r.attempts,
                queued_at: iso(r.queuedAt),
                started_at: iso(r.startedAt),
                finished_at: iso(r.finishedAt),
                input_bytes: r.inputBytes,
                output_bytes: r.outputBytes,
                error: error
                    ? { type: typeof error.type === 'string' ? error.type : 'unknown', message: typeof error.message === 'string' ? error.message : null }
                    : null
            };
        }),
        next_cursor: rows.length === query.limit && last ? last.id : null
    };
}
