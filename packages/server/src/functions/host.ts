import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { EnvironmentVariables } from '../environments/variables.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { RecordsStore } from '../records/store.ts';
import type { RunStore } from '../runs/store.ts';
import type { Logger } from '../log/logger.ts';
import type { DeleteResult, HostFetchRequest, HostFetchResponse, HostProxyRequest, HostProxyResponse, ScriptHost, ScriptLogEntry } from './runtime/types.ts';
import type { ModelCounts } from './syncs.ts';
import type { Checkpoint, CheckpointStore } from './checkpoints.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { fail } from '../errors.ts';
import { formatConnectionFull } from '../connections/format.ts';
import { formatIntegration } from '../integrations/format.ts';
import { scriptProxy, type ScriptProxyDeps } from './host-http.ts';
import { uncontrolledFetch } from './uncontrolled-fetch.ts';
import { recordModelKey, trackDeletesKey } from './keys.ts';

/** The sync a run belongs to (syncs and webhook runs only). */
export interface SyncRunContext {
    syncId: string;
    jobId: number;
    variant: string;
    models: string[];
}

export interface HostContext {
    env: Environment;
    connection: Connection;
    /** `sync:<name>[:variant]`, `action:<name>` or `on-event:<name>`. */
    checkpointKey: string;
    sync?: SyncRunContext;
    /**
     * Set while validate-connection scripts check a connection that is not stored yet: `connection` is held in
     * memory, the metadata it is given lands here (to be stored with it), and checkpoints are unavailable.
     */
    pending?: PendingConnection;
    log: Logger;
    signal: AbortSignal;
}

/** What a run's host uses, by name. */
export interface HostDeps extends ScriptProxyDeps {
    db: Db;
    runs: Pick<RunStore, 'holdRunning'>;
    records: RecordsStore;
    checkpoints: CheckpointStore;
    connections: ConnectionStore;
    refresher: Refresher;
    integrations: IntegrationStore;
    catalogue: Catalogue;
    environmentVariables: EnvironmentVariables;
    /** The public base URL, known once the server listens. */
    serverUrl: () => string;
}

export interface PendingConnection {
    metadata: Record<string, unknown> | null;
    /** Whether a script set or updated the metadata. */
    touched: boolean;
}

/** The server side of one run: every `nango` call a script makes that needs the broker ends here. */
export class RunHost implements ScriptHost {
    /** Records written by this run, per model (what the sync webhook and status report). */
    readonly counts: ModelCounts = {};
    private readonly s: HostDeps;
    private readonly ctx: HostContext;

    constructor(s: HostDeps, ctx: HostContext) {
        this.s = s;
        this.ctx = ctx;
    }

    private scope(model: string) {
        const sync = this.ctx.sync;
        if (!sync) throw fail('invalid_body', { message: 'Records can only be written by syncs' });
        if (!sync.models.includes(model))
            throw fail('invalid_body', { message: `Model "${model}" is not declared by this sync (declared: ${sync.models.join(', ') || 'none'})` });
        return { connectionId: this.ctx.connection.id, model: recordModelKey(model, sync.variant) };
    }

    /**
     * Runs one write of a sync run behind its fence (RunStore.holdRunning): a run that was stopped, given up as
     * lost, or whose schedule was deleted (its variant or its sync) writes nothing more, so a deleted variant's
     * records and checkpoints cannot come back from a run still in flight. Action writes have no run to check.
     */
    private fenced<T>(write: (q: Queryable) => Promise<T>): Promise<T> {
        const sync = this.ctx.sync;
        if (!sync) return write(this.s.db);
        return this.s.db.transaction(async (tx) => {
            if (!(await this.s.runs.holdRunning(tx, sync.jobId))) throw fail('sync_run_stopped');
            return write(tx);
        });
    }

    private tally(model: string, c: { added: number; updated: number; deleted: number }): void {
        const t = (this.counts[model] ??= { added: 0, updated: 0, deleted: 0 });
        t.added += c.added;
        t.updated += c.updated;
        t.deleted += c.deleted;
    }

    proxy(req: HostProxyRequest): Promise<HostProxyResponse> {
        return scriptProxy(this.s, this.ctx.connection, req, this.ctx.signal);
    }

    uncontrolledFetch(req: HostFetchRequest): Promise<HostFetchResponse> {
        return uncontrolledFetch(this.s.egress, req, this.ctx.signal);
    }

    async getConnection(opts: { providerConfigKey?: string; connectionId?: string; forceRefresh?: boolean; refreshToken?: boolean }): Promise<unknown> {
        const c = this.ctx.connection;
        const pending = this.ctx.pending;
        if (pending && (opts.providerConfigKey ?? c.providerConfigKey) === c.providerConfigKey && (opts.connectionId ?? c.connectionId) === c.connectionId) {
            // Credentials obtained moments ago by the flow: nothing stored to refresh.
            return formatConnectionFull({ ...c, metadata: pending.metadata }, { includeRefreshToken: opts.refreshToken ?? false });
        }
        const stored = await this.s.connections.get(c.environmentId, opts.providerConfigKey ?? c.providerConfigKey, opts.connectionId ?? c.connectionId);
        if (!stored) throw fail('unknown_connection');
        const fresh = await this.s.refresher.fresh(stored, { force: opts.forceRefresh ?? false });
        return formatConnectionFull(fresh, { includeRefreshToken: opts.refreshToken ?? false });
    }

