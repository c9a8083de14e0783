/**
 * The one lifecycle of a script run, whatever its kind (sync, onWebhook, action, on-event): host and props, the
 * runner call with its abort and timeout, the heartbeat that keeps the run from being reaped, the row that ends
 * it, the app's webhooks in the same transaction, then a log line and the audit trail. Each kind brings a small
 * policy (runs/kinds/) for what differs: its webhooks, its audit entry, its log lines.
 */
import type { Db, Queryable } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Connection } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { Webhooks } from '../webhooks/service.ts';
import type { RunnerPool } from '../functions/runtime/pool.ts';
import type { RunResult, ScriptError, ScriptKind } from '../functions/runtime/types.ts';
import type { DeployedFunction, FunctionStore } from '../functions/store.ts';
import type { ModelCounts } from '../functions/syncs.ts';
import { RunHost, type HostDeps, type PendingConnection, type SyncRunContext } from '../functions/host.ts';
import { runProps, type PropsDeps } from '../functions/run-props.ts';
import { auditRun, loggedError, type AuditDeps, type LoggedScriptError } from '../functions/run-audit.ts';
import { jsonBytes, type EndStatus, type RunStore, type StartedRun } from './store.ts';
import { backoffMs, sleep } from '../egress/retry.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** What the run lifecycle uses, by name. */
export interface RunDeps {
    db: Db;
    log: Logger;
    runner: Pick<RunnerPool, 'run'>;
    runs: RunStore;
    functions: Pick<FunctionStore, 'code'>;
    webhooks: Pick<Webhooks, 'enqueueEvent'>;
    host: HostDeps;
    props: PropsDeps;
    audit: AuditDeps;
    /** A run whose heartbeat is older than this is given up as lost by any instance. */
    lostAfterMs: number;
    /** Records each run that ended (issue #16 item 2). */
    metrics: Pick<Metrics, 'scriptRuns'>;
}

/** How a run ended, as its policy sees it. */
export interface RunOutcome {
    result: RunResult;
    status: EndStatus;
    /** Records written, per model (syncs and webhook runs). */
    counts: ModelCounts;
    /** The script error as logs and the audit trail keep it. */
    failure: LoggedScriptError | undefined;
    durationMs: number;
}

/** What differs between kinds: a handful of hooks, each optional. */
export interface RunPolicy {
    /**
     * Writes in the ending transaction, before the row ends (a sync's deprecated track_deletes); undefined when this
     * outcome has none.
     */
    beforeFinish?(result: RunResult, counts: ModelCounts): ((tx: Queryable) => Promise<void>) | undefined;
    /** The app's webhooks for a run that ended (not stopped), queued in the transaction that ends it. */
    webhooks?(o: RunOutcome): object[];
    /** The error reported when the run's own deadline stopped it (instead of the runner's `script_aborted`). */
    deadlineError?: ScriptError;
    /**
     * Whether the run's row keeps the script's output (an async action's status URL serves it). Otherwise the output
     * only goes back to the caller: it may hold what the provider returned, and rows are plaintext.
     */
    keepsOutput?: boolean;
    /** The log line of the outcome. */
    logOutcome(log: Logger, o: RunOutcome): void;
    /** The connection's audit-trail entry, if this kind keeps one (its outcome is added from the run's status). */
    audit?(o: RunOutcome): { kind: string; detail: Record<string, unknown> };
}

export interface ScriptRun {
    row: StartedRun;
    kind: ScriptKind;
    fn: DeployedFunction;
    env: Environment;
    connection: Connection;
    input?: unknown;
    /** The runner's limit for one attempt. */
    timeoutMs: number;
    /** An absolute end, waiting for a free runner included (on-event scripts share one per lifecycle point). */
    deadline?: number;
    checkpointKey: string;
    sync?: SyncRunContext & { lastSyncDate: Date | null };
    pending?: PendingConnection;
    /** The caller gave up (an HTTP client that hung up). */
    signal?: AbortSignal;
    /** Attempts after a failed one (X-Max-Retries of an async action), with a growing pause between. */
    retries?: number;
    log: Logger;
    policy: RunPolicy;
}

// A run proves it is alive well within the time after which other instances give it up as lost.
const heartbeatMs = (lostAfterMs: number) => Math.max(250, Math.min(10_000, Math.floor(lostAfterMs / 4)));

/**
 * Beats for a run until cleared: the beat proves it alive, so no instance gives it up as worker_lost, and aborts
 * it once its row ended or is gone (stopped, its sync removed by a redeploy, its connection deleted).
 */
function startHeartbeat(d: RunDeps, id: number, host: RunHost, abort: AbortController, log: Logger): NodeJS.Timeout {
    return setInterval(() => {
        d.runs
            .heartbeat(id, host.counts)
            .then((alive) => {
                if (!alive) abort.abort();
            })
            .catch((err: unknown) => log.warn({ err, runId: id }, 'run heartbeat failed'));
    }, heartbeatMs(d.lostAfterMs));
}

