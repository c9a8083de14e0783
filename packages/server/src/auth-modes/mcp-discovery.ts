// MCP authorization (spec revision 2025-06-18 and later) as small request/check steps named after their RFCs:
// the MCP server's protected-resource metadata (RFC 9728), its authorization server's metadata (RFC 8414, with
// OpenID Connect discovery as the fallback), and dynamic client registration (RFC 7591). Every request goes
// through the egress module, so the SSRF policy, timeouts and byte limits apply to URLs a remote server named.
import { z } from 'zod';
import type { Egress } from '../egress/egress.ts';
import { ApiError, fail } from '../errors.ts';

const MAX_METADATA_BYTES = 64 * 1024;

// https everywhere; plain http only for a loopback host (tests and local servers), as for catalogue URLs.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
function isAcceptableUrl(s: string): boolean {
    if (!URL.canParse(s) || s.includes('${')) return false;
    const u = new URL(s);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname));
}
const endpoint = z.string().refine(isAcceptableUrl, 'expected an https:// URL (http only for loopback)');

/** RFC 9728 §2: the fields we read of an MCP server's protected-resource metadata. */
const protectedResourceMetadata = z.object({
    resource: endpoint,
    authorization_servers: z.array(endpoint).min(1),
    scopes_supported: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).optional()
});

/** RFC 8414 §2: the fields we read of an authorization server's metadata. */
const authorizationServerMetadata = z.object({
    issuer: endpoint,
    authorization_endpoint: endpoint,
    token_endpoint: endpoint,
    registration_endpoint: endpoint.optional(),
    revocation_endpoint: endpoint.optional(),
    scopes_supported: z.array(z.string()).optional(),
    token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
    code_challenge_methods_supported: z.array(z.string()).optional()
});
export type AuthorizationServerMetadata = z.infer<typeof authorizationServerMetadata>;

export interface DiscoveredServer {
    /** The MCP server's canonical resource identifier (RFC 8707 `resource`). */
    resource: string;
    metadata: AuthorizationServerMetadata;
    /** Scopes to ask for: the 401's `scope` hint, else the resource's `scopes_supported`. */
    scopes: string[];
}

const discoveryFailed = (message: string, cause?: unknown) =>
    fail('mcp_discovery_failed', { message: `MCP authorization discovery failed: ${message}`, ...(cause ? { cause } : {}) });

async function getJson(egress: Egress, url: URL): Promise<{ status: number; json: unknown }> {
    const res = await egress.fetch({ method: 'GET', url, headers: { accept: 'application/json' }, maxBytes: MAX_METADATA_BYTES, timeoutMs: 10_000 });
    if (res.status !== 200) return { status: res.status, json: undefined };
    try {
        return { status: 200, json: JSON.parse(res.text) as unknown };
    } catch {
        return { status: 200, json: undefined };
    }
}

