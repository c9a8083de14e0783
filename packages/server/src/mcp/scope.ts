import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { AgentToken } from './agent-tokens.ts';

/** Who is calling the MCP server: the environment's secret key, or an agent token for one end user. */
export interface McpPrincipal {
    environmentId: number;
    agent: AgentToken | undefined;
}

/** A stable name of the principal, to bind sessions and confirmation tokens to it. */
export const principalKey = (p: McpPrincipal): string => (p.agent ? `agent:${p.agent.uuid}` : `key:${p.environmentId}`);

export interface ConnectionRef {
    providerConfigKey: string;
    connectionId: string;
}

/** True when an agent token opens this connection: its end user's, and among the token's connections if it names some. */
export function inScope(agent: AgentToken | undefined, c: Connection): boolean {
    if (!agent) return true;
    if (c.environmentId !== agent.environmentId || c.endUser?.id !== agent.endUserId) return false;
    return agent.connections === null || agent.connections.some((s) => s.provider_config_key === c.providerConfigKey && s.connection_id === c.connectionId);
}

/**
 * The connection the caller may use, or undefined: one the principal may not open is answered exactly like one
 * that does not exist, so a token for one end user learns nothing about another's connections.
 */
export async function resolveConnection(connections: ConnectionStore, p: McpPrincipal, ref: ConnectionRef): Promise<Connection | undefined> {
    const c = await connections.get(p.environmentId, ref.providerConfigKey, ref.connectionId);
    return c && inScope(p.agent, c) ? c : undefined;
}
