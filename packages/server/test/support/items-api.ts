import type { ServerResponse } from 'node:http';
import { startUpstream, type RecordedRequest } from './upstream.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

export interface ItemsApi extends Upstream {
    /**
     * Items are generated on the fly: `id = item-<n>`; changes and cancellations are kept in small maps. A
     * `region` query parameter selects another data set, `<region>-item-<n>`, with its own count (default 0).
     */
    setCount(n: number, region?: string): void;
    change(n: number): void;
    cancel(n: number): void;
    remove(n: number): void;
    /** Pages served so far (GET /items). */
    pages(): number;
    /** Delays every page by this many ms (to make a run long enough to kill). */
    slow(ms: number): void;
    created: Array<{ id: string; title: string }>;
}

/**
 * A loopback API standing in for a provider: cursor-paged `GET /items`, `POST /items`, `GET /items/:id`,
 * Bearer auth with the connection's API key. 100,000 items cost nothing until a page is served.
 */
export async function startItemsApi(apiKey: string): Promise<ItemsApi> {
    const counts = new Map<string, number>();
    let served = 0;
    let delay = 0;
    const versions = new Map<number, number>();
    const cancelled = new Set<number>();
    const removed = new Set<number>();
    const created: Array<{ id: string; title: string }> = [];
    const item = (n: number, region = '') => ({
        id: region ? `${region}-item-${n}` : `item-${n}`,
        title: region ? `Item ${n} (${region})` : `Item ${n}`,
        version: versions.get(n) ?? 1,
        ...(cancelled.has(n) ? { cancelled: true } : {})
    });
    const up = await startUpstream(async (req: RecordedRequest, res: ServerResponse) => {
        const json = (status: number, body: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${apiKey}`) return json(401, { error: 'unauthorized' });
        const url = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'GET' && url.pathname === '/items') {
            served++;
            if (delay) await new Promise((r) => setTimeout(r, delay));
            const start = Number(url.searchParams.get('cursor') || 0);
            const limit = Number(url.searchParams.get('limit') || 100);
            const region = url.searchParams.get('region') ?? '';
            const count = counts.get(region) ?? 0;
            const items = [];
            let n = start;
            for (; n < count && items.length < limit; n++) if (!removed.has(n)) items.push(item(n, region));
            return json(200, { items, next: n < count ? String(n) : null });
        }
        if (req.method === 'POST' && url.pathname === '/items') {
            const body = JSON.parse(req.body || '{}') as { title?: string };
            if (body.title === 'forbidden') return json(200, { error: 'titles may not be "forbidden"' });
            const made = { id: `new-${created.length + 1}`, title: body.title ?? '' };
            created.push(made);
            return json(201, made);
        }
        const one = /^\/items\/item-(\d+)$/.exec(url.pathname);
        if (req.method === 'GET' && one && Number(one[1]) < (counts.get('') ?? 0) && !removed.has(Number(one[1]))) return json(200, item(Number(one[1])));
        return json(404, { error: 'not_found', path: url.pathname });
    });
    return Object.assign(up, {
        setCount: (n: number, region = '') => void counts.set(region, n),
        change: (n: number) => void versions.set(n, (versions.get(n) ?? 1) + 1),
        cancel: (n: number) => void cancelled.add(n),
        remove: (n: number) => void removed.add(n),
        pages: () => served,
        slow: (ms: number) => void (delay = ms),
        created
    });
}
