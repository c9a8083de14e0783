/**
 * onWebhook runs (docs/scripts-compatibility.md, "Entry points" and "Run kinds"): a provider webhook that routes to a connection runs the
 * `onWebhook` handler of every deployed sync of that integration whose `webhookSubscriptions` name the event,
 * with the sync's `nango` object on the base sync: records into its models, checkpoints under `webhook:<name>`.
 *
 * Queued with the inbound request's transaction (a sync_jobs row of type WEBHOOK plus a pg-boss job), so the
 * provider is answered at once and a crash loses nothing; a finished run sends the `sync` webhook per changed
 * model with `syncType: "WEBHOOK"`, or a `success: false` one, and leaves its outcome in sync_jobs and the audit
 * trail. The schedule is never touched: no `running_job_id`, no `lastSyncDate`, not the latest run of /sync/status.
 */
import type { Services } from '../services.ts';
import type { Queryable } from '../storage/db.ts';
import type { ConnectionSummary } from '../connections/store.ts';
import type { ScriptError } from './runtime/types.ts';
import { RunHost } from './host.ts';
import { runProps } from './run-props.ts';
import { webhookCheckpointKey } from './keys.ts';
import { syncFailurePayload, syncSuccessPayloads } from './payloads.ts';
import { startHeartbeat } from './sync-execution.ts';
import { WEBHOOK_QUEUE } from './queue.ts';
import { WEBHOOK_JOB } from './syncs.ts';
import { auditRun, loggedError } from './run-audit.ts';

/** A queued webhook run: its sync_jobs row, the event type it matched, and the provider's payload. */
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
    s: Services,
    tx: Queryable,
    r: { integrationId: number; connections: ConnectionSummary[]; event: string | undefined; payload: unknown }
): Promise<number> {
    if (!r.event || !r.connections.length) return 0;
    const event = r.event;
    const targets = await s.syncs.webhookTargets(
        tx,
        r.integrationId,
        r.connections.map((c) => c.id)
    );
    let queued = 0;
    for (const t of targets.filter((x) => subscribes(x.webhookSubscriptions, event))) {
        const jobId = await s.syncs.queueWebhookJob(tx, t.syncId);
        const job: WebhookRunJob = { jobId, event, payload: r.payload };
        await s.scheduler.queue.send(tx, WEBHOOK_QUEUE, job);
        queued++;
    }
    return queued;
}

/** Worker side: runs the handler, then records the outcome and queues the app's `sync` webhooks in one transaction. */
export async function executeWebhookRun(s: Services, data: WebhookRunJob): Promise<void> {
    const job = await s.syncs.startJob(data.jobId);
    if (!job || job.type !== WEBHOOK_JOB) return;
    const sync = await s.syncs.byId(job.syncId);
    const fn = sync && (await s.functions.byId(sync.functionId));
    const connection = fn && (await s.connections.getById(sync.connectionDbId));
    const env = connection && (await s.environments.byId(connection.environmentId));
    const log = s.log.child({ sync: sync?.name, syncJobId: data.jobId, webhookEvent: data.event });
    if (!sync || !fn || !connection || !env) {
        await s.db.transaction((tx) =>
            s.syncs.finishJob(tx, data.jobId, { status: 'ERROR', result: {}, error: { type: 'sync_not_found', message: 'The sync or its connection was deleted' }, startedAt: job.startedAt })
        );
        return;
    }
    const started = Date.now();
    const abort = new AbortController();
    const syncCtx = { syncId: sync.id, jobId: data.jobId, variant: sync.variant, models: sync.models };
    const host = new RunHost(s, { env, connection, checkpointKey: webhookCheckpointKey(sync.name, sync.variant), sync: syncCtx, log, signal: abort.signal });
    const beat = startHeartbeat(s, data.jobId, host, abort, log);
    let result;
    try {
        result = await s.runner.run(
            {
                runId: `webhook-${data.jobId}`,
                kind: 'webhook',
                code: await s.functions.code(fn),
                input: data.payload,
                props: runProps(s, { env, connection, fn, kind: 'webhook', sync: { id: sync.id, jobId: data.jobId, variant: sync.variant, models: sync.models, lastSyncDate: sync.lastSyncDate } }),
                timeoutMs: s.config.functions.webhookRunTimeoutMs
            },
            host,
            abort.signal
        );
    } catch (err) {
        result = { ok: false as const, error: { type: 'script_internal_error', message: (err as Error).message } };
    } finally {
        clearInterval(beat);
    }
    const counts = host.counts;
    const ended = result.ok ? 'SUCCESS' : abort.signal.aborted ? 'STOPPED' : 'ERROR';
    const error: ScriptError | undefined = result.ok ? undefined : result.error;
    const finished = await s.db.transaction(async (tx) => {
        if (!(await s.syncs.finishJob(tx, data.jobId, { status: ended, result: counts, error, startedAt: job.startedAt }))) return false;
        if (ended === 'STOPPED') return true;
        const base = { connection, sync, syncType: WEBHOOK_JOB, startedAt: job.startedAt };
        const payloads = result.ok ? syncSuccessPayloads(base, counts, sync.models) : [syncFailurePayload(base, error!)];
        for (const payload of payloads) await s.webhooks.enqueueEvent(tx, { environmentId: env.id, connection, payload });
        return true;
    });
    // A job already ended or deleted (its sync removed by a redeploy, given up as lost) was stopped, whatever the
    // handler saw: usually its next write refused by the fence (sync_run_stopped) before a heartbeat noticed.
    const status = finished ? ended : 'STOPPED';
    const durationMs = Date.now() - started;
    const failure = error && loggedError(error);
    if (status === 'STOPPED') log.info({ durationMs, counts, error: failure }, 'webhook run stopped');
    else if (failure) log.warn({ durationMs, error: failure }, 'webhook run failed');
    else log.info({ durationMs, counts, status }, 'webhook run finished');
    await auditRun(s, log, connection, {
        kind: 'webhook-run',
        outcome: status === 'SUCCESS' ? 'success' : status === 'STOPPED' ? 'stopped' : 'failure',
        detail: { sync: sync.name, event: data.event, sync_job_id: data.jobId, duration_ms: durationMs, result: counts, ...(failure ? { error: failure } : {}) }
    });
}
