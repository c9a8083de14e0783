// Serves the built Connect UI (packages/web/dist) at /connect/. Files are looked up on each request, so a rebuild
// is picked up without a restart and a missing build answers 503 instead of failing the boot. Paths without a file
// extension fall back to index.html (the app keeps its state in memory, any deep link lands on the start screen).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.ts';
import { connectUiHeaders } from './headers.ts';

/** Where `npm run build -w @switchboard/web` writes the UI. */
export const DEFAULT_CONNECT_UI_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export const contentTypes: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.json': 'application/json; charset=utf-8',
    '.txt': 'text/plain; charset=utf-8',
    '.woff2': 'font/woff2',
    '.map': 'application/json; charset=utf-8'
};

// API paths under /connect/ that are not UI pages: a wrong method on them must stay a JSON 404, not the app.
const apiSegments = new Set(['session', 'sessions', 'telemetry']);

export interface ConnectUiOptions {
    dir: string;
    serverUrl: () => string;
    frameAncestors: string[] | undefined;
}

export async function fileAt(path: string): Promise<{ size: number; mtime: Date } | undefined> {
    try {
        const s = await stat(path);
        return s.isFile() ? s : undefined;
    } catch {
        return undefined;
    }
}

/** Registers GET /connect and GET /connect/* on the app. */
export async function registerConnectUi(app: FastifyInstance, opts: ConnectUiOptions): Promise<void> {
    const root = resolve(opts.dir);
    const index = resolve(root, 'index.html');

    const send = async (reply: FastifyReply, path: string, info: { size: number; mtime: Date }, cache: string) => {
        reply
            .headers(connectUiHeaders(opts.serverUrl(), opts.frameAncestors))
            .header('content-type', contentTypes[extname(path)] ?? 'application/octet-stream')
            .header('content-length', info.size)
            .header('last-modified', info.mtime.toUTCString())
            .header('cache-control', cache);
        return reply.send(createReadStream(path));
    };

    const handler = async (req: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
        const rel = req.params['*'] ?? '';
        if (apiSegments.has(rel.split('/')[0] ?? '')) throw fail('route_not_found', { message: `No route ${req.method} /connect/${rel}` });
        const indexInfo = await fileAt(index);
        reply.headers(connectUiHeaders(opts.serverUrl(), opts.frameAncestors));
        if (!indexInfo) throw fail('connect_ui_not_built');
        if (rel !== '' && rel !== 'index.html') {
            const target = resolve(root, rel);
            if (target.startsWith(root + sep)) {
                const info = await fileAt(target);
                // Vite names built assets by content hash: they never change under the same name.
                if (info) return send(reply, target, info, rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
            }
            if (extname(rel) !== '') throw fail('not_found', { message: `No Connect UI file /connect/${rel}` });
        }
        return send(reply, index, indexInfo, 'no-cache');
    };

    // The SDK always adds the trailing slash (relative asset paths need it); a person typing the URL may not.
    app.get('/connect', async (req, reply) => {
        const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
        return reply.redirect(`/connect/${query}`, 308);
    });
    app.get('/connect/', handler);
    app.get('/connect/*', handler);
}
