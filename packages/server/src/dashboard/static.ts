// Serves the built dashboard (packages/web/dist-dashboard) at /dashboard/ on the private listener only. Like the
// Connect UI, files are looked up per request (a rebuild needs no restart) and a missing build answers 503.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.ts';
import { contentTypes, fileAt } from '../connect-ui/routes.ts';

/** Where `npm run build -w @switchboard/web` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dist-dashboard/', import.meta.url));

/**
 * The dashboard loads only its own bundle and calls only this origin; it is never framed (clickjacking of an
 * admin console), and it sends no referrer.
 */
export const dashboardHeaders: Record<string, string> = {
    'content-security-policy': [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'"
    ].join('; '),
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()'
};

/** Registers GET /dashboard and GET /dashboard/* (the API under /dashboard/api is declared routes, not files). */
export async function registerDashboard(app: FastifyInstance, opts: { dir: string }): Promise<void> {
    const root = resolve(opts.dir);
    const index = resolve(root, 'index.html');

    const handler = async (req: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
        const rel = req.params['*'] ?? '';
        if (rel === 'api' || rel.startsWith('api/')) throw fail('route_not_found', { message: `No route ${req.method} /dashboard/${rel}` });
        reply.headers(dashboardHeaders);
        const indexInfo = await fileAt(index);
        if (!indexInfo) throw fail('connect_ui_not_built', { message: 'The dashboard is not built: run "npm run build -w @switchboard/web"' });
        let path = index;
        let info = indexInfo;
        let cache = 'no-cache';
        if (rel !== '' && rel !== 'index.html') {
            const target = resolve(root, rel);
            const found = target.startsWith(root + sep) ? await fileAt(target) : undefined;
            if (found) {
                path = target;
                info = found;
                // Vite names built assets by content hash: they never change under the same name.
                if (rel.startsWith('assets/')) cache = 'public, max-age=31536000, immutable';
            } else if (extname(rel) !== '') throw fail('not_found', { message: `No dashboard file /dashboard/${rel}` });
        }
        reply
            .header('content-type', contentTypes[extname(path)] ?? 'application/octet-stream')
            .header('content-length', info.size)
            .header('cache-control', cache);
        return reply.send(createReadStream(path));
    };

    app.get('/dashboard', async (_req, reply) => reply.redirect('/dashboard/', 308));
    app.get('/dashboard/', handler);
    app.get('/dashboard/*', handler);
}
