import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { variablesBody } from './variables.ts';

export const environmentVariableRoutes = [
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
