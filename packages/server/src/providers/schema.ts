// One provider definition in the providers.yaml schema (field names as in Nango's
// public provider format, so operators can bring files of that shape), plus our
// extensions: revocation_* (RFC 7009), proxy.base_url_allowlist, user_scopes_param.
// Every field of Nango's published `Provider` type (0.71.x) is declared here; the objects stay strict so zod names
// every key it does not know, and the loader (catalogue.ts) decides: a near miss of a known key refuses the start,
// any other unknown key is reported and dropped (docs/providers.md, "Schema fields").
import { z } from 'zod';
import { parseTemplate } from './interpolate.ts';
import { connectionConfigKeys, urlAlternatives } from './url-template.ts';

export const AUTH_MODES = [
    'OAUTH1',
    'OAUTH2',
    'OAUTH2_CC',
    'API_KEY',
    'BASIC',
    'NONE',
    'CUSTOM',
    'APP',
    'JWT',
    'TBA',
    'TWO_STEP',
    'SIGNATURE',
    'BILL',
    'AWS_SIGV4',
    'MCP_OAUTH2',
    'MCP_OAUTH2_GENERIC',
    'INSTALL_PLUGIN'
] as const;
export const authModeSchema = z.enum(AUTH_MODES);
export type AuthMode = z.infer<typeof authModeSchema>;
const isAuthMode = (s: string): boolean => (AUTH_MODES as readonly string[]).includes(s);

/** Provider names and other identifiers that end up in URLs and hook lookups. */
export const providerNameSchema = z.string().regex(/^[a-zA-Z0-9_-]+$/, 'expected letters, digits, "_" or "-"');

// TLS everywhere (docs/security.md, item 9); plain http only for loopback,
// which tests and local mock servers need.
const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|\?|$)/;
const isSecureUrl = (s: string) => (s.startsWith('https://') || LOOPBACK_HTTP.test(s)) && URL.canParse(s);

/** A string that may hold `${…}` placeholders; refused at load time if malformed. */
const template = z.string().superRefine((s, ctx) => {
    try {
        parseTemplate(s);
    } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
});

// A URL template. One that starts with a placeholder (Salesforce's instance_url) can
// only be checked once filled, by the egress policy; any other must be https.
// Nango's whole-URL alternatives (`https://${connectionConfig.host} || https://api.example.com`) are checked one by one.
const urlTemplate = template.superRefine((s, ctx) => {
    for (const alternative of urlAlternatives(s)) {
        if (alternative.startsWith('${')) continue;
        const probe = alternative.replace(/\$\{[^}]*\}/g, 'x');
        if (!isSecureUrl(probe)) ctx.addIssue({ code: 'custom', message: 'expected an https:// URL (http only for loopback)' });
    }
});

const httpsUrl = z.string().refine((s) => s.startsWith('https://') && URL.canParse(s), 'expected an https:// URL');
const nonEmpty = z.string().min(1);
const templateMap = z.record(z.string(), template);
// Parameter values: Nango's files write some as YAML booleans or numbers (`isEncrypted: true`); sent as text.
const paramMap = z.record(z.string(), z.union([template, z.number().transform(String), z.boolean().transform(String)]));
const stringList = z.array(nonEmpty);

// Parameters the broker owns: letting a template set them would undo state, PKCE or
// the exact redirect URI (checklist items 1, 2, 4).
const RESERVED_AUTHORIZATION_PARAMS = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method'];
const RESERVED_TOKEN_PARAMS = ['client_secret', 'code', 'code_verifier', 'redirect_uri', 'refresh_token'];

function reserved(keys: string[]) {
    return (params: Record<string, string>, ctx: z.RefinementCtx) => {
        for (const key of keys) {
            if (Object.hasOwn(params, key)) ctx.addIssue({ code: 'custom', path: [key], message: 'is set by the broker and cannot be templated' });
        }
    };
}

