import type { ProviderDefinition } from '../providers/schema.ts';
import type { Integration } from '../integrations/store.ts';
import { fail } from '../http/errors.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';

/** The provider base URL for a connection: the catalogue's `proxy.base_url` with connection config filled in. */
export function providerBaseUrl(def: ProviderDefinition, integration: Integration, connectionConfig: Record<string, unknown>): string | undefined {
    const template = def.proxy?.base_url ?? integration.custom?.['baseUrl'];
    return template ? endpointUrl(def, template, { connectionConfig }) : undefined;
}

/**
 * `Base-Url-Override` is honoured only when it falls under the provider's own base URL, the catalogue's
 * `proxy.base_url_allowlist`, or the integration's `integration_config.base_url_allowlist` (comma-separated).
 * Entries are URL prefixes (`https://api.example.com/v2`) or host patterns (`api.example.com`, `*.example.com`).
 */
export function isOverrideAllowed(override: URL, def: ProviderDefinition, integration: Integration, providerBase: string | undefined): boolean {
    const entries = [
        ...(providerBase ? [providerBase] : []),
        ...(def.proxy?.base_url_allowlist ?? []),
        ...(integration.integrationConfig['base_url_allowlist'] ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    ];
    return entries.some((entry) => matches(override, entry));
}

function matches(url: URL, entry: string): boolean {
    if (/^https?:\/\//i.test(entry)) {
        let allowed: URL;
        try {
            allowed = new URL(entry);
        } catch {
            return false;
        }
        if (allowed.origin !== url.origin) return false;
        const prefix = allowed.pathname.replace(/\/+$/, '');
        return url.pathname === prefix || url.pathname.startsWith(`${prefix}/`) || prefix === '';
    }
    const host = url.hostname.toLowerCase();
    const pattern = entry.toLowerCase();
    if (url.protocol !== 'https:') return false;
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    return host === pattern;
}

/** Joins base and the app's path+query; an endpoint that already starts with the base is not doubled. */
export function upstreamUrl(base: string, pathAndQuery: string, templateQuery: Record<string, string>): URL {
    const trimmedBase = base.replace(/\/+$/, '');
    let rest = pathAndQuery;
    if (rest.startsWith(trimmedBase)) rest = rest.slice(trimmedBase.length);
    if (/^\/https?:\/\//i.test(rest) && rest.slice(1).startsWith(trimmedBase)) rest = rest.slice(1 + trimmedBase.length);
    if (!rest.startsWith('/') && !rest.startsWith('?') && rest !== '') rest = `/${rest}`;
    let url: URL;
    try {
        url = new URL(`${trimmedBase}${rest}`);
    } catch {
        throw fail('invalid_query_params', { message: 'The proxied URL is invalid' });
    }
    for (const [k, v] of Object.entries(templateQuery)) url.searchParams.set(k, v);
    return url;
}