/** Runs the script (with its retries) under one heartbeat; never throws. */
async function execute(d: RunDeps, r: ScriptRun, host: RunHost, abort: AbortController): Promise<RunResult> {
    if (abort.signal.aborted) return { ok: false, error: { type: 'script_aborted', message: 'The script was aborted before it started' } };
    const props = runProps(d.props, {
        env: r.env,
        connection: r.connection,
        fn: r.fn,
        kind: r.kind,
        ...(r.sync
            ? { sync: { id: r.sync.syncId, jobId: r.sync.jobId, variant: r.sync.variant, models: r.sync.models, lastSyncDate: r.sync.lastSyncDate } }
            : {})
    });
    let result: RunResult;
    for (let attempt = 0; ; attempt++) {
        try {
            const timeoutMs = r.deadline === undefined ? r.timeoutMs : Math.min(r.timeoutMs, r.deadline - Date.now());
            result = await d.runner.run(
                { runId: `${r.kind}-${r.row.id}`, kind: r.kind, code: await d.functions.code(r.fn), input: r.input, props, timeoutMs },
                host,
                abort.signal
            );
        } catch (err) {
            // The bundle could not be read, or the host failed outside a script call: the run ends, it is not lost.
            result = { ok: false, error: { type: 'script_internal_error', message: (err as Error).message } };
        }
        if (result.ok || attempt >= (r.retries ?? 0) || abort.signal.aborted) return result;
        // Async actions' X-Max-Retries: 1 s, doubling, at most 30 s; an abort ends the wait (and the next attempt).
        await sleep(backoffMs(attempt, { baseMs: 1000, maxMs: 30_000 }), { signal: abort.signal });
    }
}

/** Runs one started run to its end and records it. Never throws. */
export async function runScript(d: RunDeps, r: ScriptRun): Promise<RunOutcome> {
    const started = Date.now();
    const abort = new AbortController();
    const onCallerAbort = () => abort.abort();
    r.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let deadlineHit = false;
    const onDeadline = () => {
        deadlineHit = true;
        abort.abort();
    };
    if (r.deadline !== undefined && r.deadline <= started) onDeadline();
    const deadlineTimer = r.deadline === undefined || deadlineHit ? undefined : setTimeout(onDeadline, r.deadline - started);
    const host = new RunHost(d.host, {
        env: r.env,
        connection: r.connection,
        checkpointKey: r.checkpointKey,
        log: r.log,
        signal: abort.signal,
        ...(r.sync ? { sync: r.sync } : {}),
        ...(r.pending ? { pending: r.pending } : {})
    });
    const beat = startHeartbeat(d, r.row.id, host, abort, r.log);
    let result: RunResult;
    try {
        result = await execute(d, r, host, abort);
    } finally {
        clearInterval(beat);
        clearTimeout(deadlineTimer);
        r.signal?.removeEventListener('abort', onCallerAbort);
    }
    // Our deadline aborts the run (or its wait for a runner): report it as the timeout it is.
    if (deadlineHit && !result.ok && result.error.type === 'script_aborted' && r.policy.deadlineError) result = { ok: false, error: r.policy.deadlineError };
    const counts = host.counts;
    if (!result.ok && result.notStarted && r.kind === 'sync' && !abort.signal.aborted) {
        const requeued = await d.runs.requeue(r.row.id).catch((err: unknown) => {
            r.log.error({ err, runId: r.row.id }, 'could not put the sync run back in the queue');
            return false;
        });
        if (requeued) {
            r.log.info({ runId: r.row.id }, 'sync run put back in the queue: the server stopped before its script started');
            return { result, status: 'STOPPED', counts, failure: undefined, durationMs: Date.now() - started };
        }
    }
    const error: ScriptError | undefined = result.ok ? undefined : result.error;
    let status: EndStatus = result.ok ? 'SUCCESS' : abort.signal.aborted && !deadlineHit ? 'STOPPED' : 'ERROR';
    const outcome = (s: EndStatus): RunOutcome => ({ result, status: s, counts, failure: error && loggedError(error), durationMs: Date.now() - started });
    const before = r.policy.beforeFinish?.(result, counts);
    const payloads = status === 'STOPPED' ? [] : (r.policy.webhooks?.(outcome(status)) ?? []);
    const end = {
        status,
        result: counts,
        output: result.ok && r.policy.keepsOutput ? (result.output ?? null) : undefined,
        outputBytes: result.ok && r.kind === 'action' ? jsonBytes(result.output) : null,
        uuid: r.row.uuid,
        error
    };
    // With nothing else to write, the ending needs no transaction of its own: it is written in one statement with
    // the other runs ending at the same moment (the usual scheduled sync: a share of one round trip instead of four).
    const ending =
        !before && payloads.length === 0
            ? d.runs.finishSoon(r.row.id, end)
            : d.db.transaction(async (tx) => {
                  await before?.(tx);
                  const ended = await d.runs.finish(tx, r.row.id, end);
                  if (!ended) return ended;
                  for (const payload of payloads) await d.webhooks.enqueueEvent(tx, { environmentId: r.env.id, connection: r.connection, payload });
                  return true;
              });
    const finished = await ending.catch((err: unknown) => {
        // The row stays running and the reaper ends it (worker_lost) once its heartbeat is old.
        r.log.error({ err, runId: r.row.id }, 'could not record the end of the run');
        return undefined;
    });
    // A row already ended or deleted (its sync removed by a redeploy, given up as lost) was stopped, whatever the
    // script saw: usually its next write refused by the fence (sync_run_stopped) before a heartbeat noticed.
    if (finished === false) status = 'STOPPED';
    const o = outcome(status);
    d.metrics.scriptRuns.observe({ kind: r.kind, outcome: status.toLowerCase() }, o.durationMs / 1000);
    r.policy.logOutcome(r.log, o);
    const entry = r.policy.audit?.(o);
    if (entry) await auditRun(d.audit, r.log, r.connection, { ...entry, outcome: auditOutcome(o.status) });
    return o;
}

/** `success` / `failure` / `stopped`, as the audit trail words an outcome. */
export function auditOutcome(status: EndStatus): string {
    return status === 'SUCCESS' ? 'success' : status === 'STOPPED' ? 'stopped' : 'failure';
}
