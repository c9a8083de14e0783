import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z } from 'zod';
import { ApiError, fail, type ErrorIssue } from '../errors.ts';
import type { Environment } from '../environments/environments.ts';
import type { Services } from '../services.ts';
import type { ConnectSession } from '../connect/sessions.ts';
import type { AgentToken } from '../mcp/agent-tokens.ts';
import { hashKeyMemo } from '../environments/hash.ts';
import { authenticateDashboard } from '../dashboard/auth.ts';

/**
 * `secret`: an environment's secret key. `admin`: the operator's admin key only (SWITCHBOARD_ADMIN_KEY).
 * `secret_or_admin`: a per-environment operation an app may call on its own environment with its secret key, and
 * the operator on any environment with the admin key plus a `Switchboard-Environment: <name>` header.
 * `secret_or_session` takes the admin key too when that header is sent (main port only).
 * `dashboard`: the operator's dashboard session (cookie, plus the CSRF token and a same-origin Origin on a request
 * that changes something) with the environment named in the Switchboard-Environment header; `dashboard_admin`: the
 * same without an environment. Every admin-capable route is also mounted under /dashboard/api with one of these
 * (dashboard/mount.ts), so the dashboard calls the same handlers as the API (docs/dashboard.md).
 */
export type AuthMode =
    | 'secret'
    | 'session'
    | 'secret_or_session'
    | 'admin'
    | 'secret_or_admin'
    | 'secret_or_agent'
    | 'public'
    | 'dashboard'
    | 'dashboard_admin';

/**
 * Which listener a route is served on (issue #12 item 5). `all`: only the main (private) port; the public port
 * (SWITCHBOARD_PUBLIC_PORT) serves what browsers and providers must reach.
 */
export type Surface = 'all' | 'public';

/**
 * Whether routes of each auth mode are served on the public port, decided once per mode so a new route cannot be
 * forgotten: a new auth mode does not compile until it is placed here. A route overrides it with `surface`.
 */
const publicByAuth: Record<AuthMode, boolean> = {
    public: true,
    session: true,
    secret_or_session: true,
    secret: false,
    admin: false,
    secret_or_admin: false,
    secret_or_agent: false,
    dashboard: false,
    dashboard_admin: false
};
type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B, H> {
    params: P;
    query: Q;
    body: B;
    headers: H;
    env: Environment;
    /** Set when the caller authenticated with a connect session token. */
    session: ConnectSession | undefined;
    /** True when the caller presented the admin key. */
    admin: boolean;
    /** Set when the caller authenticated with an MCP agent token (auth `secret_or_agent`); `env` is then the token's. */
    agent: AgentToken | undefined;
    req: FastifyRequest;
    reply: FastifyReply;
}

/**
 * A route declared as data: method, path, auth mode and zod schemas. The handler receives parsed,
 * authorised input; validation and auth failures are rendered once, here, in Nango's envelope.
 */
export interface RouteDef<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined, H extends Schema | undefined> {
    method: HTTPMethods | HTTPMethods[];
    url: string | string[];
    auth: AuthMode;
    /** Exception to the auth mode's default listener (publicByAuth): `private` keeps a public route off the public port. */
    surface?: 'public' | 'private';
    params?: P;
    query?: Q;
    body?: B;
    headers?: H;
    /**
     * The query a handler parses itself (a browser flow answering a bad query with a page, not the JSON envelope):
     * not applied by the route, only described in the OpenAPI document (http/openapi.ts).
     */
    documentedQuery?: z.ZodType;
    /**
     * Optional shortcut for a hot route's headers: returns what `headers` would parse to, or undefined to let the
     * schema decide. It must never accept what the schema rejects, nor return a different value.
     */
    headersFastPath?: (headers: FastifyRequest['headers']) => Out<H> | undefined;
    /** Keep the raw request body as a Buffer (inbound webhooks). */
    rawBody?: boolean;
    /** Leave the request body unread: the handler streams it from `req.raw` (proxy). Fastify's body limit does not apply. */
    streamBody?: boolean;
    /**
     * Largest body this route reads. Routes anyone can call (auth `public` or `session`) default to
     * SWITCHBOARD_PUBLIC_BODY_LIMIT_BYTES, the others to SWITCHBOARD_BODY_LIMIT_BYTES; never above the latter.
     */
    bodyLimit?: number;
    handler: (input: RouteInput<Out<P>, Out<Q>, Out<B>, Out<H>>, services: Services) => Promise<unknown>;
}

export function defineRoute<
    P extends Schema | undefined = undefined,
    Q extends Schema | undefined = undefined,
    B extends Schema | undefined = undefined,
    H extends Schema | undefined = undefined
