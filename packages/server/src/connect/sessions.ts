import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import type { EndUserInput, OrganizationInput } from './schemas.ts';

export const SESSION_PREFIX = 'nango_connect_session_';
export const SESSION_TTL_MS = 30 * 60 * 1000;
const tokenFormat = /^nango_connect_session_[0-9a-f]{64}$/;

export interface ConnectSession {
    id: number;
    environmentId: number;
    endUser: EndUserInput | null;
    organization: OrganizationInput | null;
    tags: Record<string, string>;
    allowedIntegrations: string[] | null;
    integrationsConfigDefaults: Record<string, unknown> | null;
    webhookUrlOverride: string | null;
    reconnectConnectionUuid: string | null;
    expiresAt: Date;
}

interface Row {
    id: number;
    environment_id: number;
    end_user: EndUserInput | null;
    organization: OrganizationInput | null;
    tags: Record<string, string>;
    allowed_integrations: string[] | null;
    integrations_config_defaults: Record<string, unknown> | null;
    webhook_url_override: string | null;
    reconnect_connection_uuid: string | null;
    expires_at: Date;
}

const columns = `id, environment_id, end_user, organization, tags, allowed_integrations, integrations_config_defaults, webhook_url_override,
    reconnect_connection_uuid, expires_at`;

function toSession(r: Row): ConnectSession {
    return {
        id: r.id,
        environmentId: r.environment_id,
        endUser: r.end_user,
        organization: r.organization,
        tags: r.tags ?? {},
        allowedIntegrations: r.allowed_integrations?.length ? r.allowed_integrations : null,
        integrationsConfigDefaults: r.integrations_config_defaults,
        webhookUrlOverride: r.webhook_url_override,
        reconnectConnectionUuid: r.reconnect_connection_uuid,
        expiresAt: r.expires_at
    };
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export function isSessionTokenFormat(token: string): boolean {
    return tokenFormat.test(token);
}

/** Tags derived from the end user and organization, merged under the app's own (docs/compatibility.md, "Connect sessions"). */
export function sessionTags(
    endUser: EndUserInput | undefined,
    org: OrganizationInput | undefined,
    tags: Record<string, string> | undefined
): Record<string, string> {
    const derived: Record<string, string | undefined> = {
        end_user_id: endUser?.id,
        end_user_email: endUser?.email,
        end_user_display_name: endUser?.display_name,
        organization_id: org?.id || undefined,
        organization_display_name: org?.display_name
    };
    return { ...Object.fromEntries(Object.entries(derived).filter((e): e is [string, string] => e[1] !== undefined)), ...(tags ?? {}) };
}

/** Connect sessions; only the token's hash is stored, so a database read does not yield usable tokens. */
export class ConnectSessionStore {
    private readonly db: Db;

    /** True for a well-formed session token (the route builder checks before looking it up). */
    isTokenFormat(token: string): boolean {
        return isSessionTokenFormat(token);
    }

    /** True when a bearer value claims to be a session token (it is then never tried as a secret key). */
    looksLikeToken(value: string | undefined): boolean {
        return value?.startsWith(SESSION_PREFIX) ?? false;
    }

    constructor(db: Db) {
        this.db = db;
    }

    async create(
        environmentId: number,
        s: Omit<ConnectSession, 'id' | 'environmentId' | 'expiresAt'>,
        now = Date.now()
    ): Promise<{ token: string; expiresAt: Date }> {
        const token = `${SESSION_PREFIX}${randomBytes(32).toString('hex')}`;
        const expiresAt = new Date(now + SESSION_TTL_MS);
        await this.db.query(
            `INSERT INTO connect_sessions (environment_id, token_hash, end_user, organization, tags, allowed_integrations, integrations_config_defaults,
                webhook_url_override, reconnect_connection_uuid, expires_at)
             VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::text[], $7::jsonb, $8, $9, $10)`,
            [
                environmentId,
                hash(token),
                s.endUser ? JSON.stringify(s.endUser) : null,
                s.organization ? JSON.stringify(s.organization) : null,
                JSON.stringify(s.tags),
                s.allowedIntegrations,
                s.integrationsConfigDefaults ? JSON.stringify(s.integrationsConfigDefaults) : null,
                s.webhookUrlOverride,
                s.reconnectConnectionUuid,
                expiresAt
            ]
        );
        return { token, expiresAt };
    }

    /** The live session for a token, or undefined when unknown or expired. */
    async find(token: string, now = new Date()): Promise<ConnectSession | undefined> {
        const [r] = await this.db.query<Row>(`SELECT ${columns} FROM connect_sessions WHERE token_hash = $1 AND expires_at > $2`, [hash(token), now]);
        return r && toSession(r);
    }

    /**
     * By id, expired or not: a flow that started while its session was live may finish (its own transaction
     * expires after ten minutes); a deleted session takes its flows with it.
     */
    async byId(id: number): Promise<ConnectSession | undefined> {
        const [r] = await this.db.query<Row>(`SELECT ${columns} FROM connect_sessions WHERE id = $1`, [id]);
        return r && toSession(r);
    }

    async delete(id: number): Promise<void> {
        await this.db.query('DELETE FROM connect_sessions WHERE id = $1', [id]);
    }

    /** Drops expired sessions (run from the background timer). */
    async purgeExpired(now = new Date()): Promise<number> {
        const rows = await this.db.query<{ id: number }>('DELETE FROM connect_sessions WHERE expires_at <= $1 RETURNING id', [now]);
        return rows.length;
    }
}
