/**
 * On-event scripts (`createOnEvent`, docs/scripts-compatibility.md, "Entry points"): run at a connection's lifecycle points (before a
 * Connect flow stores it, after it is created, before it is deleted) with the connection's own `nango` object
 * (proxy with its credentials, metadata, checkpoints under `on-event:<name>`).
 * Every run is bounded by SWITCHBOARD_ON_EVENT_TIMEOUT_MS (Nango: 5 min; docs/scripts-compatibility.md, "Limits and timeouts"), never retried, and leaves a
 * log line and an `on-event` row in the audit trail (GET /admin/audit), which outlives a deleted connection.
 */
import { randomUUID } from 'node:crypto';
import type { Services } from '../services.ts';
import type { Queryable } from '../storage/db.ts';
import type { Connection } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { Logger } from '../log/logger.ts';
import type { RunResult, ScriptError } from './runtime/types.ts';
import { auditRun, loggedError } from './run-audit.ts';
import type { DeployedFunction, OnEventName } from './store.ts';
import { RunHost, type PendingConnection } from './host.ts';
import { runProps } from './run-props.ts';
import { ON_EVENT_QUEUE } from './queue.ts';

/** A queued post-connection-creation run: ids only, read again when it runs. */
export interface OnEventJob {
    functionId: number;
    connectionId: number;
}

/**
 * Queues one job per post-connection-creation script of the connection's integration, through the transaction
 * that created the connection: the jobs exist exactly when the connection does, and survive a crash.
 */
export async function queuePostConnectionCreation(s: Services, tx: Queryable, connection: Connection): Promise<void> {
    for (const fn of await s.functions.onEvent(connection.integrationId, 'post-connection-creation', tx)) {
        const job: OnEventJob = { functionId: fn.id, connectionId: connection.id };
        await s.scheduler.queue.send(tx, ON_EVENT_QUEUE, job);
    }
}

/** Worker side of a queued post-connection-creation run. A connection or script gone since is skipped. */
export async function executePostConnectionCreation(s: Services, job: OnEventJob): Promise<void> {
    const connection = await s.connections.getById(job.connectionId);
    const fn = await s.functions.byId(job.functionId);
    const env = connection && (await s.environments.byId(connection.environmentId));
    if (!connection || !env || !fn || fn.type !== 'on-event' || fn.config.event !== 'post-connection-creation' || fn.integrationId !== connection.integrationId) {
        s.log.info({ ...job, event: 'post-connection-creation' }, 'on-event script skipped: its connection or script no longer exists');
        return;
    }
    await runOnEvent(s, env, connection, fn, 'post-connection-creation', Date.now() + s.config.functions.onEventTimeoutMs);
}

/**
 * Runs the integration's pre-connection-deletion scripts, one after another by name, while the connection and
 * its credentials still exist. They share one deadline, so the DELETE that waits for them waits at most
 * SWITCHBOARD_ON_EVENT_TIMEOUT_MS. Outcomes are recorded, never thrown: the deletion goes ahead regardless.
 */
export async function runPreConnectionDeletion(s: Services, env: Environment, connection: Connection): Promise<number> {
    const scripts = await s.functions.onEvent(connection.integrationId, 'pre-connection-deletion');
    const deadline = Date.now() + s.config.functions.onEventTimeoutMs;
    for (const fn of scripts) await runOnEvent(s, env, connection, fn, 'pre-connection-deletion', deadline);
    return scripts.length;
}

export type Validation = { ok: true; metadata?: Record<string, unknown> | null } | { ok: false; message: string };

/**
 * Runs the integration's validate-connection scripts on a connection a Connect flow is about to store (it is
 * held in memory, with the credentials the flow obtained), one after another by name under one deadline,
 * stopping at the first failure. Metadata the scripts set is returned, to be stored with the connection.
 */
export async function runValidateConnection(s: Services, env: Environment, candidate: Connection): Promise<Validation> {
    const scripts = await s.functions.onEvent(candidate.integrationId, 'validate-connection');
    const pending: PendingConnection = { metadata: candidate.metadata, touched: false };
    const deadline = Date.now() + s.config.functions.onEventTimeoutMs;
    for (const fn of scripts) {
        const result = await runOnEvent(s, env, candidate, fn, 'validate-connection', deadline, pending);
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

/**
 * One run, stopped at `deadline` whether it is running or still waiting for a free runner process (Nango also
 * bounds the wait; docs/scripts-compatibility.md, "Limits and timeouts"), then recorded. Never throws.
 */
async function runOnEvent(
    s: Services,
    env: Environment,
    connection: Connection,
    fn: DeployedFunction,
    event: OnEventName,
    deadline: number,
    pending?: PendingConnection
): Promise<RunResult> {
    const started = Date.now();
    const log = s.log.child({ onEvent: fn.name, event, connection: connection.uuid || null, providerConfigKey: connection.providerConfigKey, connectionId: connection.connectionId });
    const limitMs = s.config.functions.onEventTimeoutMs;
    const timedOut: RunResult = { ok: false, error: { type: 'execution_timeout', message: `The script did not finish within ${limitMs} ms (SWITCHBOARD_ON_EVENT_TIMEOUT_MS) and was stopped` } };
    const remaining = deadline - started;
    let result: RunResult = timedOut;
    if (remaining > 0) {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), remaining);
        try {
            const host = new RunHost(s, { env, connection, checkpointKey: `on-event:${fn.name}`, log, signal: abort.signal, ...(pending ? { pending } : {}) });
            const props = runProps(s, { env, connection, fn, kind: 'on-event' });
            result = await s.runner.run({ runId: `on-event-${randomUUID()}`, kind: 'on-event', code: await s.functions.code(fn), props, timeoutMs: remaining }, host, abort.signal);
        } catch (err) {
            result = { ok: false, error: { type: 'script_internal_error', message: (err as Error).message } };
        } finally {
            clearTimeout(timer);
        }
        // Our deadline aborts the run (or its wait for a runner): report it as the timeout it is.
        if (!result.ok && abort.signal.aborted && result.error.type === 'script_aborted') result = timedOut;
    }
    await record(s, log, connection, fn, event, result, Date.now() - started);
    return result;
}

/** A log line (info on success, warn with the error on failure) and an audit row. */
async function record(s: Services, log: Logger, connection: Connection, fn: DeployedFunction, event: OnEventName, result: RunResult, durationMs: number): Promise<void> {
    const error = result.ok ? undefined : loggedError(result.error);
    if (error) log.warn({ durationMs, error }, 'on-event script failed');
    else log.info({ durationMs }, 'on-event script succeeded');
    await auditRun(s, log, connection, { kind: 'on-event', outcome: error ? 'failure' : 'success', detail: { event, script: fn.name, duration_ms: durationMs, ...(error ? { error } : {}) } });
}
