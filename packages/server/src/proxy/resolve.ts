import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import type { Connection } from '../connections/store.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { ProxyControl } from './control-headers.ts';
import { fail } from '../http/errors.ts';
import { providerBaseUrl, isOverrideAllowed } from './target.ts';

export interface ProxyTarget {
    integration: Integration;
    def: ProviderDefinition;
    /** With usable credentials (refreshed when due). */
    connection: Connection;
    /** The provider base URL, or the allowed Base-Url-Override. */
    base: string;
}

/** Everything a proxied request needs before it goes upstream; each failure is the compatible error. */
export async function resolveProxyTarget(s: Services, env: Environment, control: Pick<ProxyControl, 'provider-config-key' | 'connection-id' | 'base-url-override'>): Promise<ProxyTarget> {
    const integration = await s.integrations.get(env.id, control['provider-config-key']);
    if (!integration) throw fail('unknown_provider_config');
    const def = s.catalogue.get(integration.provider);
    if (!def) throw fail('unknown_provider', { message: `Provider "${integration.provider}" is not in the catalogue` });
    const stored = await s.connections.get(env.id, integration.uniqueKey, control['connection-id']);
    if (!stored) throw fail('unknown_connection', { status: 400 });
    const connection = await s.refresher.fresh(stored);

    const providerBase = providerBaseUrl(def, integration, connection.connectionConfig);
    let base = providerBase;
    const override = control['base-url-override'];
    if (override) {
        if (!isOverrideAllowed(new URL(override), def, integration, providerBase)) throw fail('base_url_override_not_allowed');
        base = override;
    }
    if (!base) throw fail('unsupported_provider');
    return { integration, def, connection, base };
}
