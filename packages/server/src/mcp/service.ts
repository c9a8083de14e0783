import type { Db } from '../storage/db.ts';
import { AgentTokens } from './agent-tokens.ts';
import { ToolCallAudit } from './audit.ts';
import { Confirmations } from './confirmations.ts';
import { McpSessions } from './sessions.ts';

/** The MCP server's state: agent tokens, pending confirmations, the audit trail, and this instance's sessions. */
export class Mcp {
    readonly tokens: AgentTokens;
    readonly confirmations: Confirmations;
    readonly audit: ToolCallAudit;
    readonly sessions: McpSessions;

    constructor(db: Db) {
        this.tokens = new AgentTokens(db);
        this.confirmations = new Confirmations(db);
        this.audit = new ToolCallAudit(db);
        this.sessions = new McpSessions();
    }
}
