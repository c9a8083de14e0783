import type { IntegrationStore } from '../integrations/store.ts';
import type { ConnectionStore } from '../connections/store.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { Environment } from '../environments/environments.ts';
import type { Connection } from '../connections/store.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { ProxyControl } from './control-headers.ts';
import { fail } from '../errors.ts';
import { providerBaseUrl, isOverrideAllowed } from './target.ts';

/** What resolving a target uses, by name. */
export interface ResolveDeps {
    integrations: Pick<IntegrationStore, 'get'>;
    catalogue: Pick<Catalogue, 'get'>;
    connections: Pick<ConnectionStore, 'get'>;
    refresher: Pick<Refresher, 'fresh'>;
}

export interface ProxyTarget {
    integration: Integration;
    def: ProviderDefinition;
    /** With usable credentials (refreshed when due). */
    connection: Connection;
    /** The provider base URL, or the allowed override. */
    base: string;
}

/**
 * Whose credentials: a connection to look up (the `/proxy` doors), or the one a script runs for (which may be
 * a connection whose credentials are not stored yet, during a validate-connection run).
 */
export type TargetConnection = { environmentId: number; providerConfigKey: string; connectionId: string } | { connection: Connection };

/**
 * The one place that decides where a credentialed request may go, for every door: `/proxy` (Fastify route
 * and fast path) and scripts' `nango.proxy` / `nango.paginate`. `override` is a `Base-Url-Override`, a
 * script's `baseUrlOverride`, or the absolute URL a script asked for; it is honoured only under the
 * provider's base URL or an allow-list (isOverrideAllowed), whoever sends it.
 */
export async function resolveTarget(s: ResolveDeps, who: TargetConnection, override: string | undefined): Promise<ProxyTarget> {
    const { environmentId, providerConfigKey } = 'connection' in who ? who.connection : who;
    const integration = await s.integrations.get(environmentId, providerConfigKey);
    if (!integration) throw fail('unknown_provider_config');
    const def = s.catalogue.get(integration.provider);
    if (!def) throw fail('unknown_provider', { message: `Provider "${integration.provider}" is not in the catalogue` });
    const found = 'connection' in who ? who.connection : await s.connections.get(environmentId, integration.uniqueKey, who.connectionId);
    if (!found) throw fail('unknown_connection', { status: 400 });
    const connection = await s.refresher.fresh(found);

    const providerBase = providerBaseUrl(def, integration, connection.connectionConfig);
    if (override) {
        const url = parseOverride(override);
        if (!isOverrideAllowed(url, def, integration, providerBase)) {
            // Origin and path only: a query string may carry a key.
            throw fail('base_url_override_not_allowed', {
                message: `${url.origin}${url.pathname} is outside the provider's base URL and the allowlists of the integration`
            });
        }
        return { integration, def, connection, base: override };
    }
    if (!providerBase) throw fail('unsupported_provider');
    return { integration, def, connection, base: providerBase };
}

/** Everything a proxied request needs before it goes upstream; each failure is the compatible error. */
export function resolveProxyTarget(
    s: ResolveDeps,
    env: Environment,
    control: Pick<ProxyControl, 'provider-config-key' | 'connection-id' | 'base-url-override'>
): Promise<ProxyTarget> {
    const who = { environmentId: env.id, providerConfigKey: control['provider-config-key'], connectionId: control['connection-id'] };
    return resolveTarget(s, who, control['base-url-override'] || undefined);
}

function parseOverride(override: string): URL {
    let url: URL;
    try {
        url = new URL(override);
    } catch {
        throw fail('base_url_override_not_allowed', { message: 'The base URL override is not a URL' });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
        throw fail('base_url_override_not_allowed', { message: 'The base URL override is not an http(s) URL' });
    return url;
}
