// The official MCP client SDK against a test server's /mcp, and the HTTP calls around it (agent tokens, audit).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface McpTarget {
    url: string;
    /** The environment's secret key or an agent token. */
    bearer: string;
    providerConfigKey: string;
    connectionId: string;
}

/**
 * A connected client. With `confirm`, it declares MCP elicitation and answers the server's confirmation
 * questions with it (recording the messages); without, it has no elicitation and gets confirmation tokens.
 */
export async function mcpClient(t: McpTarget, opts: { confirm?: (message: string) => boolean; asked?: string[] } = {}): Promise<Client> {
    const client = new Client({ name: 'switchboard-test', version: '1.0.0' }, { capabilities: opts.confirm ? { elicitation: {} } : {} });
    if (opts.confirm) {
        const confirm = opts.confirm;
        client.setRequestHandler(ElicitRequestSchema, async (req) => {
            opts.asked?.push(req.params.message);
            return confirm(req.params.message) ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
        });
    }
    const transport = new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${t.bearer}`, 'connection-id': t.connectionId, 'provider-config-key': t.providerConfigKey } }
    });
    await client.connect(transport);
    return client;
}

/** The `{error: {...}}` of a failed tool result, or undefined for a success. */
export function toolErrorOf(r: CallToolResult): Record<string, unknown> | undefined {
    if (!r.isError) return undefined;
    return (r.structuredContent as { error: Record<string, unknown> }).error;
}

export async function issueAgentToken(
    url: string,
    secretKey: string,
    body: { end_user_id: string; connections?: Array<{ provider_config_key: string; connection_id: string }>; ttl_seconds?: number }
): Promise<{ id: string; token: string; expires_at: string }> {
    const res = await fetch(`${url}/mcp/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body)
    });
    if (res.status !== 201) throw new Error(`POST /mcp/tokens answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { data: { id: string; token: string; expires_at: string } }).data;
}

/** A raw JSON-RPC POST to /mcp (what a client without the SDK sends), for the refusals the SDK hides. */
export function rawMcp(url: string, headers: Record<string, string>, body: unknown): Promise<Response> {
    return fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(body)
    });
}
