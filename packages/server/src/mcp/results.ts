import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Connection } from '../connections/store.ts';

/**
 * A tool failure the model can read: `isError` with a JSON body `{error: {type, message, ...}}` in the text and in
 * structuredContent. Tool failures are never protocol errors (docs/mcp.md, "Errors").
 */
export function toolError(type: string, message: string, extra: Record<string, unknown> = {}): CallToolResult {
    const error = { type, message, ...extra };
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }, null, 2) }], structuredContent: { error } };
}

/** A successful result: the output as JSON text (what Nango's MCP server returns), and as structuredContent when it is an object. */
export function toolOutput(output: unknown): CallToolResult {
    const text = output === undefined ? 'null' : JSON.stringify(output, null, 2);
    const structured = typeof output === 'object' && output !== null && !Array.isArray(output) ? { structuredContent: output as Record<string, unknown> } : {};
    return { content: [{ type: 'text', text }], ...structured };
}

/** The connection's credentials no longer work: what happened, and how the app gets the end user to reconnect. */
export function reconnectHint(c: Pick<Connection, 'status' | 'connectionId' | 'providerConfigKey' | 'refreshError'>): CallToolResult {
    const revoked = c.status === 'revoked';
    return toolError(
        revoked ? 'connection_revoked' : 'connection_expired',
        `The ${c.providerConfigKey} connection "${c.connectionId}" ${revoked ? 'was revoked at the provider' : 'has expired (its token can no longer be refreshed)'}. ` +
            'Nothing was done. Tell the user to reconnect their account, then try again.',
        {
            reconnect: {
                connection_id: c.connectionId,
                provider_config_key: c.providerConfigKey,
                how: 'The app creates a reconnect session (POST /connect/sessions/reconnect with connection_id and integration_id) and opens Connect with it.'
            },
            ...(c.refreshError ? { reason: c.refreshError.type } : {})
        }
    );
}
