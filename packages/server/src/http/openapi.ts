import { z } from 'zod';
import { errorCodes } from '../errors.ts';
import type { AuthMode } from './route.ts';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table (issue #16 item 3): each route's method,
 * path, auth mode and zod schemas become an operation, so the document cannot drift from what the server parses.
 * Schemas go through zod's own JSON Schema conversion (draft 2020-12, the dialect OpenAPI 3.1 uses); they describe
 * what a caller sends (`io: 'input'`), before defaults and transforms.
 */

type JsonSchema = Record<string, unknown>;

/** What the generator reads of a route: the same fields `defineRoute` declares. */
export interface DocumentedRoute {
    method: string | string[];
    url: string | string[];
    auth: AuthMode;
    params?: z.ZodType | undefined;
    query?: z.ZodType | undefined;
    body?: z.ZodType | undefined;
    headers?: z.ZodType | undefined;
    documentedQuery?: z.ZodType | undefined;
    rawBody?: boolean | undefined;
    streamBody?: boolean | undefined;
}

/** Methods an OpenAPI 3.1 path item has a field for; others (the proxy's WebDAV verbs) are listed in an extension. */
const OPENAPI_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The extension on a path item naming the methods OpenAPI 3.1 cannot express as operations. */
export const OTHER_METHODS_EXTENSION = 'x-switchboard-other-methods';

/** Query parameters that carry a credential on the routes a browser opens (the Connect UI's flows). */
const SESSION_QUERY = 'connect_session_token';
const PUBLIC_KEY_QUERY = 'public_key';

const securitySchemes = {
    secretKey: {
        type: 'http',
        scheme: 'bearer',
        description: "An environment's secret key (the SDK's `secretKey`): `Authorization: Bearer <secret key>`."
    },
    connectSessionToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'A connect session token from `POST /connect/sessions`, as a Bearer token (the Connect UI and the frontend SDK).'
    },
    connectSessionQuery: {
        type: 'apiKey',
        in: 'query',
        name: SESSION_QUERY,
        description: 'A connect session token in the query string, on the routes a browser opens to authorise a connection.'
    },
    publicKey: {
        type: 'apiKey',
        in: 'query',
        name: PUBLIC_KEY_QUERY,
        description: "An environment's public key (legacy frontend auth), where the environment allows it; see docs/connect.md."
    },
    adminKey: {
        type: 'http',
        scheme: 'bearer',
        description: "The operator's admin key (SWITCHBOARD_ADMIN_KEY), never given to apps: `Authorization: Bearer <admin key>`."
    },
    agentToken: {
        type: 'http',
        scheme: 'bearer',
        description:
            "An MCP agent token (`sb_agent_…`, POST /mcp/tokens) naming one end user's connections: `Authorization: Bearer <agent token>`; see docs/mcp.md."
    },
    dashboardSession: {
        type: 'apiKey',
        in: 'cookie',
        name: 'sb_dashboard',
        description:
            'The operator dashboard session (set by POST /dashboard/api/session); a request that changes something also sends the X-Switchboard-Csrf token and a same-origin Origin. See docs/dashboard.md.'
    },
    adminEnvironment: {
        type: 'apiKey',
        in: 'header',
        name: 'Switchboard-Environment',
        description: 'With the admin key on a per-environment route: the name of the environment the call acts on.'
    }
} as const;

type Requirement = Record<keyof typeof securitySchemes, string[]>;
const need = (...names: Array<keyof typeof securitySchemes>): Partial<Requirement> => Object.fromEntries(names.map((n) => [n, []]));

const securityByAuth: Record<AuthMode, Array<Partial<Requirement>>> = {
    public: [],
    secret: [need('secretKey')],
    session: [need('connectSessionToken')],
    // On the main listener these routes also take the admin key with the environment's name (http/route.ts).
    secret_or_session: [need('secretKey'), need('connectSessionToken'), need('adminKey', 'adminEnvironment')],
    admin: [need('adminKey')],
    secret_or_admin: [need('secretKey'), need('adminKey', 'adminEnvironment')],
    secret_or_agent: [need('secretKey'), need('agentToken')],
    dashboard: [need('dashboardSession', 'adminEnvironment')],
    dashboard_admin: [need('dashboardSession')]
};

