import type { ProviderDefinition } from '../providers/schema.ts';
import type { Integration } from '../integrations/store.ts';
import { fail } from '../errors.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';

// Remembered per connection config object (the cached connection's, the same on every request until it changes).
const bases = new WeakMap<Record<string, unknown>, { def: ProviderDefinition; integration: Integration; base: string | undefined }>();

/** The provider base URL for a connection: the catalogue's `proxy.base_url` with connection config filled in. */
export function providerBaseUrl(def: ProviderDefinition, integration: Integration, connectionConfig: Record<string, unknown>): string | undefined {
    const known = bases.get(connectionConfig);
    if (known && known.def === def && known.integration === integration) return known.base;
    const template = def.proxy?.base_url ?? integration.custom?.['baseUrl'];
    const base = template ? endpointUrl(def, template, { connectionConfig }) : undefined;
    bases.set(connectionConfig, { def, integration, base });
    return base;
}

/**
 * A base URL other than the provider's own (`Base-Url-Override`, a script's `baseUrlOverride`, a script's
 * absolute endpoint or next-page link) is honoured only when it falls under the provider's own base URL, the
 * catalogue's `proxy.base_url_allowlist`, or the integration's `integration_config.base_url_allowlist`
 * (comma-separated). Entries are URL prefixes (`https://api.example.com/v2`) or host patterns
 * (`api.example.com`, `*.example.com`).
 */
export function isOverrideAllowed(override: URL, def: ProviderDefinition, integration: Integration, providerBase: string | undefined): boolean {
    const entries = [
        ...(providerBase ? [providerBase] : []),
        ...(def.proxy?.base_url_allowlist ?? []),
        ...(integration.integrationConfig['base_url_allowlist'] ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
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
        return within(lenientPath(url.pathname), trimSlashes(lenientPath(allowed.pathname)));
    }
    const host = url.hostname.toLowerCase();
    const pattern = entry.toLowerCase();
    if (url.protocol !== 'https:') return false;
    if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    return host === pattern;
}

/**
 * A URL path as a lenient server may read it, percent-escapes decoded as often as one may decode them. The URL parser already resolves `..`, `%2e%2e`, `.%2E` and turns
 * `\` into `/` (WHATWG URL, path state), but it leaves `%2f` and `%5c` encoded, and servers that decode them
 * before routing (IIS, some frameworks) then see `..%2f` or `..%5c` as a step up. Decoding those and the dots,
 * then resolving the dot segments again, gives the path such a server would serve.
 */
export function lenientPath(pathname: string): string {
    // A server (or a gateway before it) that decodes twice reads `%252e` as `.`: escaped percent signs first.
    let once = pathname;
    for (let i = 0; i < 4 && /%25/i.test(once); i++) once = once.replace(/%25/gi, '%');
    const decoded = once.replace(/%2f|%5c|\\/gi, '/').replace(/%2e/gi, '.');
    const out: string[] = [];
    for (const segment of decoded.split('/')) {
        if (segment === '..') out.pop();
        else if (segment !== '.') out.push(segment);
    }
    const joined = out.join('/');
    return joined.startsWith('/') ? joined : `/${joined}`;
}

function trimSlashes(path: string): string {
    return path.replace(/\/+$/, '');
}

/** True when `path` is `prefix` or below it; the empty prefix (a bare origin) holds every path. */
function within(path: string, prefix: string): boolean {
    return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Joins base and the app's path+query; an endpoint that already starts with the base is not doubled. The
 * result must stay under the base's path however the upstream reads it (`..`, `%2e%2e`, `.%2E`, `..\`,
 * `..%2f`, `..%5c`): the allow-list is a list of prefixes, and a step out of one would make it meaningless.
 */
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
    // `rest` starts with `/` or `?`, so it cannot change the host; only a dot (or an escape, or a backslash that
    // URL reads as `/`) can take the path out of the base's, and most requests have none (the hot path).
    if (/[.%\\]/.test(rest) && !staysUnder(url, trimmedBase)) throw fail('proxy_path_not_allowed');
    for (const [k, v] of Object.entries(templateQuery)) url.searchParams.set(k, v);
    return url;
}

function staysUnder(url: URL, base: string): boolean {
    const baseUrl = new URL(base);
    return url.origin === baseUrl.origin && within(lenientPath(url.pathname), trimSlashes(lenientPath(baseUrl.pathname)));
}
