import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolRequestSchema, isInitializeRequest, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** The parts of the MCP SDK the /mcp routes use. */
export interface McpSdk {
    Server: typeof Server;
    StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
    isInitializeRequest: typeof isInitializeRequest;
    CallToolRequestSchema: typeof CallToolRequestSchema;
    ListToolsRequestSchema: typeof ListToolsRequestSchema;
}

let loading: Promise<McpSdk> | undefined;

/**
 * The MCP SDK, loaded on the first /mcp request instead of at boot: with its own zod, ajv and hono it holds about
 * 10 MB of heap that a server no agent talks to never needs (issue #13 item 1, the idle memory of the default).
 */
export function mcpSdk(): Promise<McpSdk> {
    loading ??= Promise.all([
        import('@modelcontextprotocol/sdk/server/index.js'),
        import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
        import('@modelcontextprotocol/sdk/types.js')
    ]).then(([server, http, types]) => ({
        Server: server.Server,
        StreamableHTTPServerTransport: http.StreamableHTTPServerTransport,
        isInitializeRequest: types.isInitializeRequest,
        CallToolRequestSchema: types.CallToolRequestSchema,
        ListToolsRequestSchema: types.ListToolsRequestSchema
    }));
    // A failed load is tried again on the next request.
    loading.catch(() => (loading = undefined));
    return loading;
}
