// One provider definition in the providers.yaml schema (field names as in Nango's
// public provider format, so operators can bring files of that shape), plus our
// extensions: revocation_* (RFC 7009), proxy.base_url_allowlist, user_scopes_param.
// Strict everywhere: an unknown key is a typo that would otherwise be silently ignored.
import { z } from 'zod';
import { parseTemplate } from './interpolate.ts';
import { connectionConfigKeys } from './url-template.ts';

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
    'AWS_SIGV4'
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
const urlTemplate = template.superRefine((s, ctx) => {
    if (s.startsWith('${')) return;
    const probe = s.replace(/\$\{[^}]*\}/g, 'x');
    if (!isSecureUrl(probe)) ctx.addIssue({ code: 'custom', message: 'expected an https:// URL (http only for loopback)' });
});

const httpsUrl = z.string().refine((s) => s.startsWith('https://') && URL.canParse(s), 'expected an https:// URL');
const nonEmpty = z.string().min(1);
const templateMap = z.record(z.string(), template);
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
const authorizationParams = templateMap.superRefine(reserved(RESERVED_AUTHORIZATION_PARAMS)).superRefine((p, ctx) => {
    if (p.response_type !== undefined && p.response_type !== 'code') {
        ctx.addIssue({ code: 'custom', path: ['response_type'], message: 'only "code" is allowed (no implicit grant)' });
    }
});
const noPasswordGrant = (p: Record<string, string>, ctx: z.RefinementCtx) => {
    if (p.grant_type !== undefined && p.grant_type.trim().toLowerCase() === 'password') {
        ctx.addIssue({ code: 'custom', path: ['grant_type'], message: 'the password grant is not allowed' });
    }
};
const tokenParams = templateMap.superRefine(reserved(RESERVED_TOKEN_PARAMS)).superRefine(noPasswordGrant);

const regexSource = z.string().refine((s) => {
    try {
        new RegExp(s);
        return true;
    } catch {
        return false;
    }
}, 'expected a valid regular expression');

/** A form field shown to the end user (connection_config) or asked for as a credential. */
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
    secret: z.boolean().optional(),
    hidden: z.boolean().optional(),
    doc_section: z.string().optional()
});
const fieldMap = z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, "_" or "-"'), fieldSchema);

const paginationCommon = {
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

export const proxySchema = z.strictObject({
    base_url: urlTemplate.optional(),
    headers: templateMap.optional(),
    query: templateMap.optional(),
    retry: z
        .strictObject({
            at: nonEmpty.optional(), // header holding the reset time (epoch seconds)
            after: nonEmpty.optional(), // header holding seconds to wait
            remaining: nonEmpty.optional(), // header holding the remaining quota; 0 means wait
            error_code: z.array(z.number().int().min(100).max(599)).optional() // replaces the default retryable statuses
        })
        .optional(),
    decompress: z.boolean().optional(),
    paginate: paginateSchema.optional(),
    verification: z
        .strictObject({
            method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']),
            endpoints: z.array(nonEmpty).min(1),
            base_url_override: urlTemplate.optional(),
            headers: templateMap.optional()
        })
        .optional(),
    base_url_allowlist: z.array(allowlistEntry).optional()
});

const scriptName = providerNameSchema; // a key in the typed hook registry, never code

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
    token_url: z.union([urlTemplate, z.record(z.string().refine(isAuthMode, 'expected an auth mode'), urlTemplate)]).optional(),
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
    signature_method: z.enum(['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT']).optional(),
    scope_separator: z.string().min(1).optional(),
    default_scopes: stringList.optional(),
    user_scopes_param: nonEmpty.optional(),
    disable_pkce: z.boolean().optional(),
    token_request_auth_method: z.enum(['basic', 'custom', 'private_key_jwt']).optional(),
    authorization_method: z.enum(['body', 'header']).optional(),
    body_format: z.enum(['form', 'json']).optional(),
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
    post_connection_script: scriptName.optional()
};

/** A file entry before alias resolution: every field checked, auth_mode may come from the alias. */
export const providerEntrySchema = z.strictObject({ ...providerFields, auth_mode: authModeSchema.optional() });
export type ProviderEntry = z.infer<typeof providerEntrySchema>;

const REQUIRED_BY_MODE: Partial<Record<AuthMode, Array<'authorization_url' | 'token_url' | 'request_url'>>> = {
    OAUTH2: ['authorization_url', 'token_url'],
    OAUTH1: ['request_url', 'authorization_url', 'token_url'],
    OAUTH2_CC: ['token_url'],
    APP: ['token_url'] // where installation tokens are minted; the install page defaults to the app's link
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
        if (typeof def.token_url === 'object' && def.auth_mode in REQUIRED_BY_MODE && !def.token_url[def.auth_mode]) {
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
