import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ToolDeps } from './call.ts';
import { createToolServer } from './server.ts';
import { principalKey, resolveConnection, type McpPrincipal } from './scope.ts';
import { mcpSdk, type McpSdk } from './sdk.ts';

const name = z.string().min(1).max(255);

/** Nango's /mcp headers (connection-id, provider-config-key) plus the MCP session id; other headers pass. */
const mcpHeaders = z.looseObject({
    'connection-id': name.optional(),
    'provider-config-key': name.optional(),
    'mcp-session-id': z.string().max(255).optional()
});

const toolDeps = (s: Services): ToolDeps => ({
    connections: s.connections,
    functions: s.functions,
    records: s.records,
    refresher: s.refresher,
    runs: s.runs,
    confirmations: s.mcp.confirmations,
    audit: s.mcp.audit,
    log: s.log
});

/** A JSON-RPC error outside any session (the transport is not involved yet), as the MCP spec words them. */
function rpcError(reply: FastifyReply, status: number, message: string) {
    return reply.code(status).send({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

const initializes = (sdk: McpSdk, body: unknown) => (Array.isArray(body) ? body.some((m) => sdk.isInitializeRequest(m)) : sdk.isInitializeRequest(body));

/**
 * `/mcp`: the Streamable HTTP transport (docs/mcp.md). A client that initializes gets a session (needed for
 * elicitation); requests without a session id are served statelessly, as Nango's /mcp does. The body is
 * JSON-RPC, validated by the SDK, which answers its own errors.
 */
export const mcpRoutes = [
    defineRoute({
        method: 'POST',
        url: '/mcp',
        auth: 'secret_or_agent',
        headers: mcpHeaders,
        handler: async ({ env, agent, headers, req, reply }, s) => {
            const principal: McpPrincipal = { environmentId: env.id, agent };
            const key = principalKey(principal);
            const sessionId = headers['mcp-session-id'];
            if (sessionId) {
                const session = s.mcp.sessions.get(sessionId, key);
                const other =
                    session &&
                    ((headers['connection-id'] !== undefined && headers['connection-id'] !== session.ref.connectionId) ||
                        (headers['provider-config-key'] !== undefined && headers['provider-config-key'] !== session.ref.providerConfigKey));
                // Another caller's session, or one this instance does not hold: 404 tells the client to start a new one.
                if (!session || other) return rpcError(reply, 404, 'Session not found: initialize a new session');
                reply.hijack();
                await session.transport.handleRequest(req.raw, reply.raw, req.body);
                return reply;
            }
            const connectionId = headers['connection-id'];
            const providerConfigKey = headers['provider-config-key'];
            if (!connectionId || !providerConfigKey)
                throw fail('invalid_headers', { message: 'The connection-id and provider-config-key headers choose the connection whose tools are served' });
            const ref = { connectionId, providerConfigKey };
            if (!(await resolveConnection(s.connections, principal, ref)))
                throw fail('unknown_connection', { status: 400, message: 'Provided connection-id and provider-config-key do not match a valid connection' });
            const sdk = await mcpSdk();
            const server = createToolServer(sdk, toolDeps(s), { env, principal, ref });
            const stateful = initializes(sdk, req.body);
            const transport = stateful
                ? s.mcp.sessions.open(sdk, server, key, env.id, ref)
                : new sdk.StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
            if (!stateful)
                reply.raw.on('close', () => {
                    void transport.close();
                    void server.close();
                });
            await server.connect(transport);
            reply.hijack();
            await transport.handleRequest(req.raw, reply.raw, req.body);
            return reply;
        }
    }),
    defineRoute({
        method: 'DELETE',
        url: '/mcp',
        auth: 'secret_or_agent',
        headers: mcpHeaders,
        handler: async ({ env, agent, headers, req, reply }, s) => {
            const session = headers['mcp-session-id']
                ? s.mcp.sessions.get(headers['mcp-session-id'], principalKey({ environmentId: env.id, agent }))
                : undefined;
            if (!session) return rpcError(reply, 404, 'Session not found');
            reply.hijack();
            await session.transport.handleRequest(req.raw, reply.raw);
            return reply;
        }
    }),
    // No server-initiated stream: what the server asks (elicitation) goes on the stream of the call it belongs to.
    defineRoute({
        method: 'GET',
        url: '/mcp',
        auth: 'secret_or_agent',
        handler: async ({ reply }) => rpcError(reply.header('allow', 'POST, DELETE'), 405, 'Method not allowed: this server sends no stream outside a call')
    })
];

const scopedConnection = z.object({ provider_config_key: name, connection_id: name }).strict();

/** Agent tokens (issued and revoked with the secret key) and the operators' view of tool calls. */
export const mcpAdminRoutes = [
    defineRoute({
        method: 'POST',
        url: '/mcp/tokens',
        auth: 'secret',
        body: z
            .object({
                end_user_id: name,
                connections: z.array(scopedConnection).min(1).max(100).optional(),
                ttl_seconds: z
                    .number()
                    .int()
                    .min(60)
                    .max(30 * 86_400)
                    .default(3600),
                label: z.string().max(255).optional()
            })
            .strict(),
        handler: async ({ env, body, reply }, s) => {
            const issued = await s.mcp.tokens.issue(env.id, {
                endUserId: body.end_user_id,
                connections: body.connections ?? null,
                ttlSeconds: body.ttl_seconds,
                label: body.label ?? null
            });
            reply.code(201);
            return { data: { ...issued.view, token: issued.token } };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/mcp/tokens',
        auth: 'secret',
        query: z.object({ end_user_id: name.optional() }).strict(),
        handler: async ({ env, query }, s) => ({ data: await s.mcp.tokens.list(env.id, query.end_user_id) })
    }),
    defineRoute({
        method: 'DELETE',
        url: '/mcp/tokens/:id',
        auth: 'secret',
        params: z.object({ id: z.uuid() }),
        handler: async ({ env, params }, s) => {
            if (!(await s.mcp.tokens.revoke(env.id, params.id))) throw fail('not_found', { message: 'No agent token with this id' });
            return { success: true };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/admin/mcp/tool-calls',
        auth: 'secret_or_admin',
        query: z
            .object({
                connection_id: name.optional(),
                agent_token_id: z.uuid().optional(),
                tool: name.optional(),
                limit: z.coerce.number().int().min(1).max(1000).default(100),
                cursor: z.coerce.number().int().min(1).optional()
            })
            .strict(),
        handler: async ({ env, query }, s) =>
            s.mcp.audit.list(env.id, {
                connectionId: query.connection_id,
                agentTokenId: query.agent_token_id,
                tool: query.tool,
                limit: query.limit,
                before: query.cursor
            })
    })
];
