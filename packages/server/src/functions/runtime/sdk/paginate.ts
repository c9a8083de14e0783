/**
 * `nango.paginate` as a pure module: given a proxy config, the provider's default pagination and a request
 * function, yields pages. Semantics per docs/scripts-compatibility.md, "HTTP" (cursor, link, offset).
 */
import get from 'lodash-es/get.js';
import type { ProxyConfig, ProxyResponse } from './http.ts';
import { SdkError } from './errors.ts';

export type PageRequest = (config: ProxyConfig) => Promise<ProxyResponse>;

interface Settings {
    type: 'cursor' | 'link' | 'offset';
    cfg: Record<string, unknown>;
    inBody: boolean;
    limit: unknown;
    responsePath: string | undefined;
    onPage: ((arg: { nextPageParam: unknown; response: ProxyResponse }) => unknown) | undefined;
}

/**
 * Async generator of pages. Cursor and offset pagination end on a missing or empty page list; link pagination
 * yields whatever sits at `response_path` (issue #11 item 4). Throws `invalid_pagination` on a bad config.
 */
export async function* paginate(
    config: ProxyConfig,
    providerPaginate: Record<string, unknown> | null | undefined,
    request: PageRequest
): AsyncGenerator<unknown[], void, undefined> {
    const s = settings(config, providerPaginate);
    const state = new RequestState(config, s.inBody);
    if (s.limit !== undefined && s.limit !== null) {
        const name = s.cfg['limit_name_in_request'];
        if (typeof name !== 'string' || !name) throw invalid('`limit_name_in_request` is required when `limit` is set');
        state.set(name, s.limit);
    }
    if (s.type === 'cursor') yield* cursorPages(s, state, request);
    else if (s.type === 'link') yield* linkPages(s, state, request);
    else yield* offsetPages(s, state, request);
}

async function* cursorPages(s: Settings, state: RequestState, request: PageRequest): AsyncGenerator<unknown[], void, undefined> {
    const name = requiredString(s.cfg, 'cursor_name_in_request');
    const path = requiredString(s.cfg, 'cursor_path_in_response');
    for (;;) {
        const response = await request(state.config());
        const page = pageOf(response, s.responsePath);
        if (page === undefined) return;
        const next = nextCursor(pick(response.data, path));
        await s.onPage?.({ nextPageParam: next, response });
        yield page;
        if (next === undefined) return;
        state.set(name, next);
    }
}

async function* linkPages(s: Settings, state: RequestState, request: PageRequest): AsyncGenerator<unknown[], void, undefined> {
    const rel = s.cfg['link_rel_in_response_header'];
    const bodyPath = s.cfg['link_path_in_response_body'];
    if (typeof rel !== 'string' && typeof bodyPath !== 'string')
        throw invalid('link pagination needs `link_rel_in_response_header` or `link_path_in_response_body`');
    const seen = new Set<string>();
    for (;;) {
        const response = await request(state.config());
        // Whatever is there, even nothing: a link-paginated API may answer a last page without its list.
        const page = pick(response.data, s.responsePath) as unknown[];
        // The header first, then the body path when the header has no such link (both may be configured).
        const fromHeader = typeof rel === 'string' ? linkFromHeader(response.headers, rel) : undefined;
        const next = fromHeader || (typeof bodyPath === 'string' ? pick(response.data, bodyPath) : undefined);
        await s.onPage?.({ nextPageParam: next, response });
        yield page;
        if (typeof next !== 'string' || next === '' || seen.has(next)) return;
        seen.add(next);
        state.followLink(next);
    }
}

async function* offsetPages(s: Settings, state: RequestState, request: PageRequest): AsyncGenerator<unknown[], void, undefined> {
    const name = requiredString(s.cfg, 'offset_name_in_request');
    const method = s.cfg['offset_calculation_method'] ?? 'by-response-size';
    if (method !== 'by-response-size' && method !== 'per-page') throw invalid(`unknown offset_calculation_method '${String(method)}'`);
    let offset = Number(s.cfg['offset_start_value'] ?? 0);
    if (!Number.isFinite(offset)) throw invalid('`offset_start_value` must be a number');
    const limit = s.limit === undefined || s.limit === null ? undefined : Number(s.limit);
    for (;;) {
        // The offset goes as a string in the query string and as a number in a JSON body.
        state.set(name, s.inBody ? offset : String(offset));
        const response = await request(state.config());
        const page = pageOf(response, s.responsePath);
        if (page === undefined) return;
        const nextOffset = method === 'per-page' ? offset + 1 : offset + page.length;
        await s.onPage?.({ nextPageParam: nextOffset, response });
        yield page;
        if (limit !== undefined && Number.isFinite(limit) && page.length < limit) return;
        offset = nextOffset;
    }
}

