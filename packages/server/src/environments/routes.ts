import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { variablesBody } from './variables.ts';

export const environmentVariableRoutes = [
    // Ours: which environment the caller's secret key belongs to (name only), so a tool given a key and a file
    // naming an environment can refuse when they differ (`switchboard apply`). With the admin key, the one named
    // by the Switchboard-Environment header.
    defineRoute({
        method: 'GET',
        url: '/environment',
        auth: 'secret_or_admin',
        query: z.object({}).strict(),
        handler: async ({ env }) => ({ data: { name: env.name } })
    }),
    // Nango's API (SDK getEnvironmentVariables): the environment's variables with their values.
    defineRoute({
        method: 'GET',
        url: '/environment-variables',
        auth: 'secret_or_admin',
        query: z.object({}).strict(),
        handler: async ({ env }, s) => s.environmentVariables.list(env.id)
    }),
    // Ours (Nango sets them in its dashboard): the whole set, replacing what was stored. Values are not echoed.
    defineRoute({
        method: 'PUT',
        url: '/admin/environment-variables',
        auth: 'secret_or_admin',
        body: variablesBody,
        handler: async ({ env, body }, s) => {
            await s.environmentVariables.replace(env.id, body.variables);
            return { data: { names: body.variables.map((v) => v.name).sort() } };
        }
    })
];
