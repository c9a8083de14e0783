import type { Egress } from '../../egress/egress.ts';
import type { Integration } from '../../integrations/store.ts';
import type { StoredCredentials } from '../../connections/credentials.ts';
import type { ProviderDefinition } from '../schema.ts';

/** What a provider hook gets: the new connection, and one way to call the provider with its credentials. */
export interface HookInput {
    def: ProviderDefinition;
    integration: Integration;
    credentials: StoredCredentials;
    connectionConfig: Record<string, unknown>;
    /**
     * One JSON call to the provider with the connection's auth applied as the proxy applies it. `path` is relative
     * to the provider's filled-in `proxy.base_url`, or with `from: 'origin'` to that base URL's origin (for calls
     * made before the base URL can be filled in, such as Jira's, which needs the cloud id being looked up).
     */
    call(req: { method?: 'GET' | 'POST'; path: string; from?: 'base' | 'origin'; body?: unknown }): Promise<{ status: number; body: unknown }>;
}

/**
 * A post-connection step (`post_connection_script`): runs once the provider granted credentials, before the
 * connection is stored. Returns connection_config values to store with it; throws an ApiError
 * (`connection_test_failed`) when the account cannot be used, and then nothing is stored.
 */
export type PostConnectionHook = (input: HookInput) => Promise<Record<string, unknown>>;

/** A credential check (`credentials_verification_script`) for API-key and basic connections: throws to refuse. */
export type CredentialCheck = (input: HookInput) => Promise<void>;

export interface HookDeps {
    egress: Egress;
}
