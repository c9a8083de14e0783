import type { StoredCredentials } from '../../connections/credentials.ts';
import type { Integration } from '../../integrations/store.ts';
import { applyAuth } from '../../proxy/auth.ts';
import { providerBaseUrl, upstreamUrl } from '../../proxy/target.ts';
import { ApiError, fail } from '../../errors.ts';
import type { ProviderDefinition } from '../schema.ts';
import { urlAlternatives } from '../url-template.ts';
import type { HookDeps, HookInput } from './types.ts';

/** The origin of the provider's API from its base URL template, placeholders left out (`https://api.atlassian.com`). */
function templateOrigin(template: string | undefined): string | undefined {
    const first = template === undefined ? undefined : urlAlternatives(template)[0];
    if (!first || first.startsWith('${') || /^[a-z]+:\/\/[^/]*\$\{/i.test(first)) return undefined;
    const probe = first.replace(/\$\{[^}]*\}/g, 'x');
    return URL.canParse(probe) ? new URL(probe).origin : undefined;
}

/** HookInput.call for a connection: the proxy's auth, JSON in and out, bounded, any network failure a clear refusal. */
export function hookInput(
    deps: HookDeps,
    def: ProviderDefinition,
    integration: Integration,
    credentials: StoredCredentials,
    connectionConfig: Record<string, unknown>
): HookInput {
    const call: HookInput['call'] = async ({ method = 'GET', path, from = 'base', body }) => {
        const auth = applyAuth(def, credentials, connectionConfig);
        const base = from === 'origin' ? templateOrigin(def.proxy?.base_url) : providerBaseUrl(def, integration, connectionConfig);
        if (!base) throw fail('connection_test_failed', { message: 'The provider has no API base URL to finish the connection with' });
        const target = upstreamUrl(base, path, auth.query);
        const headers: Record<string, string> = { accept: 'application/json', ...auth.headers };
        if (body !== undefined) headers['content-type'] = 'application/json';
        try {
            const res = await deps.egress.fetch({
                method,
                url: target,
                headers,
                ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
                maxBytes: 1024 * 1024,
                timeoutMs: 15_000
            });
            let parsed: unknown = res.text;
            try {
                parsed = JSON.parse(res.text);
            } catch {
                // not JSON: the text itself
            }
            return { status: res.status, body: parsed };
        } catch (err) {
            if (err instanceof ApiError)
                throw fail('connection_test_failed', { message: `The provider could not be reached to finish the connection (${err.code})` });
            throw err;
        }
    };
    return { def, integration, credentials, connectionConfig, call };
}
