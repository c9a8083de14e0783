import type { Db } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Environment } from '../environments/environments.ts';
import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { RecordsStore } from '../records/store.ts';
import type { FunctionStore } from './store.ts';
import type { SyncStore } from './syncs.ts';
import type { CheckpointStore } from './checkpoints.ts';
import type { Scheduler } from './scheduler.ts';
import { fail } from '../errors.ts';
import { BASE_VARIANT, recordModelKey, syncCheckpointKey } from './keys.ts';

/**
 * Sync variants (docs/compatibility.md, "Actions and syncs"): parameterised copies of a sync on one connection, addressed `name::variant`.
 * Each is its own schedule row; its run sees `nango.variant`, writes records under `<Model>::<variant>` and
 * checkpoints under `sync:<name>:<variant>`, so variants never see each other's data.
 */
export interface VariantRef {
    name: string;
    variant: string;
    providerConfigKey: string;
    connectionId: string;
}

/** What variants use, by name. */
export interface VariantDeps {
    db: Db;
    log: Logger;
    connections: ConnectionStore;
    functions: FunctionStore;
    syncs: SyncStore;
    checkpoints: CheckpointStore;
    records: RecordsStore;
    scheduler: Pick<Scheduler, 'wake'>;
}

/** Nango refuses `base` in any case, on create and delete alike (server controllers/sync/postSyncVariant.ts). */
function refuseBase(variant: string): void {
    if (variant.toLowerCase() === BASE_VARIANT)
        throw fail('invalid_variant', { message: `Variant name "${variant}" is reserved for the default schedule every connection has of each sync` });
}

async function connectionOf(s: Pick<VariantDeps, 'connections'>, env: Environment, ref: VariantRef): Promise<Connection> {
    const connection = await s.connections.get(env.id, ref.providerConfigKey, ref.connectionId);
    if (!connection) throw fail('unknown_connection', { status: 400 });
    return connection;
}

/** Creates a variant's schedule on one connection; it starts when the sync auto-starts, like the base schedule. */
export async function createSyncVariant(s: VariantDeps, env: Environment, ref: VariantRef): Promise<{ id: string; name: string; variant: string }> {
    refuseBase(ref.variant);
    const connection = await connectionOf(s, env, ref);
    const fn = await s.functions.find(env.id, ref.providerConfigKey, 'sync', ref.name);
    if (!fn) throw fail('unknown_sync', { message: `No sync "${ref.name}" is deployed for integration "${ref.providerConfigKey}"` });
    const started = fn.config.autoStart === true;
    const id = await s.syncs.createVariant({ functionId: fn.id, connectionDbId: connection.id, variant: ref.variant, started });
    if (!id)
        throw fail('sync_variant_already_exists', {
            message: `Variant "${ref.variant}" of sync "${ref.name}" already exists on connection "${ref.connectionId}"`
        });
    if (started) s.scheduler.wake();
    s.log.info({ sync: ref.name, variant: ref.variant, connectionId: ref.connectionId, started }, 'sync variant created');
    return { id, name: ref.name, variant: ref.variant };
}

/**
 * Deletes a variant: its schedule and run history, its checkpoints and its records, in one transaction. A run in
 * flight is stopped as when a redeploy removes its sync (its job row goes, its worker aborts at the next
 * heartbeat), and the write fence keeps it from writing anything after the delete commits.
 */
export async function deleteSyncVariant(s: VariantDeps, env: Environment, ref: VariantRef): Promise<void> {
    refuseBase(ref.variant);
    const connection = await connectionOf(s, env, ref);
    const [sync] = (await s.syncs.find(env.id, ref.providerConfigKey, { names: [ref.name], connectionId: ref.connectionId })).filter(
        (v) => v.variant === ref.variant
    );
    const notFound = () => fail('not_found', { message: `Variant "${ref.variant}" of sync "${ref.name}" does not exist on connection "${ref.connectionId}"` });
    if (!sync) throw notFound();
    const records = await s.db.transaction(async (tx) => {
        // The schedule first: deleting its job rows waits for a fenced write in flight, before the data goes.
        if (!(await s.syncs.remove(sync.id, tx))) throw notFound();
        await s.checkpoints.deleteSyncState(connection.id, syncCheckpointKey(sync.name, sync.variant), tx);
        return s.records.hardDelete(
            connection.id,
            sync.models.map((m) => recordModelKey(m, sync.variant)),
            tx
        );
    });
    s.log.info(
        { sync: ref.name, variant: ref.variant, connectionId: ref.connectionId, records, stoppedRun: sync.runningJobId !== null },
        'sync variant deleted'
    );
}
