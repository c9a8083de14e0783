// MCP_OAUTH2: OAuth 2 against a remote MCP server's authorization server, with no client id or secret from the
// operator. The first connect discovers the authorization server (auth-modes/mcp-discovery.ts), registers a client
// (RFC 7591) with the environment's callback URL and stores it, vault-encrypted, as the integration's credentials;
// every later connect, code exchange and refresh reuses it. The flow itself is the OAUTH2 one, run on the
// provider definition `mcpProvider` derives, which adds the RFC 8707 `resource` to every request
// (docs/providers.md, "MCP_OAUTH2").
import type { Services } from '../services.ts';
import type { Integration } from '../integrations/store.ts';
import type { McpRegisteredClient, StoredIntegrationCredentials } from '../integrations/schemas.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { FlowContext } from '../connect/flow-context.ts';
import { fail } from '../errors.ts';
import { chooseAuthMethod, discoverMcpAuthorization, registerClient } from './mcp-discovery.ts';

/** The MCP server the entry protects: `mcp_server_url`, else the proxy's base URL (the MCP endpoint itself). */
export function mcpServerUrlOf(def: ProviderDefinition): string | undefined {
    return def.mcp_server_url ?? def.proxy?.base_url;
}

/**
 * The definition the OAuth code runs for an MCP_OAUTH2 integration with a registered client: the registered
 * endpoints, the client authentication the server registered, the discovered scopes when the catalogue names none,
 * and `resource` on the authorization, code and refresh requests. Any other definition is returned as it is.
 */
export function mcpProvider(def: ProviderDefinition, credentials: StoredIntegrationCredentials | null): ProviderDefinition {
    if (def.auth_mode !== 'MCP_OAUTH2' || credentials?.type !== 'MCP_OAUTH2') return def;
    const c = credentials;
    const resource: Record<string, string> = c.resource ? { resource: c.resource } : {};
    return {
        ...def,
        authorization_url: c.authorization_endpoint,
        token_url: c.token_endpoint,
        refresh_url: undefined,
        // client_secret_post is the body (the default); none is chosen by the empty secret (oauth/token-client.ts).
        token_request_auth_method: c.token_endpoint_auth_method === 'client_secret_basic' ? 'basic' : undefined,
        authorization_method: undefined,
        disable_pkce: false,
        default_scopes: def.default_scopes ?? (c.scopes ? c.scopes.split(',') : undefined),
        authorization_params: { ...def.authorization_params, ...resource },
        token_params: { ...def.token_params, ...resource },
        refresh_params: { ...def.refresh_params, ...resource },
        ...(def.revocation_url ? {} : discoveredRevocation(c))
    };
}

/** RFC 7009 at the discovered endpoint, the client authenticating as it registered (a public one by its client_id alone). */
function discoveredRevocation(c: McpRegisteredClient): Partial<ProviderDefinition> {
    if (!c.revocation_endpoint) return {};
    if (c.token_endpoint_auth_method === 'none')
        return { revocation_url: c.revocation_endpoint, revocation_auth_method: 'none', revocation_params: { client_id: c.client_id } };
    return { revocation_url: c.revocation_endpoint, revocation_auth_method: c.token_endpoint_auth_method === 'client_secret_post' ? 'body' : 'basic' };
}

/** The client registered for `redirectUri` is still usable: same callback, secret not past its expiry. */
function usable(c: StoredIntegrationCredentials | null, redirectUri: string, nowMs: number): c is McpRegisteredClient {
    if (c?.type !== 'MCP_OAUTH2' || c.redirect_uri !== redirectUri) return false;
    return !c.client_secret_expires_at || c.client_secret_expires_at * 1000 > nowMs;
}

/**
 * Discovery and registration for one integration. An entry that names its authorization, token and registration
 * URLs (Nango's MCP_OAUTH2 entries) registers there without discovery and without `resource`, as Nango does; an
 * entry that names only the MCP server discovers everything from it.
 */
