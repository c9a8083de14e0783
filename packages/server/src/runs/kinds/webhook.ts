/**
 * onWebhook runs (docs/scripts-compatibility.md, "Entry points" and "Run kinds"): a provider webhook that routes to a connection runs the
 * `onWebhook` handler of every deployed sync of that integration whose `webhookSubscriptions` name the event,
 * with the sync's `nango` object on the base sync: records into its models, checkpoints under `webhook:<name>`.
 *
 * Queued with the inbound request's transaction (a run of kind `webhook` plus a pg-boss job), so the provider is
 * answered at once and a crash loses nothing; a finished run sends the `sync` webhook per changed model with
 * `syncType: "WEBHOOK"`, or a `success: false` one, and leaves its outcome in its run row and the audit trail.
 * The schedule is never touched: no `running_job_id`, no `lastSyncDate`, not the latest run of /sync/status.
 */
import type { KindDeps } from '../deps.ts';
import type { Queryable } from '../../storage/db.ts';
import type { ConnectionSummary } from '../../connections/store.ts';
import type { StartedRun } from '../store.ts';
import { webhookCheckpointKey } from '../../functions/keys.ts';
import { syncFailurePayload, syncSuccessPayloads } from '../../functions/payloads.ts';
import { WEBHOOK_QUEUE } from '../../functions/queue.ts';
import { WEBHOOK_JOB } from '../../functions/syncs.ts';
import { runScript, type RunPolicy } from '../run.ts';
import { loadSyncRun, type SyncRunContext } from './sync.ts';

/** A queued webhook run: its run row, the event type it matched, and the provider's payload. */
export interface WebhookRunJob {
    jobId: number;
    event: string;
    payload: unknown;
}

/**
 * Whether a sync subscribed to an event. Nango compares the event type to each subscription for equality;
 * Switchboard also takes `*` as every event of the provider.
 */
export function subscribes(subscriptions: string[], event: string): boolean {
    return subscriptions.includes(event) || subscriptions.includes('*');
}

/**
 * Queues one run per (routed connection, subscribed sync) in the caller's transaction. A paused schedule still
 * runs its handler, as in Nango (its webhook trigger does not look at the schedule). Returns the runs queued.
 */
export async function queueWebhookRuns(
    d: Pick<KindDeps, 'syncs' | 'queue'>,
    tx: Queryable,
    r: { integrationId: number; connections: ConnectionSummary[]; event: string | undefined; payload: unknown }
): Promise<number> {
    if (!r.event || !r.connections.length) return 0;
    const event = r.event;
    const targets = await d.syncs.webhookTargets(
        tx,
        r.integrationId,
        r.connections.map((c) => c.id)
    );
    let queued = 0;
    for (const t of targets.filter((x) => subscribes(x.webhookSubscriptions, event))) {
        const jobId = await d.syncs.queueWebhookJob(tx, t.syncId);
        const job: WebhookRunJob = { jobId, event, payload: r.payload };
        await d.queue.send(tx, WEBHOOK_QUEUE, job);
        queued++;
    }
    return queued;
}

function webhookPolicy(c: SyncRunContext, row: StartedRun, event: string): RunPolicy {
    return {
        webhooks(o) {
            const base = { connection: c.connection, sync: c.sync, syncType: WEBHOOK_JOB, startedAt: row.startedAt };
            return o.result.ok ? syncSuccessPayloads(base, o.counts, c.sync.models) : [syncFailurePayload(base, o.result.error)];
        },
        logOutcome(log, o) {
            if (o.status === 'STOPPED') log.info({ durationMs: o.durationMs, counts: o.counts, error: o.failure }, 'webhook run stopped');
            else if (o.failure) log.warn({ durationMs: o.durationMs, error: o.failure }, 'webhook run failed');
            else log.info({ durationMs: o.durationMs, counts: o.counts, status: o.status }, 'webhook run finished');
        },
        audit(o) {
            return {
                kind: 'webhook-run',
                detail: {
                    sync: c.sync.name,
                    event,
                    sync_job_id: row.id,
                    duration_ms: o.durationMs,
                    result: o.counts,
                    ...(o.failure ? { error: o.failure } : {})
                }
            };
        }
    };
}

/** Worker side: runs the handler, then records the outcome and queues the app's `sync` webhooks in one transaction. */
export async function executeWebhookRun(d: KindDeps, data: WebhookRunJob): Promise<void> {
    const row = await d.runs.start(data.jobId);
    if (row?.kind !== 'webhook') return;
    const c = await loadSyncRun(d, row);
    if (!c) return;
    const { sync } = c;
    await runScript(d, {
        row,
        kind: 'webhook',
        fn: c.fn,
        env: c.env,
        connection: c.connection,
        input: data.payload,
        timeoutMs: d.timeouts.webhookMs,
        checkpointKey: webhookCheckpointKey(sync.name, sync.variant),
        sync: { syncId: sync.id, jobId: data.jobId, variant: sync.variant, models: sync.models, lastSyncDate: sync.lastSyncDate },
        log: d.log.child({ sync: sync.name, syncJobId: data.jobId, webhookEvent: data.event }),
        policy: webhookPolicy(c, row, data.event)
    });
}
