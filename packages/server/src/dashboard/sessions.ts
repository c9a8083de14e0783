import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../storage/db.ts';

/** The dashboard's sign-in session as stored: hashes only (docs/dashboard.md, "Sessions"). */
export interface DashboardSession {
    idHash: string;
    csrfHash: string;
    expiresAt: Date;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** 32 random bytes, URL-safe: an opaque value with no structure to guess. */
const token = (): string => randomBytes(32).toString('base64url');

/** True when `presented` is the token whose hash is `storedHex`; compares fixed-length digests in constant time. */
export function matchesHash(presented: string, storedHex: string): boolean {
    const stored = Buffer.from(storedHex, 'hex');
    const given = sha256(presented);
    return stored.length === given.length && timingSafeEqual(stored, given);
}

/**
 * Operator sign-in sessions of the dashboard. The session id (cookie) and the CSRF token (header) are both random
 * and stored only as SHA-256 hashes; a session past its expiry is refused and deleted.
 */
export class DashboardSessionStore {
    private readonly db: Db;
    private readonly ttlMs: number;

    constructor(db: Db, ttlMs: number) {
        this.db = db;
        this.ttlMs = ttlMs;
    }

    /** Opens a session; the id and CSRF token are returned once and never stored in the clear. */
    async create(now = Date.now()): Promise<{ id: string; csrf: string; expiresAt: Date }> {
        const id = token();
        const csrf = token();
        const expiresAt = new Date(now + this.ttlMs);
        await this.db.query('INSERT INTO dashboard_sessions (id_hash, csrf_hash, expires_at) VALUES ($1, $2, $3)', [
            sha256(id).toString('hex'),
            sha256(csrf).toString('hex'),
            expiresAt
        ]);
        return { id, csrf, expiresAt };
    }

    /** The live session of a cookie value, or undefined (unknown, or expired: then deleted). */
    async find(id: string, now = new Date()): Promise<DashboardSession | undefined> {
        const idHash = sha256(id).toString('hex');
        const [row] = await this.db.query<{ csrf_hash: string; expires_at: Date }>('SELECT csrf_hash, expires_at FROM dashboard_sessions WHERE id_hash = $1', [
            idHash
        ]);
        if (!row) return undefined;
        if (new Date(row.expires_at).getTime() <= now.getTime()) {
            await this.db.query('DELETE FROM dashboard_sessions WHERE id_hash = $1', [idHash]);
            return undefined;
        }
        return { idHash, csrfHash: row.csrf_hash, expiresAt: new Date(row.expires_at) };
    }

    /** Signs out: the cookie value stops working on every instance at once. */
    async delete(idHash: string): Promise<void> {
        await this.db.query('DELETE FROM dashboard_sessions WHERE id_hash = $1', [idHash]);
    }

    /** Drops expired sessions (run from the background timer). */
    async purgeExpired(now = new Date()): Promise<number> {
        const rows = await this.db.query<{ id_hash: string }>('DELETE FROM dashboard_sessions WHERE expires_at <= $1 RETURNING id_hash', [now]);
        return rows.length;
    }
}