async function register(s: Services, def: ProviderDefinition, redirectUri: string): Promise<McpRegisteredClient> {
    const clientName = `Switchboard (${def.display_name})`;
    const extra = def.registration_params;
    if (def.authorization_url && def.token_url && def.registration_url && typeof def.token_url === 'string') {
        // Without the server's metadata its supported methods are unknown: a public client (PKCE), as Nango
        // registers for these entries, unless registration_params asks for another method.
        // One registration per integration: a URL that differs per connection cannot be registered at once.
        if (def.registration_url.includes('${'))
            throw fail('mcp_registration_failed', {
                message: "The provider's registration_url depends on the connection; it cannot be registered once per integration"
            });
        const asked = extra?.['token_endpoint_auth_method'];
        const method = typeof asked === 'string' ? chooseAuthMethod([asked]) : 'none';
        const client = await registerClient(s.egress, def.registration_url, { redirectUri, clientName, authMethod: method, extra });
        return {
            type: 'MCP_OAUTH2',
            ...client,
            redirect_uri: redirectUri,
            issuer: '',
            authorization_endpoint: def.authorization_url,
            token_endpoint: def.token_url
        };
    }
    const server = mcpServerUrlOf(def);
    if (!server || server.includes('${'))
        throw fail('mcp_discovery_failed', {
            message: 'The provider names no fixed MCP server URL (mcp_server_url or proxy.base_url) to discover its authorization server from'
        });
    const found = await discoverMcpAuthorization(s.egress, server);
    const m = found.metadata;
    if (!m.registration_endpoint)
        throw fail('mcp_registration_failed', {
            message: `The authorization server ${m.issuer} offers no dynamic client registration: give the integration a client id and secret (credentials of type OAUTH2)`
        });
    // No `scope` in the registration: resource-server scopes are not the authorization server's to list, and a
    // client registered without one may ask for any (the authorization request carries the scopes).
    const client = await registerClient(s.egress, m.registration_endpoint, {
        redirectUri,
        clientName,
        authMethod: chooseAuthMethod(m.token_endpoint_auth_methods_supported),
        extra
    });
    return {
        type: 'MCP_OAUTH2',
        ...client,
        redirect_uri: redirectUri,
        issuer: m.issuer,
        authorization_endpoint: m.authorization_endpoint,
        token_endpoint: m.token_endpoint,
        revocation_endpoint: m.revocation_endpoint,
        resource: found.resource,
        scopes: found.scopes.length ? found.scopes.join(',') : undefined
    };
}

/**
 * The flow context with the integration's MCP client: the stored one when it was registered for this callback URL,
 * else a new registration, stored with a compare-and-swap so two first connects keep one client. An operator's own
 * client (credentials of type OAUTH2) is used as given, at the entry's own endpoints.
 */
export async function withMcpClient(s: Services, ctx: FlowContext, redirectUri: string): Promise<FlowContext> {
    const current = s.integrations.credentials(ctx.integration);
    if (current?.type === 'OAUTH2') {
        if (!ctx.provider.authorization_url || !ctx.provider.token_url)
            throw fail('invalid_auth_mode', {
                message: 'This MCP provider names no authorization and token URLs; remove the client credentials to register one'
            });
        return ctx;
    }
    if (usable(current, redirectUri, Date.now())) return { ...ctx, provider: mcpProvider(ctx.provider, current) };
    const registered = await register(s, ctx.provider, redirectUri);
    let integration: Integration | undefined = await s.integrations.swapCredentials(ctx.integration, registered);
    let client: McpRegisteredClient = registered;
    if (!integration) {
        // Another connect stored its registration first: use that one if it fits.
        integration = await s.integrations.getById(ctx.integration.id);
        const theirs = integration ? s.integrations.credentials(integration) : null;
        if (!integration || !usable(theirs, redirectUri, Date.now()))
            throw fail('mcp_registration_failed', { message: 'The integration changed while registering; try again' });
        client = theirs;
    }
    s.log.info({ integration: integration.uniqueKey, issuer: client.issuer || undefined }, 'registered an OAuth client for an MCP server');
    return { ...ctx, integration, provider: mcpProvider(ctx.provider, client) };
}
