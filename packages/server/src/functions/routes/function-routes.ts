import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { fail } from '../../errors.ts';
import type { Services } from '../../services.ts';
import type { Environment } from '../../environments/environments.ts';
import { providerNameSchema, uniqueKeySchema } from '../../integrations/schemas.ts';
import type { DeployedFunction } from '../store.ts';

const functionType = z.enum(['sync', 'action', 'on-event']);
const nameSchema = z
    .string()
    .max(255)
    .regex(/^[a-zA-Z0-9_-]+$/, 'only letters, digits, _ and - are allowed');
const fnParams = z.object({ uniqueKey: uniqueKeySchema, name: nameSchema }).strict();

/** A deployed script as a function definition (`NangoSyncFunction` / `NangoActionFunction` / `NangoOnEventFunction`). */
function definition(f: DeployedFunction): Record<string, unknown> {
    const c = f.config;
    const base = { name: f.name, description: c.description ?? '', scopes: c.scopes ?? [] };
    if (f.type === 'on-event') return { ...base, type: 'on-event', event: c.event ?? '' };
    const io = { ...(c.input ? { input: c.input } : {}), returns: c.models ?? [], json_schema: c.jsonSchema ?? null };
    if (f.type === 'action') return { ...base, type: 'action', ...io };
    return { ...base, type: 'sync', ...io, runs: c.runs ?? null, auto_start: c.autoStart ?? false, track_deletes: c.trackDeletes ?? false };
}

/**
 * `ListedNangoFunction`: the definition and where it stands. Every function here was deployed by a CLI from a
 * project folder, hence `source: 'repo'`; nothing disables one, hence `enabled: true`.
 */
const listed = (f: DeployedFunction) => ({ ...definition(f), id: f.id, enabled: true, last_deployed: f.deployedAt.toISOString(), source: 'repo' });

async function functionsOf(s: Services, env: Environment, uniqueKey: string): Promise<DeployedFunction[]> {
    if (!(await s.integrations.get(env.id, uniqueKey))) throw fail('not_found', { message: 'Integration does not exist' });
    return (await s.functions.list(env.id)).filter((f) => f.providerConfigKey === uniqueKey);
}

/** The one function of that name (and type, when given); two of different types without a type are ambiguous. */
async function oneFunction(s: Services, env: Environment, uniqueKey: string, name: string, type: string | undefined): Promise<DeployedFunction> {
    const matches = (await functionsOf(s, env, uniqueKey)).filter((f) => f.name === name && (!type || f.type === type));
    if (matches.length > 1) {
        throw fail('ambiguous_function', {
            message: `Several functions named "${name}" exist for integration "${uniqueKey}"; pass type to choose one`,
            payload: { matches: matches.map((f) => ({ type: f.type, name: f.name })) }
        });
    }
    if (!matches[0]) throw fail('not_found', { message: 'Function does not exist' });
    return matches[0];
}

/** Function management of `@nangohq/node` 0.71 (docs/compatibility.md, "Legacy routes"), answered from the scripts deployed here. */
export const functionRoutes = [
    defineRoute({
        method: 'GET',
        url: '/integrations/:uniqueKey/functions',
        auth: 'secret',
        params: z.object({ uniqueKey: uniqueKeySchema }).strict(),
        query: z
            .object({
                type: functionType.optional(),
                search: z.string().trim().min(1).max(255).optional(),
                page: z.coerce.number().int().min(0).default(0),
                limit: z.coerce.number().int().min(1).max(100).default(20)
            })
            .strict(),
        handler: async ({ env, params, query }, s) => {
            const needle = query.search?.toLowerCase();
            const all = (await functionsOf(s, env, params.uniqueKey)).filter(
                (f) => (!query.type || f.type === query.type) && (!needle || f.name.toLowerCase().includes(needle))
            );
            const page = all.slice(query.page * query.limit, (query.page + 1) * query.limit);
            return { data: page.map(listed), pagination: { total: all.length, page: query.page, limit: query.limit } };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/integrations/:uniqueKey/functions/:name',
        auth: 'secret',
        params: fnParams,
        query: z.object({ type: functionType.optional() }).strict(),
        handler: async ({ env, params, query }, s) => ({ data: listed(await oneFunction(s, env, params.uniqueKey, params.name, query.type)) })
    }),
    defineRoute({
        method: 'GET',
        url: '/integrations/:uniqueKey/functions/:name/code',
        auth: 'secret',
        params: fnParams,
        query: z.object({ type: functionType.optional() }).strict(),
        handler: async ({ env, params, query }, s) => {
            const fn = await oneFunction(s, env, params.uniqueKey, params.name, query.type);
            const code = await s.functions.source(fn);
            if (!code) throw fail('not_found', { message: `The deploy of "${fn.name}" carried no source file` });
            return { type: fn.type, code };
        }
    }),
    // Removes the script, its schedules and their state, as a deploy that no longer lists it would; the next deploy
    // that lists it brings it back.
    defineRoute({
        method: 'DELETE',
        url: '/integrations/:uniqueKey/functions/:name',
        auth: 'secret',
        params: fnParams,
        query: z.object({ type: z.enum(['sync', 'action']) }).strict(),
        handler: async ({ env, params, query }, s) => {
            const fn = await oneFunction(s, env, params.uniqueKey, params.name, query.type);
            await s.db.transaction((tx) => s.functions.remove(tx, [fn.id]));
            s.scheduler.wake();
            s.log.info({ integration: params.uniqueKey, function: fn.name, type: fn.type }, 'function deleted');
            return { data: { success: true } };
        }
    }),
    // Nango answers from its template catalogue; Switchboard has none, so the templates of a provider are the syncs
    // and actions deployed here for its integrations (one per type and name). An unknown provider has none.
    defineRoute({
        method: 'GET',
        url: '/providers/:provider/templates',
        auth: 'secret',
        params: z.object({ provider: providerNameSchema }).strict(),
        query: z.object({}).strict(),
        handler: async ({ env, params }, s) => {
            const seen = new Map<string, Record<string, unknown>>();
            for (const f of await s.functions.list(env.id)) {
                if (f.provider !== params.provider || f.type === 'on-event') continue;
                const key = `${f.type}:${f.name}`;
                if (!seen.has(key)) seen.set(key, definition(f));
            }
            return { data: [...seen.values()] };
        }
    })
];
