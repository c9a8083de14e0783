import type { Queryable } from '../storage/db.ts';
import type { Connection, ConnectionSummary } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { RunResult } from '../functions/runtime/types.ts';
import type { DeployedFunction } from '../functions/store.ts';
import type { KindDeps } from './deps.ts';
import type { ActionRunSummary, ActionRunView, RunListFilter, StartedRun, SyncRunSummary } from './store.ts';
import { actionRun, executeAsyncAction, queueAction, runAction, type ActionJob } from './kinds/action.ts';
import {
    executePostConnectionCreation,
    queuePostConnectionCreation,
    runPreConnectionDeletion,
    runValidateConnection,
    type OnEventJob,
    type Validation
} from './kinds/on-event.ts';
import { executeSyncRuns } from './kinds/sync.ts';
import { executeWebhookRun, queueWebhookRuns, type WebhookRunJob } from './kinds/webhook.ts';
import { reapLostRuns } from './reaper.ts';

/**
 * Script runs of every kind, built once in the composition root with the dependencies they use. Routes and the
 * connection hooks start runs here; the scheduler's workers execute the queued ones.
 */
export class Runs {
    private readonly d: KindDeps;

    constructor(deps: KindDeps) {
        this.d = deps;
    }

    /** POST /action/trigger without X-Async: runs now, answers with the result. */
    runAction(env: Environment, connection: Connection, fn: DeployedFunction, input: unknown, signal?: AbortSignal): Promise<RunResult> {
        return runAction(this.d, env, connection, fn, input, signal);
    }

    /** POST /action/trigger with X-Async: returns the id GET /action/:id answers for. */
    queueAction(env: Environment, connection: Connection, fn: DeployedFunction, input: unknown, maxRetries: number): Promise<string> {
        return queueAction(this.d, env, connection, fn, input, maxRetries);
    }

    action(environmentId: number, id: string): Promise<ActionRunView | undefined> {
        return actionRun(this.d, environmentId, id);
    }

    /** An environment's sync runs, newest first (the dashboard's Runs page). */
    listSyncRuns(environmentId: number, filter: RunListFilter): Promise<SyncRunSummary[]> {
        return this.d.runs.listSyncRuns(environmentId, filter);
    }

    /** An environment's action runs, newest first (the dashboard's Runs page). */
    listActionRuns(environmentId: number, filter: RunListFilter): Promise<ActionRunSummary[]> {
        return this.d.runs.listActionRuns(environmentId, filter);
    }

    /** Asks a queued or running run to stop. */
    stop(id: number): Promise<void> {
        return this.d.runs.stop(id);
    }

    queueWebhookRuns(
        tx: Queryable,
        r: { integrationId: number; connections: ConnectionSummary[]; event: string | undefined; payload: unknown }
    ): Promise<number> {
        return queueWebhookRuns(this.d, tx, r);
    }

    validateConnection(env: Environment, candidate: Connection): Promise<Validation> {
        return runValidateConnection(this.d, env, candidate);
    }

    preConnectionDeletion(env: Environment, connection: Connection): Promise<number> {
        return runPreConnectionDeletion(this.d, env, connection);
    }

    queuePostConnectionCreation(tx: Queryable, connection: Connection): Promise<void> {
        return queuePostConnectionCreation(this.d, tx, connection);
    }

    /** Takes up to `limit` due sync runs from the queue (the runs table) and marks them started. */
    claimDueSyncs(limit: number): Promise<StartedRun[]> {
        return this.d.runs.claimDueSyncs(limit);
    }

    /** Runs a batch of claimed sync runs; one promise per run, settled when it has ended. */
    executeSyncs(rows: StartedRun[]): Array<Promise<void>> {
        return executeSyncRuns(this.d, rows);
    }

    executeWebhook(job: WebhookRunJob): Promise<void> {
        return executeWebhookRun(this.d, job);
    }

    executeAsyncAction(job: ActionJob): Promise<void> {
        return executeAsyncAction(this.d, job);
    }

    executePostConnectionCreation(job: OnEventJob): Promise<void> {
        return executePostConnectionCreation(this.d, job);
    }

    /** Key rotation of asynchronous actions' sealed input and output. */
    reencryptAll(failed: string[] = []): Promise<number> {
        return this.d.runs.reencryptAll(failed);
    }

    /** Deletes the rows of runs answered elsewhere (synchronous actions, on-event scripts) a day after they ended. */
    purgeAnswered(): Promise<number> {
        return this.d.runs.purgeAnswered();
    }

    /** Gives up on runs whose worker stopped heart-beating, and tells their apps. */
    reapLost(olderThanMs: number): Promise<number[]> {
        return reapLostRuns(this.d, olderThanMs);
    }
}
