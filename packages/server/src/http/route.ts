import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { z } from 'zod';
import { ApiError, fail, type ErrorIssue } from './errors.ts';
import type { Environment } from '../environments/environments.ts';
import type { Services } from '../services.ts';

export type AuthMode = 'secret' | 'public';

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B, H> {
    params: P;
    query: Q;
    body: B;
    headers: H;
    env: Environment;
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
    params?: P;
    query?: Q;
    body?: B;
    headers?: H;
    /** Keep the raw request body (proxy). */
    rawBody?: boolean;
    handler: (input: RouteInput<Out<P>, Out<Q>, Out<B>, Out<H>>, services: Services) => Promise<unknown>;
}

export function defineRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined, H extends Schema | undefined = undefined>(
    def: RouteDef<P, Q, B, H>
): RouteDef<P, Q, B, H> {
    return def;
}

export function issuesOf(error: z.ZodError): ErrorIssue[] {
    return error.issues.map((i) => ({ code: i.code, message: i.message, path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) }));
}

function parse<S extends Schema | undefined>(schema: S, value: unknown, code: 'invalid_body' | 'invalid_query_params' | 'invalid_uri_params' | 'invalid_headers'): Out<S> {
    if (!schema) return undefined as Out<S>;
    const res = schema.safeParse(value ?? {});
    if (!res.success) throw fail(code, { errors: issuesOf(res.error) });
    return res.data as Out<S>;
}

/** Resolves the Bearer secret key to its environment; there is no auth-off mode. */
export async function authenticateSecret(req: FastifyRequest, services: Services): Promise<Environment> {
    const header = req.headers.authorization;
    if (!header) throw fail('missing_auth_header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw fail('malformed_auth_header');
    const env = await services.environments.authenticate(match[1]!);
    if (!env) throw fail('unknown_account');
    return env;
}

// Routes without auth still need an environment for shared code paths; public routes resolve theirs explicitly.
const noEnvironment: Environment = { id: 0, uuid: '00000000-0000-0000-0000-000000000000', name: '' };

export function registerRoute(app: FastifyInstance, services: Services, def: RouteDef<Schema | undefined, Schema | undefined, Schema | undefined, Schema | undefined>): void {
    const urls = Array.isArray(def.url) ? def.url : [def.url];
    for (const url of urls) {
        app.route({
            method: def.method,
            url,
            config: { rawBody: def.rawBody ?? false },
            handler: async (req, reply) => {
                const env = def.auth === 'secret' ? await authenticateSecret(req, services) : noEnvironment;
                const input = {
                    params: parse(def.params, req.params, 'invalid_uri_params'),
                    query: parse(def.query, req.query, 'invalid_query_params'),
                    headers: parse(def.headers, req.headers, 'invalid_headers'),
                    body: parse(def.body, req.body, 'invalid_body'),
                    env,
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