// Authorization code grant only (docs/security.md, item 8; RFC 9700 §2.1.2, §2.4): no implicit
// or hybrid response types, no resource-owner password grant.
const authorizationParams = paramMap.superRefine(reserved(RESERVED_AUTHORIZATION_PARAMS)).superRefine((p, ctx) => {
    if (p.response_type !== undefined && p.response_type !== 'code') {
        ctx.addIssue({ code: 'custom', path: ['response_type'], message: 'only "code" is allowed (no implicit grant)' });
    }
});
const noPasswordGrant = (p: Record<string, string>, ctx: z.RefinementCtx) => {
    if (p.grant_type !== undefined && p.grant_type.trim().toLowerCase() === 'password') {
        ctx.addIssue({ code: 'custom', path: ['grant_type'], message: 'the password grant is not allowed' });
    }
};
const tokenParams = paramMap.superRefine(reserved(RESERVED_TOKEN_PARAMS)).superRefine(noPasswordGrant);

const regexSource = z.string().refine((s) => {
    try {
        new RegExp(s);
        return true;
    } catch {
        return false;
    }
}, 'expected a valid regular expression');

/** A form field shown to the end user (connection_config) or asked for as a credential. */
// Nango types `hidden` and `secret` as strings but its files write booleans; both are read as booleans.
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
export const fieldSchema = z.strictObject({
    type: z.enum(['string', 'number', 'boolean']),
    title: z.string().optional(),
    description: z.string().optional(),
    example: z.string().optional(),
    pattern: regexSource.optional(),
    format: z.enum(['hostname', 'uri', 'uuid', 'email']).optional(),
    optional: z.boolean().optional(),
    default_value: z.string().optional(),
    automated: z.boolean().optional(),
    order: z.number().int().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
    secret: flag.optional(),
    hidden: flag.optional(),
    doc_section: z.string().optional(),
    /** The only values accepted (a select in the Connect UI). */
    enum: z.array(z.string()).min(1).optional(),
    /** Shown next to the field when it holds the given value (value -> text). */
    warnings: z.record(z.string(), z.string()).optional(),
    /** Shown only while another field equals a value. */
    visible_when: z.strictObject({ field: nonEmpty, equals: z.string() }).optional()
});
const fieldMap = z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, "_" or "-"'), fieldSchema);

const paginationCommon = {
    // on_page is a callback in Nango's SDK type, never file data.
    limit: z.union([z.number().int().positive(), z.string()]).optional(),
    limit_name_in_request: nonEmpty.optional(),
    response_path: nonEmpty.optional(),
    in_body: z.boolean().optional()
};
const paginateSchema = z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('cursor'), ...paginationCommon, cursor_path_in_response: nonEmpty, cursor_name_in_request: nonEmpty }),
    z
        .strictObject({
            type: z.literal('link'),
            ...paginationCommon,
            link_rel_in_response_header: nonEmpty.optional(),
            link_path_in_response_body: nonEmpty.optional()
        })
        .refine((p) => p.link_rel_in_response_header || p.link_path_in_response_body, 'needs link_rel_in_response_header or link_path_in_response_body'),
    z.strictObject({
        type: z.literal('offset'),
        ...paginationCommon,
        offset_name_in_request: nonEmpty,
        offset_start_value: z.number().int().nonnegative().optional(),
        offset_calculation_method: z.enum(['per-page', 'by-response-size']).optional()
    })
]);

