import type { ProviderDefinition } from '../providers/schema.ts';
import { interpolate, InterpolationError } from '../providers/interpolate.ts';
import { interpolateUrl, type UrlValueGuard } from '../providers/url-template.ts';
import { connectionConfigIssues, declaredField, fieldRefuses, type ConfigSource } from '../providers/connection-config.ts';
import { fail, type ApiError } from '../errors.ts';

/** What a provider URL template may read. */
export interface EndpointValues {
    connectionConfig: Record<string, unknown>;
    /**
     * Values the server itself supplies under connectionConfig names (a GitHub App's public link and a checked
     * installation id): exempt from the declaration rule, still checked and encoded for their place.
     */
    server?: Record<string, string>;
    credentials?: Record<string, unknown>;
    clientId?: string;
}

/**
 * Every provider URL is built here, so no caller can forget: `${connectionConfig.x}` takes only a key the
 * provider declares, its value must match the declared pattern, and each value is checked and encoded for its
 * place in the URL (providers/url-template.ts). A refusal is `invalid_connection_config`, before any request.
 */
export function endpointUrl(def: ProviderDefinition, template: string, values: EndpointValues): string {
    const server = values.server ?? {};
    const guard: UrlValueGuard = (alt, value) => {
        if (alt.scope !== 'connectionConfig') return;
        const key = alt.path[0]!;
        if (Object.hasOwn(server, key)) return;
        const field = declaredField(def, key);
        if (!field) throw new InterpolationError('invalid', `"${key}" is not a connection_config field of this provider`, `connectionConfig.${key}`);
        const why = fieldRefuses(field, value);
        if (why) throw new InterpolationError('invalid', `"${key}" ${why}`, `connectionConfig.${key}`);
    };
    try {
        return interpolateUrl(
            template,
            { connectionConfig: { ...values.connectionConfig, ...server }, credentials: values.credentials ?? {}, clientId: values.clientId },
            guard
        );
    } catch (err) {
        if (err instanceof InterpolationError) throw templateFailure(err);
        throw err;
    }
}

function templateFailure(err: InterpolationError): ApiError {
    if (err.reason !== 'invalid') return fail('missing_connection_config', { message: err.message });
    const key = err.variable?.replace(/^connectionConfig\./, '') ?? '?';
    return fail('invalid_connection_config', {
        message: `connection_config refused: ${err.message}`,
        errors: [{ code: 'custom', message: err.message, path: ['connection_config', ...key.split('.')] }]
    });
}

/** Refuses connection config from `source` that the provider definition does not allow (invalid_connection_config). */
export function assertConnectionConfig(def: ProviderDefinition, config: Record<string, unknown>, source: ConfigSource): void {
    const issues = connectionConfigIssues(def, config, source);
    if (!issues.length) return;
    throw fail('invalid_connection_config', {
        message: `connection_config refused: ${issues.map((i) => i.message).join('; ')}`,
        errors: issues.map((i) => ({ code: 'custom', message: i.message, path: [source === 'browser' ? 'params' : 'connection_config', i.key] }))
    });
}

/** The token endpoint for a grant, taken from the catalogue (never from a response: RFC 9700 §4.4.2). */
export function resolveTokenUrl(
    def: ProviderDefinition,
    authMode: string,
    connectionConfig: Record<string, unknown>,
    purpose: 'code' | 'refresh',
    server?: Record<string, string>
): string {
    const raw = purpose === 'refresh' && def.refresh_url ? def.refresh_url : def.token_url;
    // Nango's TokenUrlObject spells OAUTH2_CC as OAUTH2CC.
    const template =
        typeof raw === 'string' ? raw : raw ? (raw[authMode] ?? (authMode === 'OAUTH2_CC' ? raw['OAUTH2CC'] : undefined) ?? Object.values(raw)[0]) : undefined;
    if (!template) throw fail('invalid_auth_mode', { message: 'The provider has no token endpoint' });
    return endpointUrl(def, template, { connectionConfig, ...(server ? { server } : {}) });
}

/**
 * Fills a template that is not a URL (an authorization or request parameter value, a header): the caller
 * places the result (URLSearchParams encodes it). URLs go through endpointUrl.
 */
export function fill(template: string, connectionConfig: Record<string, unknown>): string {
    try {
        return interpolate(template, { connectionConfig, credentials: {} });
    } catch (err) {
        if (err instanceof InterpolationError) throw fail('missing_connection_config', { message: err.message });
        throw err;
    }
}

/**
 * Nango's default client authentication is in the body. RFC 6749 §2.3.1 Basic is selected by either of the two
 * fields Nango has for it: `token_request_auth_method: basic`, or `authorization_method: header` (the option its
 * OAuth library reads; Notion, Reddit, Airtable and a dozen more need it), for every grant at the token endpoint.
 */
export function clientAuthFor(def: ProviderDefinition): 'basic' | 'body' {
    return def.token_request_auth_method === 'basic' || def.authorization_method === 'header' ? 'basic' : 'body';
}