/** The error codes authentication answers with, per auth mode (see http/route.ts). */
const authErrors: Record<AuthMode, string[]> = {
    public: [],
    secret: ['missing_auth_header', 'malformed_auth_header', 'unknown_account'],
    session: ['missing_auth_header', 'malformed_auth_header', 'invalid_connect_session_token_format', 'unknown_connect_session_token'],
    secret_or_session: [
        'missing_auth_header',
        'malformed_auth_header',
        'unknown_account',
        'invalid_connect_session_token_format',
        'unknown_connect_session_token',
        'admin_key_required',
        'unknown_environment'
    ],
    admin: ['missing_auth_header', 'malformed_auth_header', 'unknown_account', 'admin_key_required'],
    secret_or_admin: ['missing_auth_header', 'malformed_auth_header', 'unknown_account', 'admin_key_required', 'unknown_environment'],
    secret_or_agent: ['missing_auth_header', 'malformed_auth_header', 'unknown_account', 'unknown_agent_token', 'agent_token_expired'],
    dashboard: ['dashboard_session_required', 'dashboard_csrf_failed', 'invalid_headers', 'unknown_environment'],
    dashboard_admin: ['dashboard_session_required', 'dashboard_csrf_failed']
};

function toJsonSchema(schema: z.ZodType): JsonSchema {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    return rest;
}

/** An object schema's properties and required names; anything else (a union, `any`) has none we can list. */
function objectShape(schema: z.ZodType | undefined): { properties: Record<string, JsonSchema>; required: Set<string> } {
    if (!schema) return { properties: {}, required: new Set() };
    const json = toJsonSchema(schema);
    const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
    return { properties, required: new Set((json['required'] ?? []) as string[]) };
}

/** `/connections/:connectionId` → `/connections/{connectionId}`; the proxy's wildcard becomes `{endpoint}`. */
export function openApiPath(url: string): string {
    return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{endpoint}');
}

function operationId(method: string, path: string, taken: Set<string>): string {
    const base = `${method}_${
        path
            .replace(/[{}]/g, '')
            .replace(/[^A-Za-z0-9]+/g, '_')
            .replace(/^_|_$/g, '') || 'root'
    }`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    return id;
}

function parameters(route: DocumentedRoute, path: string): JsonSchema[] {
    const out: JsonSchema[] = [];
    const params = objectShape(route.params);
    for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)) {
        const description = name === 'endpoint' ? "The provider API's path, relative to its base URL (any number of segments)." : undefined;
        out.push({ name, in: 'path', required: true, schema: params.properties[name] ?? { type: 'string' }, ...(description ? { description } : {}) });
    }
    const query = objectShape(route.query ?? route.documentedQuery);
    for (const [name, schema] of Object.entries(query.properties)) out.push({ name, in: 'query', required: query.required.has(name), schema });
    const headers = objectShape(route.headers);
    for (const [name, schema] of Object.entries(headers.properties)) {
        // OpenAPI describes Authorization through security schemes, never as a parameter.
        if (name.toLowerCase() === 'authorization') continue;
        out.push({ name, in: 'header', required: headers.required.has(name), schema });
    }
    return out;
}

function requestBody(route: DocumentedRoute): JsonSchema | undefined {
    if (route.streamBody) return { required: false, description: 'Sent to the provider as it is.', content: { '*/*': { schema: {} } } };
    if (route.rawBody)
        return { required: false, description: 'The provider webhook, verified on its raw bytes.', content: { 'application/json': { schema: {} } } };
    if (!route.body) return undefined;
    // Routes parse an absent body as `{}` (http/route.ts).
    const required = !route.body.safeParse({}).success;
    return { required, content: { 'application/json': { schema: toJsonSchema(route.body) } } };
}

/** A response carrying the error envelope, with the codes this operation is known to answer with for that status. */
function errorResponse(codes: string[]): JsonSchema {
    const list = codes.map((c) => `\`${c}\``).join(', ');
    return { description: codes.length ? `Error envelope; \`error.code\` is one of ${list}.` : 'Error envelope.', content: errorContent };
}

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } };

