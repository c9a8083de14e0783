/**
 * The HTTP plumbing shared by the loopback Google fakes (fake-google-calendar.ts, fake-gmail.ts):
 * Bearer-token check, Google's JSON error envelope, a request log and one-shot fault injection.
 * The API behaviour itself lives in each fake.
 *
 * Error envelope as Google's JSON APIs send it (https://cloud.google.com/apis/design/errors#http_mapping,
 * and the `error.errors[]` list the Calendar and Gmail v1 APIs still include):
 *   { "error": { "code": 404, "message": "...", "errors": [{ "domain", "reason", "message" }], "status": "NOT_FOUND" } }
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
    method: string;
    /** Path without the query string, e.g. /calendar/v3/calendars/primary/events */
    path: string;
    /** Query parameters; a parameter given several times (historyTypes=a&historyTypes=b) keeps every value. */
    query: Record<string, string | string[]>;
    headers: IncomingMessage['headers'];
    /** Parsed JSON body when the request had one, else undefined. */
    body: unknown;
    /** HTTP status the fake answered with. */
    status: number;
}

/** A request as a route handler sees it. */
export interface RouteInput {
    method: string;
    path: string;
    search: URLSearchParams;
    body: unknown;
}

export interface RouteResult {
    status: number;
    body?: unknown;
}

export type Route = (input: RouteInput) => RouteResult;

export interface Fault {
    status: number;
    /** How many upcoming requests fail (default 1). */
    times?: number;
    /** Only requests whose path matches (default: any). */
    path?: RegExp;
    /** Extra response headers, e.g. retry-after. */
    headers?: Record<string, string>;
}

export interface GoogleHttpFake {
    url: string;
    requests: FakeRequest[];
    /** The token the fake accepts in `Authorization: Bearer …`; change it to simulate a revoked token. */
    accessToken: string;
    /** Make the next request(s) fail with this status (Google error envelope) before the route runs. */
    failNext(fault: Fault): void;
    close(): Promise<void>;
}

const statusNames: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    410: 'FAILED_PRECONDITION',
    429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE'
};

/** Google's error envelope. `reason` is the legacy `errors[].reason` value clients switch on (e.g. fullSyncRequired). */
export function googleError(code: number, message: string, reason: string, domain = 'global'): RouteResult {
    return { status: code, body: { error: { code, message, errors: [{ domain, reason, message }], status: statusNames[code] ?? 'UNKNOWN' } } };
}

function queryObject(search: URLSearchParams): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const key of new Set(search.keys())) {
        const all = search.getAll(key);
        out[key] = all.length === 1 ? all[0]! : all;
    }
    return out;
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

function send(res: ServerResponse, result: RouteResult, headers: Record<string, string> = {}): void {
    if (result.body === undefined) {
        res.writeHead(result.status, headers);
        res.end();
        return;
    }
    res.writeHead(result.status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(result.body));
}

/** Starts a loopback server on 127.0.0.1:0 that authenticates, logs and dispatches to `route`. */
export async function startGoogleHttpFake(route: Route, accessToken: string): Promise<GoogleHttpFake> {
    const requests: FakeRequest[] = [];
    const faults: Array<Required<Pick<Fault, 'status' | 'times'>> & Fault> = [];
    const fake: GoogleHttpFake = {
        url: '',
        requests,
        accessToken,
        failNext: (fault) => faults.push({ ...fault, times: fault.times ?? 1 }),
        close: async () => undefined
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const url = new URL(req.url ?? '/', 'http://fake.invalid');
        const text = await readBody(req);
        let body: unknown;
        let result: RouteResult;
        let headers: Record<string, string> = {};
        try {
            body = text ? JSON.parse(text) : undefined;
        } catch {
            body = text;
        }
        const fault = faults.find((f) => f.times > 0 && (!f.path || f.path.test(url.pathname)));
        if (req.headers.authorization !== `Bearer ${fake.accessToken}`) {
            // What Google answers for a missing or invalid OAuth token.
            result = googleError(
                401,
                'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
                'authError'
            );
            headers = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
        } else if (fault) {
            fault.times -= 1;
            result = googleError(fault.status, `Injected failure ${fault.status}`, fault.status === 429 ? 'rateLimitExceeded' : 'backendError');
            headers = fault.headers ?? {};
        } else if (typeof body === 'string') {
            result = googleError(400, 'Invalid JSON payload received.', 'parseError');
        } else {
            result = route({ method: req.method ?? 'GET', path: url.pathname, search: url.searchParams, body });
        }
        requests.push({
            method: req.method ?? 'GET',
            path: url.pathname,
            query: queryObject(url.searchParams),
            headers: req.headers,
            body,
            status: result.status
        });
        send(res, result, headers);
    };

    const server = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => send(res, googleError(500, String(err), 'backendError')));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${port}`;
    fake.close = () =>
        new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
        });
    return fake;
}

/** Parses a positive integer query parameter within [1, max]; undefined when absent, null when invalid. */
export function intParam(search: URLSearchParams, name: string, fallback: number, max: number): number | null {
    const raw = search.get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) return null;
    return Math.min(n, max);
}
