import type { ProviderDefinition } from '../providers/schema.ts';
import { interpolate, InterpolationError } from '../providers/interpolate.ts';
import { fail } from '../http/errors.ts';

/** The token endpoint for a grant, taken from the catalogue (never from a response: RFC 9700 §4.4.2). */
export function resolveTokenUrl(def: ProviderDefinition, authMode: string, connectionConfig: Record<string, unknown>, purpose: 'code' | 'refresh'): string {
    const raw = purpose === 'refresh' && def.refresh_url ? def.refresh_url : def.token_url;
    const template = typeof raw === 'string' ? raw : raw ? (raw[authMode] ?? Object.values(raw)[0]) : undefined;
    if (!template) throw fail('invalid_auth_mode', { message: 'The provider has no token endpoint' });
    return fill(template, connectionConfig);
}

export function fill(template: string, connectionConfig: Record<string, unknown>): string {
    try {
        return interpolate(template, { connectionConfig, credentials: {} });
    } catch (err) {
        if (err instanceof InterpolationError) throw fail('missing_connection_config', { message: err.message });
        throw err;
    }
}

/** Nango's default client authentication is in the body; `token_request_auth_method: basic` selects RFC 6749 §2.3.1 Basic. */
export function clientAuthFor(def: ProviderDefinition): 'basic' | 'body' {
    return def.token_request_auth_method === 'basic' ? 'basic' : 'body';
}
