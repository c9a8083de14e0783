import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerPool } from '../src/functions/runtime/pool.ts';
import type { ProxyConfig, ProxyResponse } from '../src/functions/runtime/sdk/http.ts';
import { linkFromHeader, paginate, setDotted } from '../src/functions/runtime/sdk/paginate.ts';
import { fetchProxy, recordingHost, scriptProps } from './support/script-host.ts';
import { json, startUpstream } from './support/upstream.ts';

const ITEMS = ['a', 'b', 'c', 'd', 'e'];

describe('nango.paginate', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let sent: ProxyConfig[];

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const url = new URL(req.url, 'http://x');
            const q = url.searchParams;
            const limit = Number(q.get('limit') ?? 2);
            if (url.pathname === '/cursor') {
                const start = Number(q.get('cursor') ?? 0);
                const next = start + limit < ITEMS.length ? String(start + limit) : '';
                return json(res, 200, { data: { items: ITEMS.slice(start, start + limit) }, meta: { next } });
            }
            if (url.pathname === '/link') {
                const page = Number(q.get('page') ?? 1);
                const headers: Record<string, string> =
                    page < 3 ? { link: `<${upstream.url}/link?page=${page + 1}>; rel="next", <${upstream.url}/link?page=3>; rel="last"` } : {};
                return json(res, 200, page === 2 ? [] : ITEMS.slice(0, 2).map((x) => x + page), headers);
            }
            if (url.pathname === '/link-body') {
                const page = Number(q.get('page') ?? 1);
                return json(res, 200, { results: [`p${page}`], next: page < 2 ? '/link-body?page=2' : '/link-body?page=2' });
            }
            if (url.pathname === '/offset') {
                const offset = Number(q.get('offset'));
                return json(res, 200, { rows: ITEMS.slice(offset, offset + limit) });
            }
            if (url.pathname === '/pages') {
                const page = Number(q.get('page'));
                return json(res, 200, { rows: ITEMS.slice((page - 1) * 2, page * 2) });
            }
            if (url.pathname === '/search' && req.method === 'POST') {
                const body = JSON.parse(req.body) as { paging?: { cursor?: string }; page_size: number; query: string };
                const start = Number(body.paging?.cursor ?? 0);
                const end = start + body.page_size;
                return json(res, 200, { hits: ITEMS.slice(start, end).map((x) => `${body.query}:${x}`), next: end < ITEMS.length ? end : null });
            }
            return json(res, 404, { error: 'no route' });
        });
    });
    after(() => upstream.close());

    const request = async (c: ProxyConfig): Promise<ProxyResponse> => {
        sent.push(c);
        const r = await fetchProxy(upstream.url, { ...c, method: c.method ?? 'GET' });
        if (r.status >= 400) throw new Error(`upstream ${r.status}`);
        return { ...r, statusText: '', config: c };
    };
    const all = async (config: ProxyConfig, provider: Record<string, unknown> | null = null): Promise<unknown[][]> => {
        sent = [];
        const pages: unknown[][] = [];
        for await (const page of paginate(config, provider, request)) pages.push(page);
        return pages;
    };

    it('cursor: follows the cursor path, sends limit and cursor as query params, stops on a blank cursor', async () => {
        const onPage: unknown[] = [];
        const pages = await all({
            endpoint: '/cursor',
            paginate: {
                type: 'cursor',
                cursor_name_in_request: 'cursor',
                cursor_path_in_response: 'meta.next',
                response_path: 'data.items',
                limit: 2,
                limit_name_in_request: 'limit',
                on_page: ({ nextPageParam }: { nextPageParam: unknown }) => void onPage.push(nextPageParam)
            }
        });
        assert.deepEqual(pages, [['a', 'b'], ['c', 'd'], ['e']]);
        assert.deepEqual(
            sent.map((c) => c.params),
            [{ limit: 2 }, { limit: 2, cursor: '2' }, { limit: 2, cursor: '4' }]
        );
        assert.deepEqual(onPage, ['2', '4', undefined], 'a blank cursor is no cursor');
    });

    it('cursor in a POST body: in_body by default, dotted names become nested objects, numeric cursors accepted', async () => {
        const pages = await all({
            endpoint: '/search',
            method: 'POST',
            data: { query: 'q' },
            paginate: {
                type: 'cursor',
                cursor_name_in_request: 'paging.cursor',
                cursor_path_in_response: 'next',
                response_path: 'hits',
                limit: 2,
                limit_name_in_request: 'page_size'
            }
        });
        assert.deepEqual(pages, [['q:a', 'q:b'], ['q:c', 'q:d'], ['q:e']]);
        assert.deepEqual(
            sent.map((c) => c.data),
            [
                { query: 'q', page_size: 2 },
                { query: 'q', page_size: 2, paging: { cursor: 2 } },
                { query: 'q', page_size: 2, paging: { cursor: 4 } }
            ]
        );
    });

    it('link (header): follows rel="next", an absolute link is sent whole as the endpoint, empty pages are yielded', async () => {
        const pages = await all({ endpoint: '/link', params: { limit: 2 }, paginate: { type: 'link', link_rel_in_response_header: 'next' } });
        assert.deepEqual(pages, [['a1', 'b1'], [], ['a3', 'b3']]);
        // Issue #10 item 3: the host checks the whole link against the allow-lists, so no origin-only override.
        assert.equal(sent[1]?.baseUrlOverride, undefined);
        assert.equal(sent[1]?.endpoint, `${upstream.url}/link?page=2`);
        assert.deepEqual(sent[1]?.params, {}, 'the next link carries its own query');
    });

    it('link (body path): stops on a repeated link', async () => {
        const pages = await all({ endpoint: '/link-body', paginate: { type: 'link', link_path_in_response_body: 'next', response_path: 'results' } });
        assert.deepEqual(pages, [['p1'], ['p2']]);
    });

    it('offset by response size: offset sent as a string, stops on a short page', async () => {
        const pages = await all({
            endpoint: '/offset',
            paginate: { type: 'offset', offset_name_in_request: 'offset', response_path: 'rows', limit: 2, limit_name_in_request: 'limit' }
        });
        assert.deepEqual(pages, [['a', 'b'], ['c', 'd'], ['e']]);
        assert.deepEqual(
            sent.map((c) => (c.params as Record<string, unknown>)['offset']),
            ['0', '2', '4']
        );
    });

    it('offset per page, starting from offset_start_value; stops on an empty page', async () => {
        const pages = await all({
            endpoint: '/pages',
            paginate: { type: 'offset', offset_name_in_request: 'page', offset_start_value: 1, offset_calculation_method: 'per-page', response_path: 'rows' }
        });
        assert.deepEqual(pages, [['a', 'b'], ['c', 'd'], ['e']]);
        assert.equal(sent.length, 4);
    });

    it('merges the provider default under the script config; no config at all is an error', async () => {
        const provider = { type: 'cursor', cursor_name_in_request: 'cursor', cursor_path_in_response: 'meta.next', limit_name_in_request: 'limit', limit: 100 };
        const pages = await all({ endpoint: '/cursor', paginate: { response_path: 'data.items', limit: 3 } }, provider);
        assert.deepEqual(pages, [
            ['a', 'b', 'c'],
            ['d', 'e']
        ]);
        await assert.rejects(all({ endpoint: '/cursor' }), /no pagination config/);
        // No list at the path ends the pages, as on Nango's runner (issue #11 item 4).
        assert.deepEqual(
            await all({ endpoint: '/cursor', paginate: { type: 'cursor', cursor_name_in_request: 'cursor', cursor_path_in_response: 'meta.next' } }),
            []
        );
        await assert.rejects(all({ endpoint: '/cursor', paginate: { type: 'pages' } }), /unknown pagination type 'pages'/);
        await assert.rejects(
            all({ endpoint: '/cursor', paginate: { type: 'cursor', cursor_name_in_request: 'c', cursor_path_in_response: 'n', limit: 2 } }),
            /limit_name_in_request/
        );
    });

    it('helpers: Link header parsing and dotted body names', () => {
        assert.equal(linkFromHeader({ link: '<https://a.test/x?p=2>; rel="next prev", <https://a.test/x?p=9>; rel=last' }, 'last'), 'https://a.test/x?p=9');
        assert.equal(linkFromHeader({ link: '<https://a.test/x?p=2>; rel="next prev"' }, 'next'), 'https://a.test/x?p=2');
        assert.equal(linkFromHeader({}, 'next'), undefined);
        const body: Record<string, unknown> = { a: 1 };
        setDotted(body, 'x.y.z', 5);
        assert.deepEqual(body, { a: 1, x: { y: { z: 5 } } });
    });

    it('works end to end in a runner process with the provider default from props', async () => {
        const pool = new RunnerPool({ size: 1 });
        try {
            const h = recordingHost(upstream.url);
            const code = `module.exports.default = { type: 'sync', exec: async (nango) => {
                for await (const page of nango.paginate({ endpoint: '/cursor', paginate: { response_path: 'data.items' } })) {
                    await nango.batchSave(page.map((id) => ({ id })), 'Contact');
                }
            } };`;
            const providerPaginate = {
                type: 'cursor',
                cursor_name_in_request: 'cursor',
                cursor_path_in_response: 'meta.next',
                limit_name_in_request: 'limit',
                limit: 2
            };
            const r = await pool.run({ runId: 'p1', kind: 'sync', code, props: scriptProps('sync', { providerPaginate }), timeoutMs: 10_000 }, h.host);
            assert.deepEqual(r, { ok: true, output: true });
            assert.deepEqual(
                h.calls.filter((c) => c.method === 'batchSave').map((c) => (c.args[1] as Array<{ id: string }>).map((x) => x.id)),
                [['a', 'b'], ['c', 'd'], ['e']]
            );
        } finally {
            await pool.close();
        }
    });
});