>(def: RouteDef<P, Q, B, H>): RouteDef<P, Q, B, H> {
    return def;
}

/** True when the route is served on the public port (SWITCHBOARD_PUBLIC_PORT). */
export function servedOnPublic(def: { auth: AuthMode; surface?: 'public' | 'private' | undefined }): boolean {
    return def.surface ? def.surface === 'public' : publicByAuth[def.auth];
}

export function issuesOf(error: z.ZodError): ErrorIssue[] {
    return error.issues.map((i) => ({ code: i.code, message: i.message, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) }));
}

function parse<S extends Schema | undefined>(
    schema: S,
    value: unknown,
    code: 'invalid_body' | 'invalid_query_params' | 'invalid_uri_params' | 'invalid_headers'
): Out<S> {
    if (!schema) return undefined as Out<S>;
    const res = schema.safeParse(value ?? {});
    if (!res.success) throw fail(code, { errors: issuesOf(res.error) });
    return res.data as Out<S>;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
    return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** The rate limiter's subject for a secret-key request: the key's hash, never the key. */
export function keySubject(headers: FastifyRequest['headers']): string {
    return `key:${hashKeyMemo(bearerToken(headers.authorization) ?? '')}`;
}

/** Resolves the Bearer secret key to its environment; there is no auth-off mode. */
export async function authenticateSecret(req: Pick<FastifyRequest, 'headers'>, services: Services): Promise<Environment> {
    const header = req.headers.authorization;
    if (!header) throw fail('missing_auth_header');
    const token = bearerToken(header);
    if (!token) throw fail('malformed_auth_header');
    const env = await services.environments.authenticate(token);
    if (!env) throw fail('unknown_account');
    return env;
}

/**
 * Resolves a connect session token (Bearer). A token with the session prefix is never retried as a secret key
 * (docs/compatibility.md, "Conventions and errors").
 */
export async function authenticateSession(token: string, services: Services): Promise<{ env: Environment; session: ConnectSession }> {
    if (!services.connectSessions.isTokenFormat(token)) throw fail('invalid_connect_session_token_format');
    const session = await services.connectSessions.find(token);
    if (!session) throw fail('unknown_connect_session_token');
    const env = await services.environments.byId(session.environmentId);
    if (!env) throw fail('unknown_connect_session_token');
    return { env, session };
}

/** The header naming the environment an admin-key call to a per-environment route acts on. */
export const ENVIRONMENT_HEADER = 'switchboard-environment';

/** The environment an operator's call acts on, named in the Switchboard-Environment header. */
async function environmentFromHeader(req: FastifyRequest, services: Services): Promise<Environment> {
    const name = req.headers[ENVIRONMENT_HEADER];
    if (typeof name !== 'string' || !name) throw fail('invalid_headers', { message: 'Name the environment in the Switchboard-Environment header' });
    return services.environments.require(name);
}

/** The admin key, or `admin_key_required` (an environment's key) / the secret-key errors (anything else). */
async function authenticateAdmin(req: FastifyRequest, services: Services, mode: 'admin' | 'secret_or_admin'): Promise<Caller> {
    const token = bearerToken(req.headers.authorization);
    if (token && (await services.adminKeys.authenticate(token))) {
        if (mode === 'admin') return { env: noEnvironment, session: undefined, admin: true };
        const name = req.headers[ENVIRONMENT_HEADER];
        if (typeof name !== 'string' || !name)
            throw fail('admin_key_required', { message: 'With the admin key, name the environment in the Switchboard-Environment header' });
        return { env: await services.environments.require(name), session: undefined, admin: true };
    }
    const env = await authenticateSecret(req, services);
    if (mode === 'admin') throw fail('admin_key_required');
    return { env, session: undefined, admin: false };
}

/**
 * An agent token (its prefix tells it from a secret key, and it is then never tried as one) or the secret key.
 * docs/mcp.md, "Agent tokens".
 */
async function authenticateAgent(req: FastifyRequest, services: Services): Promise<Caller> {
    const bearer = bearerToken(req.headers.authorization);
    if (!bearer || !services.mcp.tokens.looksLikeToken(bearer)) return { env: await authenticateSecret(req, services), session: undefined, admin: false };
    const agent = await services.mcp.tokens.authenticate(bearer);
    if (agent === 'unknown') throw fail('unknown_agent_token');
    if (agent === 'expired') throw fail('agent_token_expired');
    const env = await services.environments.byId(agent.environmentId);
    if (!env) throw fail('unknown_agent_token');
    return { env, session: undefined, admin: false, agent };
}

async function authenticate(mode: AuthMode, req: FastifyRequest, services: Services): Promise<Caller> {
    if (mode === 'public') return publicCaller;
    if (mode === 'dashboard' || mode === 'dashboard_admin') {
        const { dashboardSession } = await authenticateDashboard(req, services);
        const env = mode === 'dashboard' ? await environmentFromHeader(req, services) : noEnvironment;
        return { env, session: undefined, admin: true, dashboardSession };
    }
    if (mode === 'secret_or_agent') return authenticateAgent(req, services);
    if (mode === 'secret') return { env: await authenticateSecret(req, services), session: undefined, admin: false };
    if (mode === 'admin' || mode === 'secret_or_admin') return authenticateAdmin(req, services, mode);
    const bearer = bearerToken(req.headers.authorization);
    const looksLikeSession = services.connectSessions.looksLikeToken(bearer);
    if (mode === 'session' || (mode === 'secret_or_session' && looksLikeSession)) {
        if (!req.headers.authorization) throw fail('missing_auth_header');
        if (!bearer) throw fail('malformed_auth_header');
        return { ...(await authenticateSession(bearer, services)), admin: false };
    }
    // With the environment header, a listing an app reads with its key the operator reads with the admin key
    // (`switchboard plan` lists an environment's integrations); never on the public port (registerRoute).
    if (mode === 'secret_or_session' && req.headers[ENVIRONMENT_HEADER] !== undefined) return authenticateAdmin(req, services, 'secret_or_admin');
    return { env: await authenticateSecret(req, services), session: undefined, admin: false };
}

// Routes without auth still need an environment for shared code paths; public routes resolve theirs explicitly.
const noEnvironment: Environment = { id: 0, uuid: '00000000-0000-0000-0000-000000000000', name: '' };

/** Who called: set by the route's onRequest hook, before a byte of the body is read. */
export interface Caller {
    env: Environment;
    session: ConnectSession | undefined;
    admin: boolean;
    agent?: AgentToken | undefined;
    /** The hash of the dashboard session's id, when the caller is the operator's dashboard (sign-out deletes it). */
    dashboardSession?: string | undefined;
}

declare module 'fastify' {
    interface FastifyRequest {
        caller: Caller | null;
    }
}

const publicCaller: Caller = { env: noEnvironment, session: undefined, admin: false };

export function registerRoute(
    app: FastifyInstance,
    services: Services,
    def: RouteDef<Schema | undefined, Schema | undefined, Schema | undefined, Schema | undefined>,
    surface: Surface = 'all'
): void {
    const urls = Array.isArray(def.url) ? def.url : [def.url];
    // On the public port a secret key opens nothing: routes that take either credential take only a session there.
    const auth: AuthMode = surface === 'public' && def.auth === 'secret_or_session' ? 'session' : def.auth;
    const limits = services.config;
    const open = def.auth === 'public' || def.auth === 'session';
    const bodyLimit = Math.min(def.bodyLimit ?? (open ? limits.publicBodyLimit : limits.bodyLimit), limits.bodyLimit);
    // Issue #10 item 5: the key is checked in onRequest, before content-type parsing reads the body, so a
    // caller without a valid key cannot make the server buffer (or even receive) a large body; the connection
    // is then closed unread (closeUnread in app.ts).
    const onRequest =
        auth === 'public'
            ? undefined
            : async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
                  const caller = await authenticate(auth, req, services);
                  req.caller = caller;
                  // Issue #16 item 4: an app's secret key has a rate limit (the admin key and connect sessions do not).
                  if (services.limits.enabled && !caller.admin && !caller.session)
                      reply.headers(await services.limits.admit(caller.env, [{ name: 'key', subject: keySubject(req.headers) }]));
              };
    for (const url of urls) {
        app.route({
            method: def.method,
            url,
            bodyLimit,
            config: { rawBody: def.rawBody ?? false },
            ...(onRequest ? { onRequest } : {}),
            handler: async (req, reply) => {
                const { env, session, admin, agent } = req.caller ?? publicCaller;
                const input = {
                    params: parse(def.params, req.params, 'invalid_uri_params'),
                    query: parse(def.query, req.query, 'invalid_query_params'),
                    headers: def.headersFastPath?.(req.headers) ?? parse(def.headers, req.headers, 'invalid_headers'),
                    body: parse(def.body, req.body, 'invalid_body'),
                    env,
                    session,
                    admin,
                    agent,
                    req,
                    reply
                };
                const result = await def.handler(input, services);
                if (reply.sent) return reply;
                return result;
            }
        });
    }
}

export { ApiError };
