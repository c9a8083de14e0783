import { randomUUID } from 'node:crypto';
import type { KindDeps } from '../deps.ts';
import type { Connection } from '../../connections/store.ts';
import type { Environment } from '../../environments/environments.ts';
import type { RunResult } from '../../functions/runtime/types.ts';
import type { DeployedFunction } from '../../functions/store.ts';
import { jsonBytes, type ActionRunView, type StartedRun } from '../store.ts';
import { ACTION_QUEUE } from '../../functions/queue.ts';
import { runScript, type RunPolicy } from '../run.ts';

/** The `async_action` webhook (docs/compatibility.md, "Webhooks"): the app reads the outcome from its status URL. */
export function asyncActionPayload(connection: Pick<Connection, 'connectionId' | 'providerConfigKey'>, uuid: string): object {
    return {
        from: 'nango',
        type: 'async_action',
        connectionId: connection.connectionId,
        providerConfigKey: connection.providerConfigKey,
        payload: { id: uuid, statusUrl: `/action/${uuid}` }
    };
}

function actionPolicy(connection: Connection, uuid: string | undefined): RunPolicy {
    return {
        // Sent once, with the final outcome (after the retries); a synchronous action answers its caller instead.
        webhooks: () => (uuid ? [asyncActionPayload(connection, uuid)] : []),
        keepsOutput: uuid !== undefined,
        logOutcome(log, o) {
            if (o.failure) log.info({ durationMs: o.durationMs, status: o.status, error: o.failure }, 'action run failed');
            else log.debug({ durationMs: o.durationMs }, 'action run finished');
        }
    };
}

/** A queued asynchronous action: its public uuid (the job format is unchanged since action_runs). */
export interface ActionJob {
    id: string;
}

/** One action run, now (no uuid) or from the queue (its uuid, its retries): the same script run either way. */
async function execute(
    d: KindDeps,
    row: StartedRun,
    r: { env: Environment; connection: Connection; fn: DeployedFunction; input: unknown; uuid?: string; signal?: AbortSignal }
): Promise<RunResult> {
    const o = await runScript(d, {
        row,
        kind: 'action',
        fn: r.fn,
        env: r.env,
        connection: r.connection,
        input: r.input,
        timeoutMs: d.timeouts.actionMs,
        retries: row.maxRetries,
        checkpointKey: `action:${r.fn.name}`,
        ...(r.signal ? { signal: r.signal } : {}),
        log: d.log.child({ action: r.fn.name, runId: row.id }),
        policy: actionPolicy(r.connection, r.uuid)
    });
    return o.result;
}

/** Runs an action now and returns its result (POST /action/trigger without X-Async). */
export async function runAction(
    d: KindDeps,
    env: Environment,
    connection: Connection,
    fn: DeployedFunction,
    input: unknown,
    signal?: AbortSignal
): Promise<RunResult> {
    const row = await d.runs.startInline({
        kind: 'action',
        environmentId: env.id,
        connectionDbId: connection.id,
        functionId: fn.id,
        inputBytes: jsonBytes(input)
    });
    return execute(d, row, { env, connection, fn, input, ...(signal ? { signal } : {}) });
}

/** Queues an asynchronous action (X-Async): a run to read the outcome from, and a job, in one transaction. */
export async function queueAction(
    d: KindDeps,
    env: Environment,
    connection: Connection,
    fn: DeployedFunction,
    input: unknown,
    maxRetries: number
): Promise<string> {
    const uuid = randomUUID();
    await d.db.transaction(async (tx) => {
        await d.runs.queueAction(tx, { uuid, environmentId: env.id, connectionDbId: connection.id, functionId: fn.id, input, maxRetries });
        const job: ActionJob = { id: uuid };
        await d.queue.send(tx, ACTION_QUEUE, job);
    });
    return uuid;
}

export function actionRun(d: Pick<KindDeps, 'runs'>, environmentId: number, uuid: string): Promise<ActionRunView | undefined> {
    return d.runs.action(environmentId, uuid);
}

/**
 * Worker side of an async action. Failed attempts are retried within the run, up to the X-Max-Retries the caller
 * asked for, with a growing pause; the `async_action` webhook goes out once, with the final outcome.
 */
export async function executeAsyncAction(d: KindDeps, job: ActionJob): Promise<void> {
    const row = await d.runs.start({ uuid: job.id });
    if (row?.kind !== 'action') return;
    const connection = row.connectionDbId === null ? undefined : await d.connections.getById(row.connectionDbId);
    const fn = row.functionId === null ? undefined : await d.functions.byId(row.functionId);
    const env = connection && (await d.environments.byId(connection.environmentId));
    if (!connection || !fn || !env) {
        await d.db.transaction((tx) =>
            d.runs.finish(tx, row.id, { status: 'ERROR', error: { type: 'action_not_found', message: 'The action or its connection was deleted' } })
        );
        return;
    }
    await execute(d, row, { env, connection, fn, input: row.input ?? undefined, uuid: job.id });
}
