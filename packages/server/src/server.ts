import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config/config.ts';
import type { Services } from './services.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { RecentErrors } from './log/recent-errors.ts';
import { purgeInboundWebhooks } from './webhooks/inbound/received.ts';
import { openDatabase, PGLITE_DIR } from './storage/open.ts';
import { EMBEDDED_PG_DIR } from './storage/embedded-postgres.ts';
import { ReadCache } from './storage/read-cache.ts';
import { Vault } from './vault/vault.ts';
import { parseKey, makeKeyring, KeyError } from './vault/keys.ts';
import { loadOrCreateKeyFile } from './vault/key-file.ts';
import { checkKeysMatchData } from './vault/boot-check.ts';
import { loadCatalogue } from './providers/catalogue.ts';
import { missingHooks } from './providers/hooks/index.ts';
import { Environments } from './environments/environments.ts';
import { EnvironmentVariables } from './environments/variables.ts';
import { AdminKeys } from './environments/admin-keys.ts';
import { IntegrationStore } from './integrations/store.ts';
import { ConnectionStore } from './connections/store.ts';
import { Refresher } from './refresh/refresher.ts';
import { Egress } from './egress/egress.ts';
import { buildApp } from './http/app.ts';
import { routeTable } from './routes.ts';
import { proxyFastPath } from './proxy/fast-path.ts';
import { ConfigError } from './config/config.ts';
import { ConnectSessionStore } from './connect/sessions.ts';
import { registerConnectUi, DEFAULT_CONNECT_UI_DIR } from './connect-ui/routes.ts';
import { OAuthTransactionStore } from './connect/transactions.ts';
import { WsHub } from './connect/ws-hub.ts';
import { registerWebSocket } from './connect/ws-route.ts';
import { Webhooks } from './webhooks/service.ts';
import { RecordsStore } from './records/store.ts';
import { FunctionStore } from './functions/store.ts';
import { SyncStore } from './functions/syncs.ts';
import { CheckpointStore } from './functions/checkpoints.ts';
import { Scheduler } from './functions/scheduler.ts';
import { JobQueue } from './functions/queue.ts';
import { RunStore } from './runs/store.ts';
import { Runs } from './runs/runs.ts';
import type { ConnectionHooks } from './connections/lifecycle.ts';
import { RunnerPool } from './functions/runtime/pool.ts';
import { Mcp } from './mcp/service.ts';
import { applyDesiredState } from './config/desired-state.ts';
import { Metrics } from './metrics/metrics.ts';
import { collectWhenQuiet, keepTickShape } from './runtime/heap.ts';
import { RateLimiter } from './limits/rate-limiter.ts';
import { DashboardSessionStore } from './dashboard/sessions.ts';
import { registerDashboard, DEFAULT_DASHBOARD_DIR } from './dashboard/static.ts';

/** Every declared route (tests walk it: test/environment-routes.test.ts, test/public-listener.test.ts). */
export { routeTable as apiRoutes } from './routes.ts';

export interface Running {
    app: FastifyInstance;
    /** The public listener's app (SWITCHBOARD_PUBLIC_PORT), when configured. */
    publicApp: FastifyInstance | undefined;
    services: Services;
    url: string;
    publicUrl: string | undefined;
    close(): Promise<void>;
}

function openVault(config: Config, log: Logger): Vault {
    try {
        if (config.encryptionKey) {
            return new Vault(
                makeKeyring(
                    parseKey(config.encryptionKey),
                    config.previousEncryptionKeys.map((k) => parseKey(k))
                )
            );
        }
        // A data folder whose key file is gone holds secrets no new key can read: refuse rather than start
        // writing under a key the old data (and its backups) do not have.
        const hasData = existsSync(join(config.dataDir, PGLITE_DIR)) || existsSync(join(config.dataDir, EMBEDDED_PG_DIR));
        if (hasData && !existsSync(config.keyFile!)) {
            throw new ConfigError(
                `encryption key file ${config.keyFile} is missing but ${config.dataDir} holds encrypted data: restore the key file, or set SWITCHBOARD_ENCRYPTION_KEY`
            );
        }
        const { keyring, created } = loadOrCreateKeyFile(config.keyFile!);
        if (created)
            log.warn({ keyFile: config.keyFile }, 'generated an encryption key in the data folder (mode 0600); back it up, or set SWITCHBOARD_ENCRYPTION_KEY');
        return new Vault(keyring);
    } catch (err) {
        if (err instanceof KeyError)
            throw new ConfigError(
                `${config.encryptionKey ? 'SWITCHBOARD_ENCRYPTION_KEY / SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS' : 'encryption key file'}: ${err.message}`
            );
        throw err;
    }
}