function responses(route: DocumentedRoute, credentialInQuery: boolean): JsonSchema {
    const byStatus = new Map<string, string[]>();
    const add = (code: keyof typeof errorCodes) => {
        const status = String(errorCodes[code].status);
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    };
    for (const code of authErrors[route.auth]) add(code as keyof typeof errorCodes);
    if (credentialInQuery) for (const code of ['missing_connect_session_token', 'unknown_connect_session_token', 'invalid_public_key'] as const) add(code);
    if (route.params) add('invalid_uri_params');
    if (route.query) add('invalid_query_params');
    if (route.headers) add('invalid_headers');
    if (route.body) add('invalid_body');
    if (route.body || route.rawBody) add('invalid_json');
    const out: JsonSchema = { '2XX': { description: 'Success.' } };
    for (const [status, codes] of [...byStatus].sort()) out[status] = errorResponse(codes);
    // Secret-key calls have rate limits when the operator sets them (docs/operations.md, "Rate limits").
    if (securityByAuth[route.auth].some((r) => 'secretKey' in r)) out['429'] = { $ref: '#/components/responses/RateLimited' };
    out['default'] = { $ref: '#/components/responses/Error' };
    return out;
}

function errorComponents(): JsonSchema {
    const codes = Object.entries(errorCodes).map(([code, { status, message }]) => ({
        const: code,
        description: `HTTP ${status}: ${message}`,
        'x-status': status
    }));
    return {
        ErrorCode: { type: 'string', description: 'Every error code the API answers with (docs/errors.md).', oneOf: codes },
        ErrorEnvelope: {
            type: 'object',
            required: ['error'],
            properties: {
                error: {
                    type: 'object',
                    required: ['code', 'message'],
                    properties: {
                        code: { $ref: '#/components/schemas/ErrorCode' },
                        message: { type: 'string' },
                        errors: {
                            type: 'array',
                            description: 'The validation issues, on invalid_body, invalid_query_params, invalid_uri_params and invalid_headers.',
                            items: {
                                type: 'object',
                                required: ['code', 'message', 'path'],
                                properties: {
                                    code: { type: 'string' },
                                    message: { type: 'string' },
                                    path: { type: 'array', items: { type: ['string', 'number'] } }
                                }
                            }
                        },
                        payload: { description: 'Extra detail some codes carry (the error id of generic_error_support).' }
                    },
                    additionalProperties: true
                }
            }
        }
    };
}

/** Builds the document. `version` is the server's own version (package.json). */
export function openApiDocument(routes: readonly DocumentedRoute[], version: string): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    const taken = new Set<string>();
    for (const route of routes) {
        const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toLowerCase());
        const urls = Array.isArray(route.url) ? route.url : [route.url];
        const queryNames = Object.keys(objectShape(route.query ?? route.documentedQuery).properties);
        const credentialInQuery = route.auth === 'public' && queryNames.includes(SESSION_QUERY);
        const security = credentialInQuery
            ? [need('connectSessionQuery'), ...(queryNames.includes(PUBLIC_KEY_QUERY) ? [need('publicKey')] : [])]
            : securityByAuth[route.auth];
        for (const url of urls) {
            const path = openApiPath(url);
            const item = (paths[path] ??= {});
            for (const method of methods) {
                if (!OPENAPI_METHODS.has(method)) {
                    const other = (item[OTHER_METHODS_EXTENSION] ??= []) as string[];
                    other.push(method.toUpperCase());
                    continue;
                }
                const body = requestBody(route);
                item[method] = {
                    operationId: operationId(method, path, taken),
                    tags: [path.split('/')[1] || 'root'],
                    security,
                    parameters: parameters(route, path),
                    ...(body && method !== 'get' && method !== 'head' ? { requestBody: body } : {}),
                    responses: responses(route, credentialInQuery)
                };
            }
        }
    }
    return {
        openapi: '3.1.1',
        info: {
            title: 'Switchboard API',
            version,
            description:
                "Switchboard's HTTP API: Nango's API as the official SDKs call it, plus the operator's `/admin` routes. Generated from the server's route table.",
            license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
        },
        jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
        paths,
        components: {
            securitySchemes,
            schemas: errorComponents(),
            responses: {
                Error: { description: 'Error envelope (see ErrorCode for every code).', content: errorContent },
                RateLimited: {
                    description: 'Error envelope with `too_many_request`: a rate limit of the secret key or the connection was reached; nothing was done.',
                    headers: {
                        'Retry-After': { description: 'Seconds until the limit that refused the call lets a call through.', schema: { type: 'integer' } },
                        RateLimit: { description: 'Per limit: `"<key|connection>";r=<remaining>;t=<seconds to reset>`.', schema: { type: 'string' } },
                        'RateLimit-Policy': { description: 'Per limit: `"<key|connection>";q=<quota>;w=<window seconds>`.', schema: { type: 'string' } }
                    },
                    content: errorContent
                }
            }
        }
    };
}
