// The dashboard's own endpoints: sign-in, the session, sign-out, and the one list no API route offers (sync runs
// across an environment). Everything else the dashboard shows comes from the API's routes, mounted under
// /dashboard/api (mount.ts). docs/dashboard.md.
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import { fmt } from '../integrations/routes.ts';
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

interface RunRow {
    id: string;
    status: string;
    type: string | null;
    reset: boolean;
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

interface ActionRunRow {
    id: string;
    uuid: string | null;
    status: string;
    queued_at: Date;
    started_at: Date | null;
    finished_at: Date | null;
    error: unknown;
    attempts: number;
    input_bytes: number | null;
    output_bytes: number | null;
    action: string;
    provider_config_key: string;
    connection_id: string | null;
}

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

interface InboundRow {
    id: string;
    provider_config_key: string;
    provider: string;
    event: string | null;
    outcome: string;
    reason: string | null;
    connections: number;
    runs: number;
    forwards: number;
    body_bytes: number;
    received_at: Date;
}

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
                data: page.map((i) => fmt(s, env.uuid, i)),
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
            const rows = await s.db.query<RunRow>(
                `SELECT r.id::text AS id, r.status, r.type, r.reset, r.queued_at, r.started_at, r.finished_at, r.result, r.error,
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
                    reset: r.reset,
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
            const rows = await s.db.query<InboundRow>(
                `SELECT id::text AS id, provider_config_key, provider, event, outcome, reason, connections, runs, forwards, body_bytes, received_at
                 FROM inbound_webhooks
                 WHERE environment_id = $1 AND ($2::text IS NULL OR provider_config_key = $2) AND ($3::text IS NULL OR outcome = $3)
                   AND ($4::bigint IS NULL OR id < $4)
                 ORDER BY id DESC LIMIT $5`,
                [env.id, query.integration ?? null, query.outcome ?? null, query.cursor ?? null, query.limit]
            );
            const last = rows.at(-1);
            return {
                data: rows.map((r) => ({
                    id: Number(r.id),
                    provider_config_key: r.provider_config_key,
                    provider: r.provider,
                    event: r.event,
                    outcome: r.outcome,
                    reason: r.reason,
                    connections: r.connections,
                    runs: r.runs,
                    forwards: r.forwards,
                    body_bytes: r.body_bytes,
                    received_at: iso(r.received_at)
                })),
                next_cursor: rows.length === query.limit && last ? Number(last.id) : null
            };
        }
    })
];

/** Action runs, synchronous and X-Async, newest first: sizes of input and output, never their contents. */
async function actionRuns(s: Services, environmentId: number, query: z.infer<typeof runsQuery>) {
    const rows = await s.db.query<ActionRunRow>(
        `SELECT r.id::text AS id, r.uuid::text AS uuid, r.status, r.queued_at, r.started_at, r.finished_at, r.error, r.attempts,
                r.input_bytes, r.output_bytes, f.name AS action, i.unique_key AS provider_config_key, c.connection_id
         FROM runs r JOIN functions f ON f.id = r.function_id JOIN integrations i ON i.id = f.integration_id
         LEFT JOIN connections c ON c.id = r.connection_id
         WHERE r.kind = 'action' AND r.environment_id = $1 AND ($2::text IS NULL OR i.unique_key = $2) AND ($3::text IS NULL OR c.connection_id = $3)
           AND ($4::text IS NULL OR r.status = $4) AND ($5::bigint IS NULL OR r.id < $5)
         ORDER BY r.id DESC LIMIT $6`,
        [environmentId, query.integration ?? null, query.connection_id ?? null, query.status ?? null, query.cursor ?? null, query.limit]
    );
    const last = rows.at(-1);
    return {
        data: rows.map((r) => {
            const error = r.error as { type?: unknown; message?: unknown } | null;
            return {
                id: Number(r.id),
                action: r.action,
                provider_config_key: r.provider_config_key,
                connection_id: r.connection_id,
                mode: r.uuid ? 'async' : 'sync',
                action_id: r.uuid,
                status: r.status,
                attempts: r.attempts,
                queued_at: iso(r.queued_at),
                started_at: iso(r.started_at),
                finished_at: iso(r.finished_at),
                input_bytes: r.input_bytes,
                output_bytes: r.output_bytes,
                error: error
                    ? { type: typeof error.type === 'string' ? error.type : 'unknown', message: typeof error.message === 'string' ? error.message : null }
                    : null
            };
        }),
        next_cursor: rows.length === query.limit && last ? Number(last.id) : null
    };
}
