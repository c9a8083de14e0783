import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { hashKey } from '../environments/hash.ts';

/** Agent tokens carry this prefix, so a Bearer value is told apart from a secret key (a UUID) without a lookup. */
export const AGENT_TOKEN_PREFIX = 'sb_agent_';

/** One connection an agent token may be narrowed to. */
export interface ScopedConnection {
    provider_config_key: string;
    connection_id: string;
}

/** A valid agent token: whose end user's connections it opens, in which environment. */
export interface AgentToken {
    id: number;
    uuid: string;
    environmentId: number;
    endUserId: string;
    /** null: every connection of the end user; otherwise only these. */
    connections: ScopedConnection[] | null;
    expiresAt: Date;
}

export interface IssuedToken {
    token: string;
    view: AgentTokenView;
}

/** What the API shows of a token (never the token itself, which only the issuing response carries). */
export interface AgentTokenView {
    id: string;
    end_user_id: string;
    connections: ScopedConnection[] | null;
    label: string | null;
    expires_at: string;
    revoked_at: string | null;
    created_at: string;
}

interface Row {
    id: number;
    uuid: string;
    environment_id: number;
    end_user_id: string;
    connections: ScopedConnection[] | null;
    label: string | null;
    expires_at: Date;
    revoked_at: Date | null;
    created_at: Date;
}

const view = (r: Row): AgentTokenView => ({
    id: r.uuid,
    end_user_id: r.end_user_id,
    connections: r.connections,
    label: r.label,
    expires_at: new Date(r.expires_at).toISOString(),
    revoked_at: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
    created_at: new Date(r.created_at).toISOString()
});

/** Agent tokens, stored as SHA-256 hashes (like secret keys): a leaked database does not leak usable tokens. */
export class AgentTokens {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    /** True when the Bearer value has the agent token format (it is then never tried as a secret key). */
    looksLikeToken(bearer: string | undefined): boolean {
        return bearer?.startsWith(AGENT_TOKEN_PREFIX) === true;
    }

    async issue(
        environmentId: number,
        r: { endUserId: string; connections: ScopedConnection[] | null; ttlSeconds: number; label: string | null }
    ): Promise<IssuedToken> {
        // 32 random bytes: the token is a bearer credential, as strong as a key.
        const token = `${AGENT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
        const [row] = await this.db.query<Row>(
            `INSERT INTO mcp_agent_tokens (uuid, environment_id, token_hash, end_user_id, connections, label, expires_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6, now() + make_interval(secs => $7))
             RETURNING id, uuid, environment_id, end_user_id, connections, label, expires_at, revoked_at, created_at`,
            [randomUUID(), environmentId, hashKey(token), r.endUserId, r.connections ? JSON.stringify(r.connections) : null, r.label, r.ttlSeconds]
        );
        return { token, view: view(row!) };
    }

    /** The token's scope when it is known, not revoked and not expired; otherwise why not. */
    async authenticate(token: string): Promise<AgentToken | 'unknown' | 'expired'> {
        const [row] = await this.db.query<Row & { live: boolean }>(
            `SELECT id, uuid, environment_id, end_user_id, connections, label, expires_at, revoked_at, created_at, expires_at > now() AS live
             FROM mcp_agent_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
            [hashKey(token)]
        );
        if (!row) return 'unknown';
        if (!row.live) return 'expired';
        return {
            id: row.id,
            uuid: row.uuid,
            environmentId: row.environment_id,
            endUserId: row.end_user_id,
            connections: row.connections,
            expiresAt: new Date(row.expires_at)
        };
    }

    async list(environmentId: number, endUserId: string | undefined): Promise<AgentTokenView[]> {
        const rows = await this.db.query<Row>(
            `SELECT id, uuid, environment_id, end_user_id, connections, label, expires_at, revoked_at, created_at FROM mcp_agent_tokens
             WHERE environment_id = $1 AND ($2::text IS NULL OR end_user_id = $2) ORDER BY id DESC LIMIT 1000`,
            [environmentId, endUserId ?? null]
        );
        return rows.map(view);
    }

    /** Revokes at once; false when the environment has no such token. */
    async revoke(environmentId: number, uuid: string): Promise<boolean> {
        const rows = await this.db.query<{ id: number }>(
            'UPDATE mcp_agent_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE environment_id = $1 AND uuid = $2 RETURNING id',
            [environmentId, uuid]
        );
        return rows.length > 0;
    }
}