// Where Base-Url-Override may point: a hostname (exact, or `*.` for any subdomain)
// or a URL prefix the override must start with.
const HOSTNAME = /^(?=.{1,253}$)(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const allowlistEntry = z.string().refine((s) => HOSTNAME.test(s) || isSecureUrl(s), 'expected a lowercase hostname, "*.hostname" or an https:// URL prefix');

/** A header name, or a list tried in order. */
const headerNames = z.union([nonEmpty, z.array(nonEmpty).min(1)]);
/** An HTTP status (429, "429") or a class ("5xx"). */
export const statusCode = z.union([
    z.number().int().min(100).max(599),
    z.string().regex(/^[1-5](\d\d|xx)$/i, 'expected a status code such as 429 or a class such as "5xx"')
]);
type ProxyBodyValue = string | { [key: string]: ProxyBodyValue };
const proxyBodyValue: z.ZodType<ProxyBodyValue> = z.lazy(() => z.union([template, z.record(z.string(), proxyBodyValue)]));

export const proxySchema = z.strictObject({
    base_url: urlTemplate.optional(),
    headers: templateMap.optional(),
    query: templateMap.optional(),
    retry: z
        .strictObject({
            at: headerNames.optional(), // header(s) holding the reset time (epoch seconds or a date); the first present wins
            after: headerNames.optional(), // header(s) holding seconds to wait
            remaining: nonEmpty.optional(), // header holding the remaining quota; "0" on an error answer means wait and retry
            error_code: z.array(statusCode).optional(), // replaces the default retryable statuses; "5xx" for a class
            in_body: z.strictObject({ path: nonEmpty, value: z.string().optional(), strategy: z.enum(['at', 'after']) }).optional() // where a rate-limited body says how long to wait
        })
        .optional(),
    decompress: z.boolean().optional(),
    connection_config: z.record(z.string(), template).optional(),
    body: z.record(z.string(), proxyBodyValue).optional(),
    forward_headers_on_redirect: z.boolean().optional(),
    paginate: paginateSchema.optional(),
    verification: z
        .strictObject({
            method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
            endpoints: z.array(nonEmpty).min(1),
            base_url_override: urlTemplate.optional(),
            headers: templateMap.optional(),
            data: z.unknown().optional()
        })
        .optional(),
    base_url_allowlist: z.array(allowlistEntry).optional()
});

// A key in the typed hook registry, never code; Nango's file writes "" for none.
const scriptName = z.union([z.literal('').transform(() => undefined), providerNameSchema]);

/** JWT header and claims for JWT and TWO_STEP assertions. */
const jwtToken = z.strictObject({
    signing_key: z.string().optional(), // names a credential (e.g. `${credentials.privateKey}`)
    expires_in_ms: z.number().int().positive().optional(),
    header: z.strictObject({ alg: nonEmpty, typ: z.string().optional(), kid: z.string().optional() }).optional(),
    payload: z
        .strictObject({
            aud: z.string().optional(),
            iss: z.string().optional(),
            sub: z.string().optional(),
            scope: z.union([z.string(), stringList]).optional()
        })
        .optional()
});
const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Every field of a definition; `auth_mode` may be inherited through `alias`. */
export const providerFields = {
    display_name: nonEmpty,
    auth_mode: authModeSchema,
    alias: providerNameSchema.optional(),
    categories: stringList.optional(),
    docs: httpsUrl.optional(),
    authorization_url: urlTemplate.optional(),
    authorization_params: authorizationParams.optional(),
    authorization_url_replacements: z.record(z.string(), z.string()).optional(),
    // Per-auth-mode map for providers whose modes use different endpoints. Keys are
    // checked but typed as string so callers can index with a stored credential type.
    // OAUTH2CC is how Nango's TokenUrlObject spells OAUTH2_CC.
    token_url: z
        .union([
            urlTemplate,
            z.record(
                z.string().refine((k) => isAuthMode(k) || k === 'OAUTH2CC', 'expected an auth mode'),
                urlTemplate
            )
        ])
        .optional(),
    token_params: tokenParams.optional(),
    refresh_url: urlTemplate.optional(),
    refresh_params: tokenParams.optional(),
    revocation_url: urlTemplate.optional(),
    revocation_params: templateMap.optional(),
    // basic / body: RFC 7009 §2.1 client authentication; bearer: the token being revoked
    // authenticates the call itself (Dropbox), an extension for non-RFC endpoints.
    revocation_auth_method: z.enum(['basic', 'body', 'bearer', 'none']).optional(),
    // Revocation endpoints that are not RFC 7009 (GitHub's DELETE /applications/{client_id}/grant with a JSON
    // body, HubSpot's DELETE /oauth/v1/refresh-tokens/{token}): method, body format, the token's field name, and
    // which token is revoked. The URL may use ${clientId} and ${credentials.*}, inserted URL-encoded.
    revocation_method: z.enum(['POST', 'DELETE']).optional(),
    revocation_body_format: z.enum(['form', 'json', 'none']).optional(),
    revocation_token_param: nonEmpty.optional(),
    revocation_token: z.enum(['refresh_token', 'access_token']).optional(),
    revocation_headers: templateMap.optional(),
    request_url: urlTemplate.optional(),
    request_params: templateMap.optional(),
    signature_method: z.enum(['HMAC-SHA1', 'HMAC-SHA256', 'RSA-SHA1', 'PLAINTEXT']).optional(),
    scope_separator: z.string().min(1).optional(),
    default_scopes: stringList.optional(),
    user_scopes_param: nonEmpty.optional(),
    disable_pkce: z.boolean().optional(),
    token_request_auth_method: z.enum(['basic', 'custom', 'private_key_jwt']).optional(),
    authorization_method: z.enum(['body', 'header']).optional(),
    // query: Nango's OAuthBodyFormat has it; xml: TWO_STEP bodies.
    body_format: z.enum(['form', 'json', 'query', 'xml']).optional(),
    alternate_access_token_response_path: nonEmpty.optional(),
    token_response_metadata: stringList.optional(),
    redirect_uri_metadata: stringList.optional(),
    token_expiration_buffer: z.number().int().nonnegative().optional(),
    refresh_token_rotation: z.boolean().optional(),
    proxy: proxySchema.optional(),
    connection_config: fieldMap.optional(),
    credentials: fieldMap.optional(),
    webhook_routing_script: scriptName.optional(),
    webhook_user_defined_secret: z.boolean().optional(),
    post_connection_script: scriptName.optional(),

    // ---- The rest of Nango's `Provider` type (0.71.x). docs/providers.md says how each is honoured.
    installation: z.literal('outbound').optional(),
    docs_connect: httpsUrl.optional(),
    setup_guide_url: httpsUrl.optional(),
    authorization_url_skip_encode: stringList.optional(),
    authorization_url_skip_empty: z.boolean().optional(),
    authorization_url_fragment: z.string().optional(),
    authorization_code_param_in_callback: nonEmpty.optional(),
    access_token_url: urlTemplate.optional(),
    token_url_skip_encode: stringList.optional(),
    webhook_response_metadata: stringList.optional(),
    authorization_code_param_in_webhook: nonEmpty.optional(),
    webhook_allowed_query_params: stringList.optional(),
    pre_connection_deletion_script: scriptName.optional(),
    credentials_verification_script: scriptName.optional(),
    connection_configuration: stringList.optional(),
    integration_config: fieldMap.optional(),
    assertion_option: fieldMap.optional(),
    require_client_certificate: z.boolean().optional(),
    available_scopes: stringList.optional(),
    expires_in_unit: z.literal('milliseconds').optional(),
    // OAUTH1
    request_http_method: z.enum(['GET', 'PUT', 'POST']).optional(),
    token_http_method: z.enum(['GET', 'PUT', 'POST']).optional(),
    // MCP_OAUTH2 / MCP_OAUTH2_GENERIC
    registration_url: urlTemplate.optional(),
    client_registration: z.enum(['dynamic', 'static', 'cimd']).optional(),
    registration_params: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    mcp_server_url: urlTemplate.optional(),
    // INSTALL_PLUGIN
    auth_type: z.literal('BASIC').optional(),
    // JWT / TWO_STEP / SIGNATURE
    signature: z.strictObject({ protocol: z.enum(['RSA', 'HMAC', 'EC', 'WSSE']), hmac_secret_encoding: z.enum(['hex', 'utf8']).optional() }).optional(),
    token: jwtToken.optional(),
    token_request_method: z.literal('GET').optional(),
    token_headers: templateMap.optional(),
    refresh_token_params: templateMap.optional(),
    refresh_token_headers: templateMap.optional(),
    token_response: z
        .strictObject({
            token: nonEmpty,
            token_expiration: nonEmpty.optional(),
            token_expiration_strategy: z.enum(['expireAt', 'expireIn']).optional(),
            refresh_token: nonEmpty.optional()
        })
        .optional(),
    token_response_headers: stringList.optional(),
    additional_steps: z
        .array(
            z.strictObject({
                body_format: z.enum(['json', 'form']).optional(),
                token_params: templateMap.optional(),
                token_headers: templateMap.optional(),
                token_url: urlTemplate,
                token_request_method: z.literal('GET').optional()
            })
        )
        .optional(),
    assertion: z
        .strictObject({
            type: z.enum(['saml', 'jwt']).optional(),
            key: z.string().optional(),
            issuer: z.string().optional(),
            lifetimeInSeconds: z.number().optional(),
            audiences: z.union([z.string(), z.array(z.string())]).optional(),
            attributes: z.record(z.string(), z.union([scalar, z.array(scalar)])).optional(),
            sessionIndex: z.string().optional(),
            recipient: z.string().optional(),
            header: z.record(z.string(), z.string()).optional(),
            payload: z.record(z.string(), z.string()).optional(),
            singleUse: z.boolean().optional()
        })
        .optional(),
    token_expires_in_ms: z.number().int().positive().optional(),
    proxy_header_authorization: template.optional()
};

/** A file entry before alias resolution: every field checked, auth_mode may come from the alias. */
export const providerEntrySchema = z.strictObject({ ...providerFields, auth_mode: authModeSchema.optional() });
export type ProviderEntry = z.infer<typeof providerEntrySchema>;

const REQUIRED_BY_MODE: Partial<Record<AuthMode, Array<'authorization_url' | 'token_url' | 'request_url'>>> = {
    OAUTH2: ['authorization_url', 'token_url'],
    OAUTH1: ['request_url', 'authorization_url', 'token_url'],
    OAUTH2_CC: ['token_url'],
    APP: ['token_url'], // where installation tokens are minted; the install page defaults to the app's link
    TWO_STEP: ['token_url']
};

// connectionConfig names the server itself fills in, per auth mode: a GitHub App's install link and the checked
// installation id (connect/app-flow.ts, app-auth/installation-token.ts).
const SERVER_SUPPLIED: Partial<Record<AuthMode, readonly string[]>> = { APP: ['appPublicLink', 'app_id', 'installation_id'] };

type Resolved = z.output<z.ZodObject<typeof providerFields>>;

/** Every URL template of a definition with its field path. */
function urlTemplates(def: Resolved): Array<[Array<string>, string]> {
    const out: Array<[Array<string>, string]> = [];
    const add = (path: string[], t: string | undefined) => {
        if (t !== undefined) out.push([path, t]);
    };
    add(['authorization_url'], def.authorization_url);
    if (typeof def.token_url === 'string') add(['token_url'], def.token_url);
    else for (const [mode, t] of Object.entries(def.token_url ?? {})) add(['token_url', mode], t);
    add(['refresh_url'], def.refresh_url);
    add(['revocation_url'], def.revocation_url);
    add(['request_url'], def.request_url);
    add(['proxy', 'base_url'], def.proxy?.base_url);
    add(['proxy', 'verification', 'base_url_override'], def.proxy?.verification?.base_url_override);
    return out;
}

/** A resolved definition (after alias merge); what the rest of the server reads. */
export const providerSchema = z
    .strictObject({
        ...providerFields,
        scope_separator: z.string().min(1).default(' ')
    })
    .superRefine((def, ctx) => {
        for (const field of REQUIRED_BY_MODE[def.auth_mode] ?? []) {
            if (def[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required for auth_mode ${def.auth_mode}` });
        }
        if (
            typeof def.token_url === 'object' &&
            def.auth_mode in REQUIRED_BY_MODE &&
            !def.token_url[def.auth_mode] &&
            !(def.auth_mode === 'OAUTH2_CC' && def.token_url['OAUTH2CC'])
        ) {
            ctx.addIssue({ code: 'custom', path: ['token_url', def.auth_mode], message: `required for auth_mode ${def.auth_mode}` });
        }
        // Issue #10 item 1: a URL may read only connection_config fields the definition declares (with their
        // pattern), so an end user can never supply a value the operator did not plan for.
        const supplied = SERVER_SUPPLIED[def.auth_mode] ?? [];
        for (const [path, t] of urlTemplates(def)) {
            let keys: string[];
            try {
                keys = connectionConfigKeys(t);
            } catch {
                continue; // a malformed template is reported by its own field
            }
            for (const key of keys) {
                if (!supplied.includes(key) && !Object.hasOwn(def.connection_config ?? {}, key)) {
                    ctx.addIssue({ code: 'custom', path, message: `uses \${connectionConfig.${key}} but connection_config does not declare "${key}"` });
                }
            }
        }
    });
export type ProviderDefinition = z.output<typeof providerSchema>;
