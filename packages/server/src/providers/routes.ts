import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { publicProvider } from './catalogue.ts';
import { providerNameSchema } from './schema.ts';

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
    // A generated monogram so `logo` URLs resolve without shipping third-party trademarks.
    defineRoute({
        method: 'GET',
        url: '/images/template-logos/:file',
        auth: 'public',
        params: z.object({ file: z.string().regex(/^[a-zA-Z0-9_-]+\.svg$/) }).strict(),
        handler: async ({ params, reply }, s) => {
            const name = params.file.slice(0, -4);
            const def = s.catalogue.get(name);
            if (!def) throw fail('not_found');
            const letters =
                def.display_name
                    .replace(/[^A-Za-z0-9 ]/g, '')
                    .split(/\s+/)
                    .map((w) => w[0] ?? '')
                    .join('')
                    .slice(0, 2)
                    .toUpperCase() || '?';
            let hue = 0;
            for (const ch of name) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
            reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml');
            return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="hsl(${hue} 55% 45%)"/><text x="32" y="41" font-family="system-ui,sans-serif" font-size="24" font-weight="600" text-anchor="middle" fill="#fff">${letters}</text></svg>`;
        }
    })
];
