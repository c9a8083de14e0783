import type { Catalogue } from '../providers/catalogue.ts';
import type { Connection } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { DeployedFunction } from './store.ts';
import type { ScriptKind, ScriptProps } from './runtime/types.ts';

/** What building a run's props uses. */
export interface PropsDeps {
    catalogue: Catalogue;
    scriptLogLevel: string;
}

/** The plain properties a script's `nango` object carries (docs/scripts-compatibility.md, "The nango object"). */
export function runProps(
    s: PropsDeps,
    r: {
        env: Environment;
        connection: Connection;
        fn: DeployedFunction;
        kind: ScriptKind;
        sync?: { id: string; jobId: number; variant: string; models: string[]; lastSyncDate: Date | null };
    }
): ScriptProps {
    const def = s.catalogue.get(r.connection.provider);
    return {
        scriptType: r.kind,
        scriptName: r.fn.name,
        connectionId: r.connection.connectionId,
        providerConfigKey: r.connection.providerConfigKey,
        provider: r.connection.provider,
        environmentId: r.env.id,
        environmentName: r.env.name,
        nangoConnectionId: r.connection.id,
        activityLogId: r.sync ? `sync-${r.sync.jobId}` : `${r.kind}-${r.fn.name}`,
        logLevel: s.scriptLogLevel,
        providerPaginate: (def?.proxy?.paginate as Record<string, unknown> | undefined) ?? null,
        ...(r.sync
            ? {
                  syncName: r.fn.name,
                  syncId: r.sync.id,
                  syncJobId: r.sync.jobId,
                  variant: r.sync.variant,
                  lastSyncDate: r.sync.lastSyncDate?.toISOString() ?? null,
                  track_deletes: r.fn.config.trackDeletes ?? false,
                  models: r.sync.models
              }
            : {})
    };
}
