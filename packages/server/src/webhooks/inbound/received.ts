// A summary of each provider webhook received for a known integration, for the dashboard's Webhooks page
// (docs/dashboard.md): who sent what and what became of it. Never the payload, its headers or the signature.
import type { Queryable, Db } from '../../storage/db.ts';

/** How long the summaries are kept; the background pass deletes older ones. */
export const INBOUND_WEBHOOK_RETENTION_DAYS = 7;
/** At most this many summaries per environment, the newest. */
export const INBOUND_WEBHOOK_KEEP = 10_000;

export interface InboundSummary {
    environmentId: number;
    integrationId: number | null;
    providerConfigKey: string;
    provider: string;
    event?: string | undefined;
    outcome: 'routed' | 'answered' | 'refused';
    reason?: string | undefined;
    connections?: number;
    runs?: number;
    forwards?: number;
    bodyBytes: number;
}

export async function recordInbound(q: Queryable, r: InboundSummary): Promise<void> {
    await q.query(
        `INSERT INTO inbound_webhooks (environment_id, integration_id, provider_config_key, provider, event, outcome, reason, connections, runs, forwards, body_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
            r.environmentId,
            r.integrationId,
            r.providerConfigKey,
            r.provider,
            r.event?.slice(0, 255) ?? null,
            r.outcome,
            r.reason ?? null,
            r.connections ?? 0,
            r.runs ?? 0,
            r.forwards ?? 0,
            r.bodyBytes
        ]
    );
}

/**
 * A stored summary as the dashboard lists it: the JSON of one entry of GET /dashboard/api/inbound-webhooks, in
 * its key order (the columns' order below).
 */
export interface InboundWebhook {
    id: number;
    provider_config_key: string;
    provider: string;
    event: string | null;
    outcome: InboundSummary['outcome'];
    reason: string | null;
    connections: number;
    runs: number;
    forwards: number;
    body_bytes: number;
    received_at: string;
}

/** An environment's summaries, newest first: `before` is the id of the last one of the previous page. */
export async function listInboundWebhooks(
    q: Queryable,
    environmentId: number,
    f: { integration?: string | undefined; outcome?: InboundSummary['outcome'] | undefined; before?: number | undefined; limit: number }
): Promise<InboundWebhook[]> {
    const rows = await q.query<Omit<InboundWebhook, 'id' | 'received_at'> & { id: string; received_at: Date }>(
        `SELECT id::text AS id, provider_config_key, provider, event, outcome, reason, connections, runs, forwards, body_bytes, received_at
         FROM inbound_webhooks
         WHERE environment_id = $1 AND ($2::text IS NULL OR provider_config_key = $2) AND ($3::text IS NULL OR outcome = $3)
           AND ($4::bigint IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5`,
        [environmentId, f.integration ?? null, f.outcome ?? null, f.before ?? null, f.limit]
    );
    // A row's keys come in the columns' order; id and received_at keep their places as they are replaced.
    return rows.map((r) => ({ ...r, id: Number(r.id), received_at: new Date(r.received_at).toISOString() }));
}

/**
 * Deletes summaries older than the retention, and beyond the newest `keep` of each environment: a stranger who
 * knows an integration's URL can add refused rows, and this bounds them whatever the rate.
 */
export async function purgeInboundWebhooks(db: Db, opts: { keep?: number; days?: number } = {}): Promise<number> {
    const old = await db.query(`DELETE FROM inbound_webhooks WHERE received_at < now() - make_interval(days => $1) RETURNING id`, [
        opts.days ?? INBOUND_WEBHOOK_RETENTION_DAYS
    ]);
    const over = await db.query(
        `DELETE FROM inbound_webhooks WHERE id IN (
             SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY environment_id ORDER BY id DESC) AS n FROM inbound_webhooks) ranked
             WHERE n > $1
         ) RETURNING id`,
        [opts.keep ?? INBOUND_WEBHOOK_KEEP]
    );
    return old.length + over.length;
}