    private buffer(metadata: Record<string, unknown>): void {
        this.ctx.pending!.metadata = metadata;
        this.ctx.pending!.touched = true;
    }

    async setMetadata(metadata: Record<string, unknown>): Promise<void> {
        if (this.ctx.pending) return this.buffer(metadata);
        await this.s.connections.setMetadata(this.ctx.env.id, this.ctx.connection.providerConfigKey, [this.ctx.connection.connectionId], metadata, false);
    }

    async updateMetadata(metadata: Record<string, unknown>): Promise<void> {
        if (this.ctx.pending) return this.buffer({ ...(this.ctx.pending.metadata ?? {}), ...metadata });
        await this.s.connections.setMetadata(this.ctx.env.id, this.ctx.connection.providerConfigKey, [this.ctx.connection.connectionId], metadata, true);
    }

    async getIntegration(include?: string[]): Promise<unknown> {
        const integration = await this.s.integrations.get(this.ctx.env.id, this.ctx.connection.providerConfigKey);
        if (!integration) throw fail('unknown_provider_config');
        return formatIntegration(integration, {
            catalogue: this.s.catalogue,
            serverUrl: this.s.serverUrl(),
            environmentUuid: this.ctx.env.uuid,
            include: new Set(include ?? [])
        });
    }

    async getEnvironmentVariables(): Promise<Array<{ name: string; value: string }> | null> {
        return this.s.environmentVariables.list(this.ctx.env.id);
    }

    async log(entry: ScriptLogEntry): Promise<void> {
        // Script logs go to the server log under the run's context; their content is the script author's.
        this.ctx.log[entry.level]({ script: true, meta: entry.meta }, entry.message.slice(0, 100_000));
    }

    async batchSave(model: string, records: Array<Record<string, unknown>>): Promise<void> {
        const scope = this.scope(model);
        const r = await this.fenced((q) => this.s.records.save(scope, records, this.ctx.sync!.jobId, this.ctx.sync!.syncId, q));
        if (r.duplicates.length)
            this.ctx.log.warn(
                { model, duplicates: r.duplicates.slice(0, 20), count: r.duplicates.length },
                'batchSave: duplicate ids in one call, kept the first'
            );
        this.tally(model, r);
    }

    async batchUpdate(model: string, records: Array<Record<string, unknown>>): Promise<void> {
        const scope = this.scope(model);
        this.tally(model, await this.fenced((q) => this.s.records.update(scope, records, this.ctx.sync!.jobId, q)));
    }

    async batchDelete(model: string, records: Array<Record<string, unknown>>): Promise<void> {
        const scope = this.scope(model);
        this.tally(model, await this.fenced((q) => this.s.records.delete(scope, records, this.ctx.sync!.jobId, q)));
    }

    async getRecordsByIds(model: string, ids: string[]): Promise<Array<Record<string, unknown>>> {
        return this.s.records.getByIds(this.scope(model), ids);
    }

    async listRecords(model: string, cursor: string | null): Promise<{ records: Array<Record<string, unknown>>; next_cursor: string | null }> {
        return this.s.records.list(this.scope(model), { cursor: cursor ?? undefined, limit: 1000 });
    }

    /** Remembers the job that opens the window; a window may span runs, so an open one is kept. */
    async trackDeletesStart(model: string): Promise<void> {
        this.scope(model);
        const key = trackDeletesKey(this.ctx.checkpointKey, model);
        await this.fenced((q) => this.s.checkpoints.putIfAbsent(this.ctx.connection.id, key, { jobId: this.ctx.sync!.jobId }, q));
    }

    async trackDeletesEnd(model: string): Promise<DeleteResult> {
        const scope = this.scope(model);
        const key = trackDeletesKey(this.ctx.checkpointKey, model);
        const start = await this.s.checkpoints.get(this.ctx.connection.id, key);
        const since = typeof start?.['jobId'] === 'number' ? start['jobId'] : this.ctx.sync!.jobId;
        const deletedKeys = await this.fenced(async (q) => {
            const gone = await this.s.records.deleteNotSeenSince(scope, since, q);
            await this.s.checkpoints.delete(this.ctx.connection.id, key, q);
            return gone;
        });
        this.tally(model, { added: 0, updated: 0, deleted: deletedKeys.length });
        return { deletedKeys };
    }

    /** Checkpoints belong to a stored connection; one still being validated has none to read and keeps none. */
    private stored(): number {
        if (this.ctx.pending)
            throw fail('invalid_body', { message: 'Checkpoints are not available to validate-connection scripts: the connection is not stored yet' });
        return this.ctx.connection.id;
    }

    async getCheckpoint(): Promise<Checkpoint | null> {
        return this.ctx.pending ? null : this.s.checkpoints.get(this.ctx.connection.id, this.ctx.checkpointKey);
    }

    saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
        const id = this.stored();
        return this.fenced((q) => this.s.checkpoints.put(id, this.ctx.checkpointKey, checkpoint, q));
    }

    async clearCheckpoint(): Promise<void> {
        await this.s.checkpoints.delete(this.stored(), this.ctx.checkpointKey);
    }
}
