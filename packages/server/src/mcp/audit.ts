import type { Db } from '../storage/db.ts';

/** How a tool call ended (docs/mcp.md, "Audit"). */
export type ToolOutcome = 'success' | 'error' | 'confirmation_required' | 'declined';

export interface ToolCallEntry {
    environmentId: number;
    agentTokenUuid: string | null;
    connectionUuid: string | null;
    providerConfigKey: string;
    connectionId: string;
    tool: string;
    inputBytes: number;
    outcome: ToolOutcome;
    errorType: string | null;
    durationMs: number;
}

export interface ToolCallQuery {
    connectionId?: string | undefined;
    agentTokenId?: string | undefined;
    tool?: string | undefined;
    limit: number;
    /** Rows with a smaller id than this (the `next_cursor` of the previous page). */
    before?: number | undefined;
}

/** The audit trail of MCP tool calls: one row per call, the input's size but never its content. */
export class ToolCallAudit {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    async record(e: ToolCallEntry): Promise<void> {
        await this.db.query(
            `INSERT INTO mcp_tool_calls (environment_id, agent_token_uuid, connection_uuid, provider_config_key, connection_id, tool, input_bytes,
                 outcome, error_type, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [
                e.environmentId,
                e.agentTokenUuid,
                e.connectionUuid,
                e.providerConfigKey,
                e.connectionId,
                e.tool,
                e.inputBytes,
                e.outcome,
                e.errorType,
                Math.round(e.durationMs)
            ]
        );
    }

    async list(environmentId: number, q: ToolCallQuery): Promise<{ data: unknown[]; next_cursor: string | null }> {
        const rows = await this.db.query<{ id: string | number; created_at: Date }>(
            `SELECT id, agent_token_uuid AS agent_token_id, connection_uuid, provider_config_key, connection_id, tool, input_bytes, outcome,
                    error_type, duration_ms, created_at
             FROM mcp_tool_calls
             WHERE environment_id = $1 AND ($2::text IS NULL OR connection_id = $2) AND ($3::uuid IS NULL OR agent_token_uuid = $3)
               AND ($4::text IS NULL OR tool = $4) AND ($5::bigint IS NULL OR id < $5)
             ORDER BY id DESC LIMIT $6`,
            [environmentId, q.connectionId ?? null, q.agentTokenId ?? null, q.tool ?? null, q.before ?? null, q.limit]
        );
        const data = rows.map((r) => ({ ...r, id: Number(r.id), created_at: new Date(r.created_at).toISOString() }));
        const last = data.at(-1);
        return { data, next_cursor: data.length === q.limit && last ? String(last.id) : null };
    }
}
