import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { ENVIRONMENT_NAME, type Environment, type EnvironmentKey } from './environments.ts';

// Operator-only (auth `admin`): an app's secret key never lists, creates or changes environments or their keys.

const name = z.string().regex(ENVIRONMENT_NAME, 'lowercase letters, digits, - and _, starting with a letter or digit, at most 63');
const envParams = z.object({ name: z.string().min(1).max(63) }).strict();
const keyParams = z.object({ name: z.string().min(1).max(63), id: z.uuid() }).strict();
const label = z.string().min(1).max(100).optional();
// Nango's default overlap does not exist (its rotation is immediate); a day gives every app instance time to redeploy.
const DEFAULT_OVERLAP_SECONDS = 86_400;
const MAX_SECONDS = 366 * 86_400;

const formatEnv = (e: Environment & { createdAt?: Date }) => ({
    name: e.name,
    uuid: e.uuid,
    ...(e.createdAt ? { created_at: e.createdAt.toISOString() } : {})
});
const formatKey = (k: EnvironmentKey) => ({
    id: k.uuid,
    label: k.label,
    source: k.source,
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null
});

export const environmentAdminRoutes = [
    defineRoute({
        method: 'GET',
        url: '/admin/environments',
        auth: 'admin',
        query: z.object({}).strict(),
        handler: async (_, s) => ({ data: (await s.environments.list()).map(formatEnv) })
    }),
    defineRoute({
        method: 'POST',
        url: '/admin/environments',
        auth: 'admin',
        body: z.object({ name }).strict(),
        handler: async ({ body, reply }, s) => {
            const { environment, key } = await s.environments.create(body.name);
            s.log.info({ environment: environment.name }, 'environment created');
            // The secret key is shown here once; only its hash is kept.
            return reply.code(201).send({ data: { ...formatEnv(environment), secret_key: key } });
        }
    }),
    defineRoute({
        method: 'PATCH',
        url: '/admin/environments/:name',
        auth: 'admin',
        params: envParams,
        body: z.object({ name }).strict(),
        handler: async ({ params, body }, s) => {
            const renamed = await s.environments.rename(await s.environments.require(params.name), body.name);
            s.log.info({ from: params.name, environment: renamed.name }, 'environment renamed');
            return { data: formatEnv(renamed) };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/admin/environments/:name',
        auth: 'admin',
        params: envParams,
        handler: async ({ params, reply }, s) => {
            await s.environments.delete(await s.environments.require(params.name));
            s.log.info({ environment: params.name }, 'environment deleted');
            return reply.code(204).send();
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/admin/environments/:name/keys',
        auth: 'admin',
        params: envParams,
        query: z.object({}).strict(),
        handler: async ({ params }, s) => ({ data: (await s.environments.listKeys(await s.environments.require(params.name))).map(formatKey) })
    }),
    defineRoute({
        method: 'POST',
        url: '/admin/environments/:name/keys',
        auth: 'admin',
        params: envParams,
        body: z
            .object({ label, expires_in_seconds: z.number().int().min(1).max(MAX_SECONDS).optional() })
            .strict()
            .optional(),
        handler: async ({ params, body, reply }, s) => {
            const env = await s.environments.require(params.name);
            const expiresAt = body?.expires_in_seconds ? new Date(Date.now() + body.expires_in_seconds * 1000) : undefined;
            const { key, info } = await s.environments.addKey(env, { label: body?.label, expiresAt });
            s.log.info({ environment: env.name, keyId: info.uuid }, 'secret key added');
            return reply.code(201).send({ data: { ...formatKey(info), secret_key: key } });
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/admin/environments/:name/keys/rotate',
        auth: 'admin',
        params: envParams,
        body: z
            .object({ label, overlap_seconds: z.number().int().min(0).max(MAX_SECONDS).optional() })
            .strict()
            .optional(),
        handler: async ({ params, body }, s) => {
            const env = await s.environments.require(params.name);
            const overlapSeconds = body?.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS;
            const { key, info, retired } = await s.environments.rotate(env, { overlapSeconds, label: body?.label });
            s.log.info({ environment: env.name, keyId: info.uuid, retired: retired.map((k) => k.uuid), overlapSeconds }, 'secret key rotated');
            return { data: { ...formatKey(info), secret_key: key, retired: retired.map(formatKey) } };
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/admin/environments/:name/keys/:id',
        auth: 'admin',
        params: keyParams,
        handler: async ({ params }, s) => {
            const env = await s.environments.require(params.name);
            const revoked = await s.environments.revokeKey(env, params.id);
            s.log.info({ environment: env.name, keyId: revoked.uuid }, 'secret key revoked');
            return { data: formatKey(revoked) };
        }
    })
];
