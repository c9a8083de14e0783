// A summary of each provider webhook received for a known integration, for the dashboard's Webhooks page
// (docs/dashboard.md): who sent what and what became of it. Never the payload, its headers or the signature.
import type { Queryable, Db } from '../../storage/db.ts';

/** How long the summaries are kept; the background pass deletes older ones. */
export const INBOUND_WEBHOOK_RETENTION_DAYS = 7;

export interface InboundSummary {
    environmentId: number;
    integrationId: number;
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

export async function purgeInboundWebhooks(db: Db): Promise<number> {
    const rows = await db.query(`DELETE FROM inbound_webhooks WHERE received_at < now() - make_interval(days => $1) RETURNING id`, [
        INBOUND_WEBHOOK_RETENTION_DAYS
    ]);
    return rows.length;
}
