import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Environment } from '../environments/environments.ts';
import { callTool, listTools, type AskUser, type ToolDeps } from './call.ts';
import type { ConnectionRef, McpPrincipal } from './scope.ts';
import type { McpSdk } from './sdk.ts';

/** How long a person has to answer a confirmation the client shows (MCP elicitation). */
const CONFIRM_TIMEOUT_MS = 5 * 60_000;

export interface ToolServerContext {
    env: Environment;
    principal: McpPrincipal;
    ref: ConnectionRef;
}

/**
 * The MCP server of one connection: its integration's actions and cached models as tools. The SDK's low-level
 * `Server` is used because the tools' input schemas are the deployed JSON schemas, not zod.
 */
export function createToolServer(sdk: McpSdk, d: ToolDeps, ctx: ToolServerContext): Server {
    const { CallToolRequestSchema, ListToolsRequestSchema } = sdk;
    const server = new sdk.Server({ name: 'switchboard', version: '1.0.0' }, { capabilities: { tools: { listChanged: false } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...(await listTools(d, ctx.env, ctx.ref)).values()].map((t) => t.tool) }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        // Elicitation needs the client's capabilities (known in a session) and a stream to ask on (the call's own).
        const ask: AskUser = server.getClientCapabilities()?.elicitation?.form
            ? async (message) => {
                  const answer = await server.elicitInput(
                      {
                          mode: 'form',
                          message,
                          requestedSchema: {
                              type: 'object',
                              properties: { confirm: { type: 'boolean', title: 'Run it', description: 'Yes, run this call' } },
                              required: ['confirm']
                          }
                      },
                      { relatedRequestId: extra.requestId, timeout: CONFIRM_TIMEOUT_MS, signal: extra.signal }
                  );
                  return answer.action === 'accept' && answer.content?.['confirm'] === true;
              }
            : undefined;
        return callTool(d, { ...ctx, name: request.params.name, arguments: request.params.arguments ?? {}, ask, signal: extra.signal });
    });
    return server;
}