function settings(config: ProxyConfig, providerPaginate: Record<string, unknown> | null | undefined): Settings {
    if (!config || typeof config.endpoint !== 'string') throw invalid('nango.paginate requires an `endpoint`');
    if (!providerPaginate && !config.paginate) throw invalid('no pagination config: pass `paginate` or configure `proxy.paginate` for the provider');
    const cfg: Record<string, unknown> = { ...(providerPaginate ?? {}), ...(config.paginate ?? {}) };
    const type = cfg['type'];
    if (type !== 'cursor' && type !== 'link' && type !== 'offset') throw invalid(`unknown pagination type '${String(type)}' (expected cursor, link or offset)`);
    const method = (config.method ?? 'GET').toUpperCase();
    const inBody = typeof cfg['in_body'] === 'boolean' ? (cfg['in_body'] as boolean) : ['POST', 'PUT', 'PATCH'].includes(method);
    const responsePath = typeof cfg['response_path'] === 'string' && cfg['response_path'] ? (cfg['response_path'] as string) : undefined;
    const onPage = typeof cfg['on_page'] === 'function' ? (cfg['on_page'] as Settings['onPage']) : undefined;
    return { type, cfg, inBody, limit: cfg['limit'], responsePath, onPage };
}

/** The request being built across pages: query params or JSON body gets the pagination fields. */
class RequestState {
    private readonly base: ProxyConfig;
    private readonly inBody: boolean;
    private endpoint: string;
    private params: Record<string, string | number | string[] | number[]>;
    private body: Record<string, unknown> | undefined;

    constructor(config: ProxyConfig, inBody: boolean) {
        this.base = config;
        this.inBody = inBody;
        this.endpoint = config.endpoint;
        this.params = typeof config.params === 'string' ? Object.fromEntries(new URLSearchParams(config.params)) : { ...(config.params ?? {}) };
        const data = config.data;
        this.body = isPlainObject(data) ? structuredCloneish(data) : inBody ? {} : undefined;
    }

    set(name: string, value: unknown): void {
        if (this.inBody) setDotted((this.body ??= {}), name, value);
        else this.params[name] = value as string | number;
    }

    /**
     * A next link carries its own query string. An absolute one is sent as the endpoint, whole: the host checks
     * that URL against the provider's base URL and allow-lists as it checks any script target, path included
     * (an origin alone would not match a base URL with a path, and would hide the path from the check).
     */
    followLink(link: string): void {
        this.params = {};
        this.endpoint = link;
    }

    config(): ProxyConfig {
        const { paginate: _ignored, ...rest } = this.base;
        const out: ProxyConfig = { ...rest, endpoint: this.endpoint, params: { ...this.params } };
        if (this.body !== undefined) out.data = structuredCloneish(this.body);
        return out;
    }
}

/**
 * Reads a response path as Nango's runner does, with lodash `get`: a key that exists literally wins
 * (`@odata.nextLink`), otherwise dots and `[n]` walk into the value (`data.items`, `pages[0].next`).
 * No path returns the value itself.
 */
export function pick(value: unknown, path: string | undefined): unknown {
    if (!path) return value;
    return get(value, path);
}

/** A next cursor worth sending: a non-blank string (trimmed) or a number; anything else ends the pages. */
function nextCursor(value: unknown): string | number | undefined {
    if (typeof value === 'number') return value;
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
}

/** Writes `a.b.c = value`, creating nested objects (Nango expands dotted names in bodies). */
export function setDotted(target: Record<string, unknown>, path: string, value: unknown): void {
    const keys = path.split('.');
    let cur = target;
    for (const key of keys.slice(0, -1)) {
        const next = cur[key];
        if (!isPlainObject(next)) cur[key] = {};
        cur = cur[key] as Record<string, unknown>;
    }
    cur[keys[keys.length - 1] as string] = value;
}

/** RFC 8288 (formerly 5988) `Link` header: returns the target whose `rel` list contains `rel`. */
export function linkFromHeader(headers: Record<string, string>, rel: string): string | undefined {
    const raw = headers['link'] ?? headers['Link'];
    if (!raw) return undefined;
    for (const part of raw.split(/,(?=\s*<)/)) {
        const m = /^\s*<([^>]*)>(.*)$/.exec(part);
        if (!m) continue;
        const relMatch = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2] ?? '');
        const rels = (relMatch?.[1] ?? relMatch?.[2] ?? '').toLowerCase().split(/\s+/);
        if (rels.includes(rel.toLowerCase())) return m[1];
    }
    return undefined;
}

/**
 * The page list of a cursor or offset response, or `undefined` when there is none to yield: missing, empty,
 * or something without a length (APIs that omit an empty list, GraphQL `nodes: null`) ends the pages, as on
 * Nango's runner. A non-array that has a length (a string) is yielded as it is, as there too.
 */
function pageOf(response: ProxyResponse, path: string | undefined): unknown[] | undefined {
    const page = pick(response.data, path) as { length?: unknown } | null | undefined;
    if (!page || typeof page.length !== 'number' || page.length === 0) return undefined;
    return page as unknown[];
}

function requiredString(cfg: Record<string, unknown>, key: string): string {
    const v = cfg[key];
    if (typeof v !== 'string' || !v) throw invalid(`\`${key}\` is required for ${String(cfg['type'])} pagination`);
    return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Deep copy of JSON-like data so one page's body is never mutated by the next. */
function structuredCloneish(v: Record<string, unknown>): Record<string, unknown> {
    return JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
}

function invalid(message: string): SdkError {
    return new SdkError('invalid_pagination', `nango.paginate: ${message}`);
}
