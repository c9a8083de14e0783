import { defineRoute } from '../../http/route.ts';
import { deployBody } from '../deploy-schema.ts';
import { confirmDeploy, deploy } from '../deploy.ts';
import { scriptsConfigQuery } from './schemas.ts';
import { scriptsConfig } from '../scripts-config.ts';

export const deployRoutes = [
    defineRoute({
        method: 'POST',
        url: '/sync/deploy/confirmation',
        auth: 'secret',
        body: deployBody,
        handler: async ({ env, body }, s) => confirmDeploy(s, env.id, body)
    }),
    defineRoute({
        method: 'POST',
        url: '/sync/deploy',
        auth: 'secret',
        body: deployBody,
        handler: async ({ env, body }, s) => {
            const out = await deploy(s, env.id, body);
            s.scheduler.wake();
            return out;
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/scripts/config',
        auth: 'secret',
        query: scriptsConfigQuery,
        handler: async ({ env, query }, s) => scriptsConfig(await s.functions.list(env.id), query.format ?? 'nango')
    })
];
