import type { Db } from '../../storage/db.ts';
import type { IntegrationStore } from '../../integrations/store.ts';
import type { ConnectionStore } from '../../connections/store.ts';
import type { SyncStore } from '../syncs.ts';
import type { FunctionStore } from '../store.ts';
import type { Environment } from '../../environments/environments.ts';
import type { SyncStatus, SyncView } from '../syncs.ts';
import { defineRoute } from '../../http/route.ts';
import { fail } from '../../errors.ts';
import { parseFrequency } from '../frequency.ts';
import { frequencyBody, parseSyncRef, providerKeyHeader, syncCommandBody, syncStatusQuery, syncTriggerBody } from './schemas.ts';
import { syncStatusItem } from './sync-status.ts';

/** The schedules a sync command names; new connections get their schedules first, so a command never misses them. */
async function select(
    s: { db: Db; integrations: IntegrationStore; connections: ConnectionStore; syncs: SyncStore; functions: FunctionStore },
    env: Environment,
    key: string | undefined,
    refs: Array<string | { name: string; variant: string }> | '*',
    connectionId: string | undefined
): Promise<SyncView[]> {
    if (!key) throw fail('missing_provider_config_key');
    const integration = await s.integrations.get(env.id, key);
    if (!integration) throw fail('unknown_provider_config', { status: 400 });
    if (connectionId) {
        const connection = await s.connections.get(env.id, key, connectionId);
        if (!connection) throw fail('unknown_connection', { status: 400 });
        await s.syncs.ensureSchedules(s.db, { connectionDbId: connection.id });
    } else {
        await s.syncs.ensureSchedules(s.db, { environmentId: env.id });
    }
    const wanted = refs === '*' ? [] : refs.map(parseSyncRef);
    const rows = await s.syncs.find(env.id, key, { names: wanted.length ? wanted.map((w) => w.name) : undefined, connectionId });
    const picked = wanted.length ? rows.filter((r) => wanted.some((w) => w.name === r.name && w.variant === r.variant)) : rows;
    for (const w of wanted) {
        if (!(await s.functions.find(env.id, key, 'sync', w.name)))
            throw fail('unknown_sync', { message: `No sync "${w.name}" is deployed for integration "${key}"` });
    }
    return picked;
}

/** `/sync/start` and `/sync/pause`: the same command with a different target status. */
function statusRoute(url: string, status: SyncStatus) {
    return defineRoute({
        method: 'POST',
        url,
        auth: 'secret',
        body: syncCommandBody,
        handler: async ({ env, body }, s) => {
            const syncs = await select(s, env, body.provider_config_key, body.syncs, body.connection_id);
            await s.syncs.setStatus(
                syncs.map((x) => x.id),
                status
            );
            if (status === 'STARTED') s.scheduler.wake();
            return { success: true };
        }
    });
}

export const syncRoutes = [
    defineRoute({
        method: 'POST',
        url: '/sync/trigger',
        auth: 'secret',
        body: syncTriggerBody,
        headers: providerKeyHeader,
        handler: async ({ env, body, headers }, s) => {
            if (body.opts && body.sync_mode) throw fail('invalid_body', { message: 'Send either opts or sync_mode, not both' });
            const mode = body.sync_mode ?? (body.full_resync ? 'full_refresh' : undefined);
            const reset = body.opts?.reset ?? (mode === 'full_refresh' || mode === 'full_refresh_and_clear_cache');
            const emptyCache = body.opts?.emptyCache ?? mode === 'full_refresh_and_clear_cache';
            const syncs = await select(s, env, body.provider_config_key ?? headers['provider-config-key'], body.syncs, body.connection_id);
            // A full reset replaces the run in flight: its job stops, and the new run starts from nothing.
            if (reset) for (const sync of syncs) if (sync.runningJobId) await s.runs.stop(sync.runningJobId);
            await s.syncs.requestRun(
                syncs.map((x) => x.id),
                { reset, emptyCache }
            );
            s.scheduler.wake();
            return { success: true };
        }
    }),
    statusRoute('/sync/start', 'STARTED'),
    statusRoute('/sync/pause', 'PAUSED'),
    defineRoute({
        method: 'GET',
        url: '/sync/status',
        auth: 'secret',
        query: syncStatusQuery,
        handler: async ({ env, query }, s) => {
            const refs =
                query.syncs === '*'
                    ? '*'
                    : query.syncs
                          .split(',')
                          .map((x) => x.trim())
                          .filter(Boolean);
            const syncs = await select(s, env, query.provider_config_key, refs, query.connection_id);
            return { syncs: await Promise.all(syncs.map((x) => syncStatusItem(s, x))) };
        }
    }),
    defineRoute({
        method: 'PUT',
        url: '/sync/update-connection-frequency',
        auth: 'secret',
        body: frequencyBody,
        handler: async ({ env, body }, s) => {
            if (body.frequency !== null) {
                const parsed = parseFrequency(body.frequency);
                if (!parsed.ok) throw fail('invalid_body', { message: parsed.reason });
            }
            const [sync] = await select(s, env, body.provider_config_key, [{ name: body.sync_name, variant: body.sync_variant ?? 'base' }], body.connection_id);
            if (!sync) throw fail('unknown_sync');
            await s.syncs.setFrequencyOverride(sync.id, body.frequency);
            s.scheduler.wake();
            return { frequency: body.frequency ?? sync.runs };
        }
    })
];
