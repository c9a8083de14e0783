import type { Connection } from '../connections/store.ts';
import type { ScriptError } from './runtime/types.ts';
import type { ModelCounts, SyncView } from './syncs.ts';

interface Base {
    connection: Connection;
    sync: SyncView;
    /**
     * INITIAL, INCREMENTAL, FULL (a reset) or WEBHOOK (an onWebhook run); the webhook's deprecated syncType says
     * INITIAL for full runs.
     */
    syncType: string;
    startedAt: Date;
}

function common(b: Base, model: string) {
    return {
        from: 'nango',
        type: 'sync',
        connectionId: b.connection.connectionId,
        providerConfigKey: b.connection.providerConfigKey,
        syncName: b.sync.name,
        syncVariant: b.sync.variant,
        model,
        syncType: b.syncType === 'INCREMENTAL' || b.syncType === 'WEBHOOK' ? b.syncType : 'INITIAL'
    };
}

/**
 * One `sync` webhook per model that changed (docs/compatibility.md, "Webhooks"); `modifiedAfter` is the run's start, the value an
 * app passes as `modified_after` to read exactly what this run changed. Nothing is sent for a run that changed nothing.
 */
export function syncSuccessPayloads(b: Base, counts: ModelCounts, models: string[]): object[] {
    return models
        .map((model) => ({ model, r: counts[model] ?? { added: 0, updated: 0, deleted: 0 } }))
        .filter(({ r }) => r.added + r.updated + r.deleted > 0)
        .map(({ model, r }) => ({
            ...common(b, model),
            success: true,
            modifiedAfter: b.startedAt.toISOString(),
            queryTimeStamp: b.startedAt.toISOString(),
            responseResults: { added: r.added, updated: r.updated, deleted: r.deleted }
        }));
}

export function syncFailurePayload(b: Base, error: ScriptError): object {
    return {
        ...common(b, b.sync.models[0] ?? ''),
        success: false,
        error: { type: error.type, description: error.message, ...(error.payload !== undefined ? { payload: error.payload } : {}) },
        startedAt: b.startedAt.toISOString(),
        failedAt: new Date().toISOString()
    };
}
