import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { fail } from '../errors.ts';
import { authenticateSession } from '../http/route.ts';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { EndUser } from '../connections/schemas.ts';
import type { ConnectSession } from './sessions.ts';
import { assertConnectionConfig } from '../oauth/provider-endpoints.ts';
import { authenticatePublicKey, publicKeySession } from './public-key.ts';

const stringMap = z.record(z.string().max(255), z.string().max(4096));

/**
 * The query every browser auth route takes (docs/compatibility.md, "Browser flows"), parsed from bracket notation. Strict:
 * client-credential overrides (`credentials[...]`) are not accepted, so a browser can never swap the app's
 * OAuth client.
 */
export const flowQuery = z
    .object({
        connect_session_token: z.string().max(255).optional(),
        public_key: z.string().max(255).optional(),
        connection_id: z.string().max(255).optional(),
        params: stringMap.optional(),
        hmac: z.string().max(255).optional(),
        user_scope: z.string().max(4096).optional(),
        authorization_params: stringMap.optional(),
        ws_client_id: z.uuid().optional()
    })
    .strict();
export type FlowQuery = z.infer<typeof flowQuery>;

export const providerConfigKeyParams = z.object({ providerConfigKey: z.string().min(1).max(255) }).strict();

/** Per-integration defaults a connect session carries (docs/compatibility.md, "Connect sessions"). */
interface ConfigDefaults {
    user_scopes?: string;
    authorization_params?: Record<string, string>;
    connection_config?: Record<string, unknown> & { oauth_scopes_override?: string };
}

/** Everything a browser flow needs once the caller, integration and target connection are settled. */
export interface FlowContext {
    env: Environment;
    session: ConnectSession;
    integration: Integration;
    provider: ProviderDefinition;
    connectionId: string;
    isReconnect: boolean;
    connectionConfig: Record<string, unknown>;
    defaults: ConfigDefaults;
    /** How the browser was let in: a connect session, or the environment's public key (then `session` constrains nothing). */
    via: 'connect_session' | 'public_key';
}

/**
 * Resolves who may start this flow: a connect session token (preferred, and taken first when both are sent), else a
 * public key where the environment allows them (docs/connect.md, "Public-key frontend auth").
 */
export async function resolveFlow(s: Services, providerConfigKey: string, query: FlowQuery, bearer?: string): Promise<FlowContext> {
    const token = query.connect_session_token ?? bearer;
    if (token) return resolveSessionFlow(s, providerConfigKey, query, token);
    if (query.public_key !== undefined) return resolvePublicKeyFlow(s, providerConfigKey, query);
    throw fail('missing_connect_session_token');
}

/**
 * A public-key flow: the app chose the connection id (checked against the HMAC when the environment requires one); a
 * connection that exists under it is overridden. The browser's params obey the same declared-fields rule as with a session.
 */
async function resolvePublicKeyFlow(s: Services, providerConfigKey: string, query: FlowQuery): Promise<FlowContext> {
    const { env, connectionId } = await authenticatePublicKey(s, providerConfigKey, query);
    const integration = await s.integrations.get(env.id, providerConfigKey);
    if (!integration) throw fail('unknown_provider_config');
    const provider = s.catalogue.get(integration.provider);
    if (!provider) throw fail('unknown_provider', { message: `The integration's provider "${integration.provider}" is not in the catalogue` });
    // Issue #10 item 1 holds here too: only the provider's declared, non-automated fields, each matching its pattern.
    assertConnectionConfig(provider, query.params ?? {}, 'browser');
    const existing = await s.connections.get(env.id, providerConfigKey, connectionId);
    return {
        env,
        session: publicKeySession(env),
        integration,
        provider,
        connectionId,
        isReconnect: !!existing,
        connectionConfig: { ...(query.params ?? {}) },
        defaults: {},
        via: 'public_key'
    };
}

/**
 * Resolves the session and applies its constraints (docs/compatibility.md, "Connect sessions"): a connection id
 * may not be chosen by the browser, only allowed integrations, and a reconnect targets its own connection.
 */
async function resolveSessionFlow(s: Services, providerConfigKey: string, query: FlowQuery, token: string): Promise<FlowContext> {
    const { env, session } = await authenticateSession(token, s);
    if (query.connection_id !== undefined) {
        throw fail('invalid_query_params', {
            message: 'connection_id is not allowed with a connect session token: the server chooses the connection id',
            errors: [{ code: 'custom', message: 'Forbidden with a connect session token', path: ['connection_id'] }]
        });
    }
    if (session.allowedIntegrations && !session.allowedIntegrations.includes(providerConfigKey)) throw fail('integration_not_allowed');
    const integration = await s.integrations.get(env.id, providerConfigKey);
    if (!integration) throw fail('unknown_provider_config');
    const provider = s.catalogue.get(integration.provider);
    if (!provider) throw fail('unknown_provider', { message: `The integration's provider "${integration.provider}" is not in the catalogue` });

    let connectionId: string = randomUUID();
    if (session.reconnectConnectionUuid) {
        const target = await s.connections.getByUuid(session.reconnectConnectionUuid);
        if (!target || target.integrationId !== integration.id) throw fail('invalid_connection');
        connectionId = target.connectionId;
    }
    const defaults = defaultsFor(session, providerConfigKey);
    const { oauth_scopes_override: _scopes, ...sessionConfig } = defaults.connection_config ?? {};
    // Issue #10 item 1: the browser may set only the provider's declared, non-automated fields, each matching its
    // pattern; refused here, before any transaction, redirect or request.
    assertConnectionConfig(provider, query.params ?? {}, 'browser');
    assertConnectionConfig(provider, sessionConfig, 'app');
    // The session is the app's word; the browser's params cannot override it.
    const connectionConfig = { ...(query.params ?? {}), ...sessionConfig };
    return {
        env,
        session,
        integration,
        provider,
        connectionId,
        isReconnect: !!session.reconnectConnectionUuid,
        connectionConfig,
        defaults,
        via: 'connect_session'
    };
}

/** The session's defaults for one integration (validated when the session was created). */
export function defaultsFor(session: ConnectSession, providerConfigKey: string): ConfigDefaults {
    return (session.integrationsConfigDefaults?.[providerConfigKey] ?? {}) as ConfigDefaults;
}

/** The end user a session's connections are recorded under. */
export function endUserOf(session: ConnectSession): EndUser | undefined {
    if (!session.endUser) return undefined;
    const organization = session.organization ? { id: session.organization.id, display_name: session.organization.display_name } : undefined;
    return { ...session.endUser, ...(organization ? { organization } : {}) };
}