/** Gauges read at each scrape: what is waiting and what is in use (docs/observability.md). */
function watchUsage(metrics: Metrics, s: { webhooks: Webhooks; runner: RunnerPool; db: Services['db'] }): void {
    metrics.gauge('switchboard_webhook_queue_depth', 'Webhook deliveries waiting for an attempt, across every instance', [], async () => [
        { value: await s.webhooks.outbox.depth() }
    ]);
    metrics.gauge('switchboard_runner_pool_processes', 'Script runner slots of this instance, by state (size, in_use, idle, waiting)', ['state'], async () =>
        Object.entries(s.runner.stats()).map(([state, value]) => ({ labels: { state: state === 'inUse' ? 'in_use' : state }, value }))
    );
    metrics.gauge(
        'switchboard_db_pool_connections',
        'Database pool connections of this instance, by pool and state (max, total, idle, waiting)',
        ['pool', 'state'],
        async () =>
            (s.db.poolStats?.() ?? []).flatMap(({ pool, ...counts }) => Object.entries(counts).map(([state, value]) => ({ labels: { pool, state }, value })))
    );
}

/** Builds every service from config, migrates, and starts listening. */
export async function start(config: Config, opts: { log?: Logger; print?: (line: string) => void } = {}): Promise<Running> {
    // The last errors of this instance, for the dashboard; fed only by the logger made here.
    const recentErrors = new RecentErrors(200);
    const log = opts.log ?? createLogger(config.logLevel, undefined, recentErrors);
    const catalogue = loadCatalogue(config.providerFiles);
    // One line per file: a copy of Nango's file from a newer release may carry fields this version does not know.
    for (const { file, keys } of catalogue.ignoredKeys) log.warn({ file, keys }, `providers file: ${keys.length} unknown key(s) ignored`);
    // A hook name no registry holds (a Nango hook we have not written) leaves that step undone; say which.
    const missing = catalogue.list().flatMap(([name, def]) => missingHooks(def).map((m) => `${name}.${m}`));
    if (missing.length > 0) log.warn({ hooks: missing }, `providers: ${missing.length} hook name(s) have no implementation and are skipped`);
    const vault = openVault(config, log);
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, embedded: config.embedded });
    await checkKeysMatchData(db, vault, log).catch(async (err: unknown) => {
        await db.close();
        throw err;
    });
    // Hot lookups (secret keys, integrations, connections) are served from memory; writes invalidate on every
    // instance through LISTEN/NOTIFY.
    const cache = new ReadCache<unknown>(db, 'switchboard_cache', { ttlMs: 10_000 });
    await cache.start();
    const environments = new Environments(db, cache);
    const { environment, generatedKey, configuredKeyRetired } = await environments.bootstrap(config.secretKey);
    if (configuredKeyRetired)
        log.warn({ environment: environment.name }, 'SWITCHBOARD_SECRET_KEY was revoked or rotated out through the API and stays refused; set a new one');
    const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
    if (generatedKey) {
        print(
            `\n  Switchboard generated the secret key of environment "${environment.name}". It is shown once; store it now:\n\n      ${generatedKey}\n\n  Use it as the SDK's apiKey (new Nango({ host, apiKey }); Authorization: Bearer ...), or set SWITCHBOARD_SECRET_KEY.\n`
        );
    }
    const adminKeys = new AdminKeys(db);
    const admin = await adminKeys.bootstrap(config.adminKey);
    if (admin.generatedKey) {
        print(
            `\n  Switchboard generated the admin key (for /admin/* and environment management, never for apps). It is shown once; store it now:\n\n      ${admin.generatedKey}\n\n  Use it with the switchboard CLI (SWITCHBOARD_ADMIN_KEY), or set SWITCHBOARD_ADMIN_KEY.\n`
        );
    }
    const metrics = new Metrics();
    // OpenTelemetry's SDK and exporter are loaded only when traces are exported (idle memory, issue #13 item 1).
    const tracing = config.otlpTracesUrl ? new (await import('./tracing/tracing.ts')).Tracing({ url: config.otlpTracesUrl }) : undefined;
    const egress = new Egress({ allowPrivate: config.allowPrivateEgress });
    const integrations = new IntegrationStore(db, vault, cache);
    // Migration 023: custom.webhookSecret of rows written before it is encrypted now.
    const sealed = await integrations.sealCustomSecrets();
    if (sealed > 0) log.info({ integrations: sealed }, 'custom.webhookSecret values encrypted');
    const connections = new ConnectionStore(db, vault, cache);
    const refresher = new Refresher({ db, log, egress, catalogue, connections, integrations, metrics, tracing });
    const connectSessions = new ConnectSessionStore(db);
    const oauthTransactions = new OAuthTransactionStore(db, vault);
    const ws = new WsHub(db, log);
    await ws.start();
    const webhooks = new Webhooks({ db, log, egress, vault, catalogue, environments, config: config.webhooks, metrics });
    refresher.onOutcome = async (tx, o) => {
        const env = await environments.byId(o.connection.environmentId, tx);
        if (!env) return;
        await webhooks.enqueueAuth(tx, {
            environment: env,
            connection: o.connection,
            operation: 'refresh',
            success: o.kind === 'refreshed',
            error: o.kind === 'failed' ? o.error : undefined
        });
    };
    const runner = new RunnerPool({
        size: config.functions.runnerProcesses,
        memoryMb: config.functions.runnerMemoryMb,
        logger: (level, obj, msg) => log[level](obj, msg)
    });
    const environmentVariables = new EnvironmentVariables(db, vault);
    const records = new RecordsStore(db);
    const functions = new FunctionStore(db);
    const syncs = new SyncStore(db);
    const checkpoints = new CheckpointStore(db);
    const runStore = new RunStore(db, vault);
    // Asynchronous actions' input and output written in plaintext by an earlier version are sealed once.
    const sealedRuns = await runStore.sealPlaintext();
    if (sealedRuns > 0) log.info({ runs: sealedRuns }, 'encrypted the input and output of earlier asynchronous actions');
    const queue = new JobQueue(db, log);
    const fx = config.functions;
    // Every kind of script run, with what it uses named: the run's host (records, checkpoints, the connection and
    // its refresh, the proxy), its props, its audit trail and its webhooks.
    const runs = new Runs({
        db,
        log,
        runner,
        runs: runStore,
        functions,
        webhooks,
        queue,
        syncs,
        connections,
        environments,
        records,
        checkpoints,
        host: {
            db,
            runs: runStore,
            records,
            checkpoints,
            connections,
            refresher,
            integrations,
            catalogue,
            environmentVariables,
            egress,
            serverUrl: () => config.serverUrl ?? ''
        },
        props: { catalogue, scriptLogLevel: fx.scriptLogLevel },
        audit: { connections },
        lostAfterMs: fx.lostAfterMs,
        metrics,
        timeouts: { syncMs: fx.syncTimeoutMs, actionMs: fx.actionTimeoutMs, webhookMs: fx.webhookRunTimeoutMs, onEventMs: fx.onEventTimeoutMs }
    });
    const scheduler = new Scheduler({ db, log, config: fx, syncs, queue, runs });
    const connectionHooks: ConnectionHooks = {
        async saved(tx, env, r) {
            await webhooks.enqueueAuth(tx, { environment: env, connection: r.connection, operation: r.created ? 'creation' : 'override', success: true });
            if (r.created) await runs.queuePostConnectionCreation(tx, r.connection);
        },
        deleting: (env, connection) => runs.preConnectionDeletion(env, connection)
    };
    const mcp = new Mcp(db);
    const services: Services = {
        config,
        db,
        log,
        vault,
        catalogue,
        environments,
        adminKeys,
        environmentVariables,
        integrations,
        connections,
        refresher,
        egress,
        connectSessions,
        oauthTransactions,
        ws,
        webhooks,
        records,
        functions,
        syncs,
        checkpoints,
        scheduler,
        runs,
        connectionHooks,
        mcp,
        metrics,
        limits: new RateLimiter(db, config.rateLimits, metrics),
        dashboardSessions: new DashboardSessionStore(db, config.dashboardSessionTtlMs),
        recentErrors,
        tracing
    };
    watchUsage(metrics, { webhooks, runner, db });

    const routes = routeTable;
    // The WebSocket and the Connect UI are what browsers reach: both listeners serve them.
    const plugins = [
        (a: FastifyInstance) => registerWebSocket(a, ws),
        (a: FastifyInstance) =>
            registerConnectUi(a, { dir: DEFAULT_CONNECT_UI_DIR, serverUrl: () => config.serverUrl, frameAncestors: config.connectUiFrameAncestors })
    ];
    // The operator dashboard holds the keys to everything: the main (private) port only, never the public one.
    const privatePlugins = [...plugins, (a: FastifyInstance) => registerDashboard(a, { dir: DEFAULT_DASHBOARD_DIR })];
    const app = await buildApp(services, routes, privatePlugins, (door) => proxyFastPath(services, door));
    // Issue #12 item 5: the main port keeps serving everything; the public port serves only the routes browsers
    // and providers reach, so exposing just that port keeps the admin API private (docs/operations.md).
    const publicApp = config.publicListener ? await buildApp(services, routes, plugins, undefined, 'public') : undefined;
    await webhooks.start(environment);
    await scheduler.start();
    // SWITCHBOARD_CONFIG, through the app's own routes, before a request can arrive: a file the server refuses
    // (the message names its line) stops the start.
    // Everything start() opened, closed in order: by close(), and by a start that fails from here on.
    const closeAll = async () => {
        ws.close();
        mcp.sessions.closeAll();
        await publicApp?.close();
        await app.close();
        await scheduler.stop();
        // Runs still waiting for a runner end now: one never started goes back to its queue, the others record
        // their end, and the endings being gathered are written before the database closes.
        await runner.close();
        await scheduler.settle(2000);
        await runStore.drain();
        await webhooks.stop();
        await egress.close();
        await tracing?.close();
        await db.close();
    };
    if (config.desiredState) {
        await applyDesiredState(app, services, config.desiredState).catch(async (err: unknown) => {
            await closeAll();
            throw err;
        });
    }
    await app.listen({ port: config.port, host: config.host });
    if (publicApp && config.publicListener) await publicApp.listen({ port: config.publicListener.port, host: config.publicListener.host });
    const portOf = (a: FastifyInstance) => {
        const address = a.server.address();
        return typeof address === 'object' && address ? address.port : 0;
    };
    const port = portOf(app);
    const publicPort = publicApp ? portOf(publicApp) : undefined;
    const url = `http://127.0.0.1:${port}`;
    const publicUrl = publicPort === undefined ? undefined : `http://127.0.0.1:${publicPort}`;
    if (!config.serverUrl) config.serverUrl = `http://localhost:${publicPort ?? port}`;
    log.info({ port, url, publicUrl, database: db.kind, serverUrl: config.serverUrl, providers: catalogue.list().length }, 'listening');
    // nextTick stays on V8's fast path through the memory-reducing collections below and V8's own: runtime/heap.ts.
    keepTickShape();
    // Full collections at quiet moments, the first once the first background work (the scheduler's first tick, the
    // queue's start) has run: runtime/heap.ts.
    const cancelCollect = collectWhenQuiet(3000, 30_000);

    // Background refresh keeps idle connections alive; the database lock makes concurrent instances safe.
    let timer: NodeJS.Timeout | undefined;
    let stopping = false;
    if (config.backgroundRefreshSeconds > 0) {
        const tick = async () => {
            await refresher.refreshExpiring().catch((err: unknown) => log.error({ err }, 'background refresh pass failed'));
            await connectSessions.purgeExpired().catch((err: unknown) => log.error({ err }, 'connect session purge failed'));
            await oauthTransactions.purgeExpired().catch((err: unknown) => log.error({ err }, 'oauth transaction purge failed'));
            await services.dashboardSessions.purgeExpired().catch((err: unknown) => log.error({ err }, 'dashboard session purge failed'));
            await purgeInboundWebhooks(db).catch((err: unknown) => log.error({ err }, 'inbound webhook summary purge failed'));
            if (services.limits.enabled) await services.limits.purgeExpired().catch((err: unknown) => log.error({ err }, 'rate limit purge failed'));
            if (!stopping) timer = setTimeout(tick, config.backgroundRefreshSeconds * 1000).unref();
        };
        timer = setTimeout(tick, config.backgroundRefreshSeconds * 1000).unref();
    }

    return {
        app,
        publicApp,
        services,
        url,
        publicUrl,
        async close() {
            stopping = true;
            cancelCollect();
            if (timer) clearTimeout(timer);
            await closeAll();
        }
    };
}