/** The auth-params of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), by name. */
export function bearerChallengeParams(header: string | string[] | undefined): Record<string, string> {
    const value = Array.isArray(header) ? header.join(', ') : (header ?? '');
    const bearer = /(?:^|,\s*)Bearer\s+(.*)$/i.exec(value);
    if (!bearer) return {};
    const out: Record<string, string> = {};
    for (const m of bearer[1]!.matchAll(/([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g)) {
        const name = m[1]!.toLowerCase();
        if (!(name in out)) out[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    }
    return out;
}

/** RFC 9728 §3.1: the well-known URL for a resource, the path inserted after the well-known segment. */
function wellKnown(base: URL, suffix: string): URL {
    const path = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
    return new URL(`/.well-known/${suffix}${path}`, base.origin);
}

/**
 * RFC 9728 §5 and §3: asks the MCP server without a token; a 401 may name its metadata in
 * `WWW-Authenticate: Bearer resource_metadata="…"`, else the well-known URLs are tried (path-aware first).
 */
async function fetchProtectedResourceMetadata(egress: Egress, mcpUrl: URL): Promise<{ prm: z.infer<typeof protectedResourceMetadata>; scopeHint: string[] }> {
    // Only the status and headers matter; the body (an event stream, perhaps) is dropped unread.
    const probe = await egress.stream({ method: 'GET', url: mcpUrl, headers: { accept: 'application/json, text/event-stream' }, timeoutMs: 10_000 });
    probe.body.on('error', () => undefined).destroy();
    const challenge = probe.statusCode === 401 ? bearerChallengeParams(probe.headers['www-authenticate']) : {};
    const scopeHint = challenge['scope']?.split(' ').filter(Boolean) ?? [];
    const candidates: URL[] = [];
    if (challenge['resource_metadata']) {
        if (!isAcceptableUrl(challenge['resource_metadata'])) throw discoveryFailed('the resource_metadata URL of the 401 is not an https URL');
        candidates.push(new URL(challenge['resource_metadata']));
    } else {
        candidates.push(wellKnown(mcpUrl, 'oauth-protected-resource'));
        if (mcpUrl.pathname !== '/') candidates.push(new URL('/.well-known/oauth-protected-resource', mcpUrl.origin));
    }
    for (const url of candidates) {
        const { json } = await getJson(egress, url);
        if (json === undefined) continue;
        const parsed = protectedResourceMetadata.safeParse(json);
        if (!parsed.success) throw discoveryFailed(`the protected-resource metadata at ${url.href} is invalid: ${parsed.error.issues[0]?.message ?? ''}`);
        return { prm: parsed.data, scopeHint };
    }
    throw discoveryFailed(`the MCP server ${mcpUrl.href} publishes no protected-resource metadata (RFC 9728)`);
}

/**
 * RFC 9728 §3.3 and §7.3: the metadata must be about the server we asked, or an attacker's metadata could
 * point us at its own authorization server. The MCP URL must be the resource or below it, on the same origin.
 */
function assertSameResource(resource: string, mcpUrl: URL): void {
    const r = new URL(resource);
    const strip = (p: string) => p.replace(/\/+$/, '');
    const under = strip(mcpUrl.pathname) === strip(r.pathname) || mcpUrl.pathname.startsWith(`${strip(r.pathname)}/`);
    if (r.origin !== mcpUrl.origin || !under) throw discoveryFailed(`the protected-resource metadata describes ${resource}, not ${mcpUrl.href}`);
}

/** RFC 8414 §3.1, then OpenID Connect Discovery 1.0 §4 (path-inserted, then path-appended), as the MCP spec orders them. */
function metadataUrls(issuer: URL): URL[] {
    const urls = [wellKnown(issuer, 'oauth-authorization-server'), wellKnown(issuer, 'openid-configuration')];
    if (issuer.pathname !== '/') urls.push(new URL(`${issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`));
    return urls;
}

/**
 * Fetches and checks an authorization server's metadata. The issuer it states must be byte-identical to the one
 * the resource named (RFC 8414 §3.3; OIDC Discovery §4.3), and PKCE S256 must be offered (the MCP spec has
 * clients refuse a server that does not say so). A refusal happens before any registration request.
 */
export async function fetchAuthorizationServerMetadata(egress: Egress, issuer: string): Promise<AuthorizationServerMetadata> {
    for (const url of metadataUrls(new URL(issuer))) {
        const { json } = await getJson(egress, url);
        if (json === undefined) continue;
        const parsed = authorizationServerMetadata.safeParse(json);
        if (!parsed.success) throw discoveryFailed(`the authorization server metadata at ${url.href} is invalid: ${parsed.error.issues[0]?.message ?? ''}`);
        if (parsed.data.issuer !== issuer)
            throw discoveryFailed(`the authorization server metadata at ${url.href} names issuer ${parsed.data.issuer}, not ${issuer} (RFC 8414 §3.3)`);
        if (!parsed.data.code_challenge_methods_supported?.includes('S256'))
            throw discoveryFailed(`the authorization server ${issuer} does not offer PKCE with S256`);
        return parsed.data;
    }
    throw discoveryFailed(`the authorization server ${issuer} publishes no metadata (RFC 8414 or OpenID Connect discovery)`);
}

/** RFC 9728 then RFC 8414: from the MCP server's URL to its authorization server's checked metadata. */
export async function discoverMcpAuthorization(egress: Egress, mcpServerUrl: string): Promise<DiscoveredServer> {
    if (!isAcceptableUrl(mcpServerUrl)) throw discoveryFailed(`the MCP server URL ${mcpServerUrl} is not an https URL`);
    const mcpUrl = new URL(mcpServerUrl);
    try {
        const { prm, scopeHint } = await fetchProtectedResourceMetadata(egress, mcpUrl);
        assertSameResource(prm.resource, mcpUrl);
        // The MCP spec leaves the choice among several to the client; the first is the one the resource prefers.
        const metadata = await fetchAuthorizationServerMetadata(egress, prm.authorization_servers[0]!);
        return { resource: prm.resource, metadata, scopes: scopeHint.length ? scopeHint : (prm.scopes_supported ?? []) };
    } catch (err) {
        if (err instanceof ApiError && err.code === 'mcp_discovery_failed') throw err;
        if (err instanceof ApiError) throw discoveryFailed(err.message, err);
        throw err;
    }
}

const registrationResponse = z.object({
    client_id: z.string().min(1).max(2048),
    client_secret: z.string().min(1).max(4096).optional(),
    client_secret_expires_at: z.number().int().nonnegative().optional(),
    token_endpoint_auth_method: z.string().optional()
});

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface RegisteredClient {
    client_id: string;
    client_secret: string;
    client_secret_expires_at?: number | undefined;
    token_endpoint_auth_method: TokenEndpointAuthMethod;
}

/**
 * RFC 8414 §2: absent, the supported methods are client_secret_basic alone. A server-side broker keeps a secret
 * well, so a confidential client is preferred; a server that takes only public clients gets one (PKCE still).
 */
export function chooseAuthMethod(supported: string[] | undefined): TokenEndpointAuthMethod {
    const list = supported ?? ['client_secret_basic'];
    if (list.includes('client_secret_basic')) return 'client_secret_basic';
    if (list.includes('client_secret_post')) return 'client_secret_post';
    if (list.includes('none')) return 'none';
    throw fail('mcp_registration_failed', { message: `The authorization server supports no client authentication Switchboard can use (${list.join(', ')})` });
}

/**
 * RFC 7591 §3.1: registers Switchboard's callback as an authorization-code client. `extra` is the catalogue's
 * `registration_params`; it cannot change the redirect URI. A refusal (§3.2.2) is `mcp_registration_failed`
 * with the server's error code and description.
 */
export async function registerClient(
    egress: Egress,
    registrationEndpoint: string,
    request: { redirectUri: string; clientName: string; authMethod: TokenEndpointAuthMethod; extra?: Record<string, unknown> | undefined }
): Promise<RegisteredClient> {
    const body: Record<string, unknown> = {
        client_name: request.clientName,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: request.authMethod,
        ...(request.extra ?? {}),
        redirect_uris: [request.redirectUri]
    };
    const res = await egress.fetch({
        method: 'POST',
        url: new URL(registrationEndpoint),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        maxBytes: MAX_METADATA_BYTES
    });
    let json: unknown;
    try {
        json = JSON.parse(res.text);
    } catch {
        json = undefined;
    }
    if (res.status < 200 || res.status >= 300) {
        const e = z.object({ error: z.string().max(200), error_description: z.string().max(1000).optional() }).safeParse(json);
        const reason = e.success ? `${e.data.error}${e.data.error_description ? ` (${e.data.error_description})` : ''}` : `HTTP ${res.status}`;
        throw fail('mcp_registration_failed', {
            message: `The authorization server refused to register Switchboard as an OAuth client: ${reason}`,
            payload: { status: res.status, ...(e.success ? e.data : {}) }
        });
    }
    const parsed = registrationResponse.safeParse(json);
    if (!parsed.success) throw fail('mcp_registration_failed', { message: 'The authorization server answered the registration without a client_id' });
    // RFC 7591 §3.2.1: the server may change what we asked for; what it registered is what we use.
    const method = (parsed.data.token_endpoint_auth_method ?? request.authMethod) as string;
    if (method !== 'client_secret_basic' && method !== 'client_secret_post' && method !== 'none')
        throw fail('mcp_registration_failed', { message: `The authorization server registered the client for ${method}, which Switchboard does not use` });
    if (method !== 'none' && !parsed.data.client_secret)
        throw fail('mcp_registration_failed', { message: `The authorization server registered a ${method} client without a client_secret` });
    return {
        client_id: parsed.data.client_id,
        client_secret: method === 'none' ? '' : parsed.data.client_secret!,
        client_secret_expires_at: parsed.data.client_secret_expires_at,
        token_endpoint_auth_method: method
    };
}
