import { randomUUID } from 'node:crypto';
import type { Services } from '../services.ts';
import type { Connection } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { RunResult } from './runtime/types.ts';
import type { DeployedFunction } from './store.ts';
import { RunHost } from './host.ts';
import { runProps } from './run-props.ts';
import { ACTION_QUEUE } from './queue.ts';

/** Runs an action now and returns its result (POST /action/trigger without X-Async). */
export async function runAction(s: Services, env: Environment, connection: Connection, fn: DeployedFunction, input: unknown, signal?: AbortSignal): Promise<RunResult> {
    const abort = new AbortController();
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    const host = new RunHost(s, { env, connection, checkpointKey: `action:${fn.name}`, log: s.log.child({ action: fn.name }), signal: abort.signal });
    return s.runner.run(
        { runId: `action-${randomUUID()}`, kind: 'action', code: await s.functions.code(fn), input, props: runProps(s, { env, connection, fn, kind: 'action' }), timeoutMs: s.config.functions.actionTimeoutMs },
        host,
        abort.signal
    );
}

/** Queues an asynchronous action (X-Async): a row to read the outcome from, and a job, in one transaction. */
export async function queueAction(s: Services, env: Environment, connection: Connection, fn: DeployedFunction, input: unknown, maxRetries: number): Promise<string> {
    const id = randomUUID();
    await s.db.transaction(async (tx) => {
        await tx.query('INSERT INTO action_runs (id, environment_id, connection_id, function_id, status, input, max_retries) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
            id,
            env.id,
            connection.id,
            fn.id,
            'QUEUED',
            JSON.stringify(input ?? null),
            maxRetries
        ]);
        await s.scheduler.queue.send(tx, ACTION_QUEUE, { id });
    });
    return id;
}

export interface ActionRunView {
    status: 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'ERROR';
    output: unknown;
    error: unknown;
}

export async function actionRun(s: Services, environmentId: number, id: string): Promise<ActionRunView | undefined> {
    const rows = await s.db.query<ActionRunView>('SELECT status, output, error FROM action_runs WHERE id = $1 AND environment_id = $2', [id, environmentId]);
    return rows[0];
}

/**
 * Worker side of an async action. Failed attempts are retried here, up to the X-Max-Retries the caller asked
 * for, with a growing pause; the `async_action` webhook goes out once, with the final outcome.
 */
export async function executeAsyncAction(s: Services, id: string): Promise<void> {
    const rows = await s.db.query<{ connection_id: number; function_id: number; input: unknown; max_retries: number; status: string }>(
        `UPDATE action_runs SET status = 'RUNNING', attempts = attempts + 1 WHERE id = $1 AND status = 'QUEUED' RETURNING connection_id, function_id, input, max_retries, status`,
        [id]
    );
    const run = rows[0];
    if (!run) return;
    const connection = await s.connections.getById(run.connection_id);
    const fn = await s.functions.byId(run.function_id);
    const env = connection && (await s.environments.byId(connection.environmentId));
    let result: RunResult = { ok: false, error: { type: 'action_not_found', message: 'The action or its connection was deleted' } };
    if (connection && fn && env) {
        for (let attempt = 0; ; attempt++) {
            result = await runAction(s, env, connection, fn, run.input ?? undefined);
            if (result.ok || attempt >= run.max_retries) break;
            await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 30_000)));
        }
    }
    await s.db.transaction(async (tx) => {
        await tx.query('UPDATE action_runs SET status = $2, output = $3, error = $4, finished_at = now() WHERE id = $1', [
            id,
            result.ok ? 'SUCCESS' : 'ERROR',
            result.ok ? JSON.stringify(result.output ?? null) : null,
            result.ok ? null : JSON.stringify(result.error)
        ]);
        if (connection && env) {
            await s.webhooks.enqueueEvent(tx, {
                environmentId: env.id,
                connection,
                payload: { from: 'nango', type: 'async_action', connectionId: connection.connectionId, providerConfigKey: connection.providerConfigKey, payload: { id, statusUrl: `/action/${id}` } }
            });
        }
    });
}
