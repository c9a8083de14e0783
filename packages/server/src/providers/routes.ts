import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { publicProvider } from './catalogue.ts';
import { providerNameSchema } from './schema.ts';
import { logoSvg } from './logos.ts';

export const providerRoutes = [
    defineRoute({
        method: 'GET',
        url: '/providers',
        auth: 'secret_or_session',
        query: z
            .object({
                search: z
                    .string()
                    .max(255)
                    .regex(/^[a-zA-Z0-9_ -]*$/)
                    .optional()
            })
            .strict(),
        handler: async ({ query }, s) => {
            const needle = query.search?.toLowerCase();
            const list = s.catalogue
                .list()
                .filter(([name, def]) => !needle || name.toLowerCase().includes(needle) || def.display_name.toLowerCase().includes(needle))
                .map(([name, def]) => publicProvider(name, def, s.config.serverUrl));
            return { data: list };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/providers/:provider',
        auth: 'secret_or_session',
        params: z.object({ provider: providerNameSchema }).strict(),
        query: z.object({}).strict(),
        handler: async ({ params }, s) => {
            const def = s.catalogue.get(params.provider);
            if (!def) throw fail('not_found', { message: `Unknown provider "${params.provider}"` });
            return { data: publicProvider(params.provider, def, s.config.serverUrl) };
        }
    }),
    // Every provider has a logo: its Simple Icons brand icon where one is published under CC0, else a monogram (logos.ts).
    defineRoute({
        method: 'GET',
        url: '/images/template-logos/:file',
        auth: 'public',
        params: z.object({ file: z.string().regex(/^[a-zA-Z0-9_-]+\.svg$/) }).strict(),
        handler: async ({ params, reply }, s) => {
            const name = params.file.slice(0, -4);
            const def = s.catalogue.get(name);
            if (!def) throw fail('not_found');
            reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml');
            return logoSvg(name, def);
        }
    })
];
