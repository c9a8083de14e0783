/**
 * On-event scripts (`createOnEvent`, docs/scripts-compatibility.md, "Entry points"): run at a connection's lifecycle points (before a
 * Connect flow stores it, after it is created, before it is deleted) with the connection's own `nango` object
 * (proxy with its credentials, metadata, checkpoints under `on-event:<name>`).
 * Every run is bounded by SWITCHBOARD_ON_EVENT_TIMEOUT_MS (Nango: 5 min; docs/scripts-compatibility.md, "Limits and timeouts"), never retried, and leaves a
 * run row, a log line and an `on-event` row in the audit trail (GET /admin/audit), which outlives a deleted connection.
 */
import type { KindDeps } from '../deps.ts';
import type { Queryable } from '../../storage/db.ts';
import type { Connection } from '../../connections/store.ts';
import type { Environment } from '../../environments/environments.ts';
import type { RunResult, ScriptError } from '../../functions/runtime/types.ts';
import type { DeployedFunction, OnEventName } from '../../functions/store.ts';
import type { PendingConnection } from '../../functions/host.ts';
import { ON_EVENT_QUEUE } from '../../functions/queue.ts';
import { runScript, type RunPolicy } from '../run.ts';

/** A queued post-connection-creation run: ids only, read again when it runs. */
export interface OnEventJob {
    functionId: number;
    connectionId: number;
}

/**
 * Queues one job per post-connection-creation script of the connection's integration, through the transaction
 * that created the connection: the jobs exist exactly when the connection does, and survive a crash.
 */
export async function queuePostConnectionCreation(d: Pick<KindDeps, 'functions' | 'queue'>, tx: Queryable, connection: Connection): Promise<void> {
    for (const fn of await d.functions.onEvent(connection.integrationId, 'post-connection-creation', tx)) {
        const job: OnEventJob = { functionId: fn.id, connectionId: connection.id };
        await d.queue.send(tx, ON_EVENT_QUEUE, job);
    }
}

/** Worker side of a queued post-connection-creation run. A connection or script gone since is skipped. */
export async function executePostConnectionCreation(d: KindDeps, job: OnEventJob): Promise<void> {
    const connection = await d.connections.getById(job.connectionId);
    const fn = await d.functions.byId(job.functionId);
    const env = connection && (await d.environments.byId(connection.environmentId));
    if (
        !connection ||
        !env ||
        !fn ||
        fn.type !== 'on-event' ||
        fn.config.event !== 'post-connection-creation' ||
        fn.integrationId !== connection.integrationId
    ) {
        d.log.info({ ...job, event: 'post-connection-creation' }, 'on-event script skipped: its connection or script no longer exists');
        return;
    }
    await runOnEvent(d, env, connection, fn, 'post-connection-creation', Date.now() + d.timeouts.onEventMs);
}

/**
 * Runs the integration's pre-connection-deletion scripts, one after another by name, while the connection and
 * its credentials still exist. They share one deadline, so the DELETE that waits for them waits at most
 * SWITCHBOARD_ON_EVENT_TIMEOUT_MS. Outcomes are recorded, never thrown: the deletion goes ahead regardless.
 */
export async function runPreConnectionDeletion(d: KindDeps, env: Environment, connection: Connection): Promise<number> {
    const scripts = await d.functions.onEvent(connection.integrationId, 'pre-connection-deletion');
    const deadline = Date.now() + d.timeouts.onEventMs;
    for (const fn of scripts) await runOnEvent(d, env, connection, fn, 'pre-connection-deletion', deadline);
    return scripts.length;
}

export type Validation = { ok: true; metadata?: Record<string, unknown> | null } | { ok: false; message: string };

/**
 * Runs the integration's validate-connection scripts on a connection a Connect flow is about to store (it is
 * held in memory, with the credentials the flow obtained), one after another by name under one deadline,
 * stopping at the first failure. Metadata the scripts set is returned, to be stored with the connection.
 */
export async function runValidateConnection(d: KindDeps, env: Environment, candidate: Connection): Promise<Validation> {
    const scripts = await d.functions.onEvent(candidate.integrationId, 'validate-connection');
    const pending: PendingConnection = { metadata: candidate.metadata, touched: false };
    const deadline = Date.now() + d.timeouts.onEventMs;
    for (const fn of scripts) {
        const result = await runOnEvent(d, env, candidate, fn, 'validate-connection', deadline, pending);
        if (!result.ok) return { ok: false, message: rejection(result.error) };
    }
    return pending.touched ? { ok: true, metadata: pending.metadata } : { ok: true };
}

/** What the end user is told: the message an ActionError carries (as Nango reads it), or a generic one. */
function rejection(error: ScriptError): string {
    const payload = error.payload as Record<string, unknown> | undefined;
    for (const key of ['message', 'error']) {
        const v = error.type === 'action_script_runtime_error' ? payload?.[key] : undefined;
        if (typeof v === 'string' && v) return v.slice(0, 500);
    }
    return `The connection failed validation (${error.type})`;
}

function onEventPolicy(fn: DeployedFunction, event: OnEventName, limitMs: number): RunPolicy {
    return {
        deadlineError: {
            type: 'execution_timeout',
            message: `The script did not finish within ${limitMs} ms (SWITCHBOARD_ON_EVENT_TIMEOUT_MS) and was stopped`
        },
        logOutcome(log, o) {
            if (o.failure) log.warn({ durationMs: o.durationMs, error: o.failure }, 'on-event script failed');
            else log.info({ durationMs: o.durationMs }, 'on-event script succeeded');
        },
        audit: (o) => ({ kind: 'on-event', detail: { event, script: fn.name, duration_ms: o.durationMs, ...(o.failure ? { error: o.failure } : {}) } })
    };
}

/**
 * One run, stopped at `deadline` whether it is running or still waiting for a free runner process (Nango also
 * bounds the wait; docs/scripts-compatibility.md, "Limits and timeouts"), then recorded. Never throws.
 */
async function runOnEvent(
    d: KindDeps,
    env: Environment,
    connection: Connection,
    fn: DeployedFunction,
    event: OnEventName,
    deadline: number,
    pending?: PendingConnection
): Promise<RunResult> {
    const log = d.log.child({
        onEvent: fn.name,
        event,
        connection: connection.uuid || null,
        providerConfigKey: connection.providerConfigKey,
        connectionId: connection.connectionId
    });
    // A connection being validated is not stored yet: its run has no connection row.
    const row = await d.runs.startInline({ kind: 'on-event', environmentId: env.id, connectionDbId: pending ? null : connection.id, functionId: fn.id });
    const o = await runScript(d, {
        row,
        kind: 'on-event',
        fn,
        env,
        connection,
        timeoutMs: d.timeouts.onEventMs,
        deadline,
        checkpointKey: `on-event:${fn.name}`,
        ...(pending ? { pending } : {}),
        log,
        policy: onEventPolicy(fn, event, d.timeouts.onEventMs)
    });
    return o.result;
}
