import type { Config } from './config/config.ts';
import type { Db } from './storage/db.ts';
import type { Logger } from './log/logger.ts';
import type { RecentErrors } from './log/recent-errors.ts';
import type { Vault } from './vault/vault.ts';
import type { Catalogue } from './providers/catalogue.ts';
import type { Environments } from './environments/environments.ts';
import type { AdminKeys } from './environments/admin-keys.ts';
import type { EnvironmentVariables } from './environments/variables.ts';
import type { IntegrationStore } from './integrations/store.ts';
import type { ConnectionStore } from './connections/store.ts';
import type { Refresher } from './refresh/refresher.ts';
import type { Egress } from './egress/egress.ts';
import type { ConnectSessionStore } from './connect/sessions.ts';
import type { OAuthTransactionStore } from './connect/transactions.ts';
import type { WsHub } from './connect/ws-hub.ts';
import type { Webhooks } from './webhooks/service.ts';
import type { RecordsStore } from './records/store.ts';
import type { FunctionStore } from './functions/store.ts';
import type { SyncStore } from './functions/syncs.ts';
import type { CheckpointStore } from './functions/checkpoints.ts';
import type { Scheduler } from './functions/scheduler.ts';
import type { Runs } from './runs/runs.ts';
import type { ConnectionHooks } from './connections/lifecycle.ts';
import type { Mcp } from './mcp/service.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import type { Tracing } from './tracing/tracing.ts';
import type { DashboardSessionStore } from './dashboard/sessions.ts';

/**
 * What a route handler may call, built once at start and passed in (no module-level singletons). Only routes take
 * it: capabilities below them (runs, the scheduler, a run's host) receive what they use by name.
 */
export interface Services {
    config: Config;
    db: Db;
    log: Logger;
    vault: Vault;
    catalogue: Catalogue;
    environments: Environments;
    adminKeys: AdminKeys;
    environmentVariables: EnvironmentVariables;
    integrations: IntegrationStore;
    connections: ConnectionStore;
    refresher: Refresher;
    egress: Egress;
    connectSessions: ConnectSessionStore;
    oauthTransactions: OAuthTransactionStore;
    ws: WsHub;
    webhooks: Webhooks;
    records: RecordsStore;
    functions: FunctionStore;
    syncs: SyncStore;
    checkpoints: CheckpointStore;
    scheduler: Scheduler;
    runs: Runs;
    connectionHooks: ConnectionHooks;
    mcp: Mcp;
    metrics: Metrics;
    limits: RateLimiter;
    /** The operator dashboard's sign-in sessions (docs/dashboard.md). */
    dashboardSessions: DashboardSessionStore;
    /** This instance's last error-level log lines, for the dashboard (not shared between instances). */
    recentErrors: RecentErrors;
    /** Set when SWITCHBOARD_OTLP_TRACES_URL is. */
    tracing: Tracing | undefined;
}
