/**
 * The one reaper of lost runs, whatever their kind: a run whose worker stopped heart-beating (its instance died)
 * ends as ERROR `worker_lost`, and its app hears of it as it would of any failed run, in the same transaction:
 * the `sync` failure webhook for a sync or webhook run, the `async_action` webhook for an asynchronous action.
 * Webhook and on-event runs also leave their failure in the connection's audit trail.
 */
import type { Queryable } from '../storage/db.ts';
import type { Connection } from '../connections/store.ts';
import type { KindDeps } from './deps.ts';
import type { LostRun } from './store.ts';
import { WORKER_LOST } from './store.ts';
import { syncFailurePayload } from '../functions/payloads.ts';
import { WEBHOOK_JOB } from '../functions/syncs.ts';
import { auditRun } from '../functions/run-audit.ts';
import { asyncActionPayload } from './kinds/action.ts';

type ReaperDeps = Pick<KindDeps, 'db' | 'log' | 'runs' | 'syncs' | 'connections' | 'environments' | 'functions' | 'webhooks' | 'audit'>;

interface Told {
    run: LostRun;
    connection: Connection | undefined;
    detail: Record<string, unknown>;
}

/** The app's webhook for one lost run, queued in the reaping transaction; returns the audit entry's context. */
async function tell(d: ReaperDeps, tx: Queryable, run: LostRun): Promise<Told> {
    const connection = run.connectionDbId === null ? undefined : await d.connections.getById(run.connectionDbId, tx);
    const sync = run.syncId ? await d.syncs.byId(run.syncId, tx) : undefined;
    const owner = connection ?? (sync ? await d.connections.getById(sync.connectionDbId, tx) : undefined);
    const fn = run.functionId === null ? undefined : await d.functions.byId(run.functionId, tx);
    if (!owner) return { run, connection: undefined, detail: {} };
    let payload: object | undefined;
    if (sync && (run.kind === 'sync' || run.kind === 'webhook')) {
        payload = syncFailurePayload({ connection: owner, sync, syncType: run.type ?? WEBHOOK_JOB, startedAt: run.startedAt ?? new Date() }, WORKER_LOST);
    } else if (run.kind === 'action' && run.uuid) {
        payload = asyncActionPayload(owner, run.uuid);
    }
    if (payload) await d.webhooks.enqueueEvent(tx, { environmentId: owner.environmentId, connection: owner, payload });
    const detail = run.kind === 'webhook' ? { sync: sync?.name, sync_job_id: run.id } : run.kind === 'on-event' ? { script: fn?.name } : {};
    return { run, connection: owner, detail };
}

/**
 * Gives up on lost runs of every kind (see RunStore.reapLost) and tells their apps; returns the ids given up.
 * On an embedded database one process owns everything, so at start every running run is lost (`olderThanMs` 0).
 */
export async function reapLostRuns(d: ReaperDeps, olderThanMs: number): Promise<number[]> {
    const told = await d.db.transaction(async (tx) => {
        const lost = await d.runs.reapLost(tx, olderThanMs);
        const out: Told[] = [];
        for (const run of lost) out.push(await tell(d, tx, run));
        return out;
    });
    if (!told.length) return [];
    d.log.warn(
        { runs: told.map((t) => ({ id: t.run.id, kind: t.run.kind })) },
        'runs interrupted by a stop or crash were marked failed (worker_lost); syncs resume from their last checkpoint'
    );
    for (const t of told) {
        if (!t.connection || (t.run.kind !== 'webhook' && t.run.kind !== 'on-event')) continue;
        await auditRun(d.audit, d.log, t.connection, {
            kind: t.run.kind === 'webhook' ? 'webhook-run' : 'on-event',
            outcome: 'failure',
            detail: { ...t.detail, error: { type: WORKER_LOST.type, message: WORKER_LOST.message } }
        });
    }
    return told.map((t) => t.run.id);
}
