import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { hashKey } from '../environments/hash.ts';

/** How long the model has to repeat a destructive call with its confirmation token. */
export const CONFIRMATION_TTL_SECONDS = 300;

/** What a confirmation token is bound to: the same caller must repeat the same call on the same connection. */
export interface ConfirmationScope {
    environmentId: number;
    /** `key:<environment id>` for the secret key, `agent:<token uuid>` for an agent token. */
    principal: string;
    connectionDbId: number;
    tool: string;
    arguments: Record<string, unknown>;
}

/** A stable hash of the arguments: keys sorted at every depth, so {a,b} and {b,a} confirm the same call. */
export function argumentsHash(args: unknown): string {
    const canonical = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(canonical);
        if (v && typeof v === 'object')
            return Object.fromEntries(
                Object.keys(v)
                    .sort()
                    .map((k) => [k, canonical((v as Record<string, unknown>)[k])])
            );
        return v;
    };
    return createHash('sha256')
        .update(JSON.stringify(canonical(args)))
        .digest('hex');
}

/**
 * The two-call confirmation of destructive tools (docs/mcp.md, "Confirmation"), in the database so it works
 * across instances and restarts: only a hash of each token is stored, and a token is used at most once.
 */
export class Confirmations {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    async issue(s: ConfirmationScope): Promise<{ token: string; expiresAt: Date }> {
        const token = `sb_confirm_${randomBytes(24).toString('base64url')}`;
        const [row] = await this.db.query<{ expires_at: Date }>(
            `INSERT INTO mcp_confirmations (token_hash, environment_id, principal, connection_db_id, tool, arguments_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) RETURNING expires_at`,
            [hashKey(token), s.environmentId, s.principal, s.connectionDbId, s.tool, argumentsHash(s.arguments), CONFIRMATION_TTL_SECONDS]
        );
        // Expired tokens are useless; dropping them here keeps the table small without a timer.
        await this.db.query("DELETE FROM mcp_confirmations WHERE expires_at < now() - interval '1 hour'");
        return { token, expiresAt: new Date(row!.expires_at) };
    }

    /** Uses the token once: true only when it matches this exact call, is unexpired and was not used before. */
    async consume(token: string, s: ConfirmationScope): Promise<boolean> {
        const rows = await this.db.query<{ token_hash: string }>(
            `UPDATE mcp_confirmations SET used_at = now()
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() AND environment_id = $2 AND principal = $3
               AND connection_db_id = $4 AND tool = $5 AND arguments_hash = $6
             RETURNING token_hash`,
            [hashKey(token), s.environmentId, s.principal, s.connectionDbId, s.tool, argumentsHash(s.arguments)]
        );
        return rows.length === 1;
    }
}
