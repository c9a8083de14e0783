import type { Integration, IntegrationStore } from './store.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { Services } from '../services.ts';

// Nango's APP and CUSTOM credentials have no webhook_secret; ours may, and show it only when set (so the shape
// stays Nango's, and `switchboard plan` can compare it).
const withWebhookSecret = (secret: string | undefined) => (secret ? { webhook_secret: secret } : {});

/** ApiPublicIntegration (docs/compatibility.md, "Integrations"). */
export function formatIntegration(
    i: Integration,
    opts: { catalogue: Catalogue; serverUrl: string; environmentUuid: string; include?: Set<string>; store?: IntegrationStore }
): Record<string, unknown> {
    const def = opts.catalogue.get(i.provider);
    const out: Record<string, unknown> = {
        unique_key: i.uniqueKey,
        provider: i.provider,
        display_name: i.displayName ?? def?.display_name ?? i.provider,
        logo: `${opts.serverUrl}/images/template-logos/${i.provider}.svg`,
        forward_webhooks: i.forwardWebhooks,
        created_at: i.createdAt.toISOString(),
        updated_at: i.updatedAt.toISOString()
    };
    if (opts.include?.has('webhook')) {
        out['webhook_url'] = def?.webhook_routing_script ? `${opts.serverUrl}/webhook/${opts.environmentUuid}/${encodeURIComponent(i.uniqueKey)}` : null;
    }
    if (opts.include?.has('credentials') && opts.store) {
        const c = opts.store.credentials(i);
        out['credentials'] = c
            ? c.type === 'APP'
                ? { type: c.type, app_id: c.app_id, app_link: c.app_link, private_key: c.private_key, ...withWebhookSecret(c.webhook_secret) }
                : c.type === 'CUSTOM'
                  ? {
                        type: c.type,
                        client_id: c.client_id,
                        client_secret: c.client_secret,
                        app_id: c.app_id,
                        app_link: c.app_link,
                        private_key: c.private_key,
                        ...withWebhookSecret(c.webhook_secret)
                    }
                  : c.type === 'MCP_OAUTH2'
                    ? // The client the integration registered for itself at the MCP server's authorization server.
                      { type: c.type, client_id: c.client_id, client_secret: c.client_secret || null, scopes: c.scopes ?? null, webhook_secret: null }
                    : {
                          type: c.type,
                          client_id: c.client_id,
                          client_secret: c.client_secret,
                          scopes: c.scopes ?? null,
                          webhook_secret: c.webhook_secret ?? null
                      }
            : null;
    }
    if (opts.include?.has('config')) {
        out['integration_config'] = i.integrationConfig;
        // The secret keys of `custom` (decrypted) only for the API, which shows credentials too; not for scripts.
        out['custom'] = opts.store ? opts.store.customOf(i) : i.custom;
    }
    return out;
}

/** An integration as the API and the dashboard answer it: formatIntegration with the server's catalogue, URL and store. */
export function apiIntegration(services: Services, environmentUuid: string, i: Integration, include?: Set<string>): Record<string, unknown> {
    return formatIntegration(i, {
        catalogue: services.catalogue,
        serverUrl: services.config.serverUrl,
        environmentUuid,
        include,
        store: services.integrations
    });
}
