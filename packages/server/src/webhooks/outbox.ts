import type { Db, Queryable } from '../storage/db.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface Delivery {
    id: number;
    environmentId: number;
    eventId: string;
    targetUrl: string;
    body: string;
    headers: Record<string, string>;
    attempts: number;
    nextAttemptAt: Date;
    status: DeliveryStatus;
    lastStatus: number | null;
    lastError: string | null;
    deliveredAt: Date | null;
    createdAt: Date;
    updatedAt: Date;
}

interface Row {
    id: string | number;
    environment_id: number;
    event_id: string;
    target_url: string;
    body: string;
    headers: Record<string, string>;
    attempts: number;
    next_attempt_at: Date;
    status: DeliveryStatus;
    last_status: number | null;
    last_error: string | null;
    delivered_at: Date | null;
    created_at: Date;
    updated_at: Date;
}

const columns =
    'id, environment_id, event_id, target_url, body, headers, attempts, next_attempt_at, status, last_status, last_error, delivered_at, created_at, updated_at';

function toDelivery(r: Row): Delivery {
    return {
        id: Number(r.id),
        environmentId: r.environment_id,
        eventId: r.event_id,
        targetUrl: r.target_url,
        body: r.body,
        headers: r.headers ?? {},
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        status: r.status,
        lastStatus: r.last_status,
        lastError: r.last_error,
        deliveredAt: r.delivered_at,
        createdAt: r.created_at,
        updatedAt: r.updated_at
    };
}

/** The channel that wakes delivery workers on every instance. */
export const WAKE_CHANNEL = 'switchboard_webhooks';

export interface NewDelivery {
    environmentId: number;
    eventId: string;
    targetUrl: string;
    body: string;
    headers?: Record<string, string> | undefined;
    /** Rows with the same key and target are delivered in insertion order (one connection's events). */
    orderingKey?: string | undefined;
}

/** Result of one attempt, as the worker decided it. */
export type AttemptResult =
    | { status: 'delivered'; httpStatus: number }
    | { status: 'pending'; httpStatus: number | null; error: string; nextAttemptAt: Date }
    | { status: 'failed' | 'dead'; httpStatus: number | null; error: string };

/** The durable outbox of webhook deliveries. */
export class Outbox {
    private readonly db: Db;

    constructor(db: Db) {
        this.db = db;
    }

    /**
     * Inserts through `q`, so a caller's transaction holds the event and its deliveries together. The NOTIFY is
     * transactional too: workers wake at commit, and never for a rolled-back event.
     */
    async enqueue(q: Queryable, rows: NewDelivery[]): Promise<void> {
        for (const r of rows) {
            await q.query(
                'INSERT INTO webhook_deliveries (environment_id, event_id, target_url, body, headers, ordering_key) VALUES ($1, $2, $3, $4, $5::jsonb, $6)',
                [r.environmentId, r.eventId, r.targetUrl, r.body, JSON.stringify(r.headers ?? {}), r.orderingKey ?? null]
            );
        }
        if (rows.length) await q.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'enqueued']);
    }

    /**
     * Claims up to `limit` due rows and leases them for `leaseMs` by moving next_attempt_at forward: another
     * instance's claim skips rows locked by this statement and, after commit, no longer sees them as due.
     * A process that dies mid-attempt leaves the row to be retried when the lease ends. A row whose ordering key
     * has an older pending row for the same target waits for it (in flight rows are pending too), so one
     * connection's events arrive in order even across retries and instances.
     */
    async claim(limit: number, leaseMs: number): Promise<Delivery[]> {
        const rows = await this.db.query<Row>(
            `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = now() + ($2::integer * interval '1 millisecond'), updated_at = now()
             WHERE id IN (
                SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                  AND (d.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries e
                    WHERE e.status = 'pending' AND e.ordering_key = d.ordering_key AND e.target_url = d.target_url AND e.id < d.id))
                ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING ${columns}`,
            [limit, leaseMs]
        );
        return rows.map(toDelivery).sort((a, b) => a.id - b.id);
    }

    async record(id: number, r: AttemptResult): Promise<void> {
        const next = r.status === 'pending' ? r.nextAttemptAt : null;
        await this.db.query(
            `UPDATE webhook_deliveries SET status = $2, last_status = $3, last_error = $4, next_attempt_at = COALESCE($5, next_attempt_at),
                delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
             WHERE id = $1`,
            [id, r.status, r.httpStatus, r.status === 'delivered' ? null : r.error.slice(0, 1000), next]
        );
    }

    /** When the earliest pending row is due, or undefined when none is pending. */
    async nextDue(): Promise<Date | undefined> {
        const [row] = await this.db.query<{ at: Date | null }>("SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'");
        return row?.at ?? undefined;
    }

    /** Deliveries waiting for an attempt (due now or scheduled for a retry), across every instance. */
    async depth(): Promise<number> {
        const [row] = await this.db.query<{ n: number }>("SELECT count(*)::integer AS n FROM webhook_deliveries WHERE status = 'pending'");
        return row?.n ?? 0;
    }

    /** Newest first; `cursor` is the id of the last row of the previous page. */
    async list(environmentId: number, f: { status?: DeliveryStatus | undefined; limit: number; cursor?: number | undefined }): Promise<Delivery[]> {
        const rows = await this.db.query<Row>(
            `SELECT ${columns} FROM webhook_deliveries
             WHERE environment_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4`,
            [environmentId, f.status ?? null, f.cursor ?? null, f.limit]
        );
        return rows.map(toDelivery);
    }

    async get(environmentId: number, id: number): Promise<Delivery | undefined> {
        const [row] = await this.db.query<Row>(`SELECT ${columns} FROM webhook_deliveries WHERE environment_id = $1 AND id = $2`, [environmentId, id]);
        return row && toDelivery(row);
    }

    /** Puts a finished delivery back in the queue with a fresh attempt count; undefined when it is still pending. */
    async requeue(environmentId: number, id: number): Promise<Delivery | undefined> {
        return this.db.transaction(async (tx) => {
            const [row] = await tx.query<Row>(
                `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, last_status = NULL,
                    delivered_at = NULL, updated_at = now()
                 WHERE environment_id = $1 AND id = $2 AND status <> 'pending' RETURNING ${columns}`,
                [environmentId, id]
            );
            if (row) await tx.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'replayed']);
            return row && toDelivery(row);
        });
    }
}
