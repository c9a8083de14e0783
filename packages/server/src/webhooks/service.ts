import type { Db, Queryable } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Egress } from '../egress/egress.ts';
import type { Vault } from '../vault/vault.ts';
import type { Catalogue } from '../providers/catalogue.ts';
import type { Environment, Environments } from '../environments/environments.ts';
import type { Connection, ConnectionSummary } from '../connections/store.ts';
import type { Config } from '../config/config.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { Outbox } from './outbox.ts';
import { WebhookSettingsStore } from './settings.ts';
import { DeliveryWorker } from './worker.ts';
import { authPayload, type AuthOperation } from './payloads.ts';
import { newMessageId, stableJson } from './signing.ts';

/** What enqueueAuth needs; see Webhooks.enqueueAuth. */
export interface AuthEventInput {
    environment: { id: number; name: string };
    connection: Connection | ConnectionSummary;
    operation: AuthOperation;
    success: boolean;
    /** Required when success is false: the reason the app sees as `error`. */
    error?: { type: string; description: string } | undefined;
    /** Only for `deletion`: what the provider said to the RFC 7009 revocation. */
    revocation?: { outcome: string; status?: number | undefined } | undefined;
}

export interface ForwardInput {
    environmentId: number;
    provider: string;
    providerConfigKey: string;
    /** Connections the provider event belongs to; empty sends the raw payload once, unwrapped (docs/compatibility.md, "Webhooks"). */
    connections: ConnectionSummary[];
    payload: unknown;
    headers: Record<string, string>;
}

export interface WebhooksDeps {
    db: Db;
    log: Logger;
    egress: Egress;
    vault: Vault;
    catalogue: Catalogue;
    environments: Environments;
    config: Config['webhooks'];
    metrics: Pick<Metrics, 'webhookDeliveries'>;
}

/** Outbound webhooks: settings, the durable outbox and its delivery worker. */
export class Webhooks {
    readonly settings: WebhookSettingsStore;
    readonly outbox: Outbox;
    private readonly worker: DeliveryWorker;
    private readonly deps: WebhooksDeps;

    constructor(deps: WebhooksDeps) {
        this.deps = deps;
        this.settings = new WebhookSettingsStore(deps.db, deps.vault, { allowPrivateEgress: deps.egress.allowPrivate });
        this.outbox = new Outbox(deps.db);
        this.worker = new DeliveryWorker({
            db: deps.db,
            log: deps.log,
            egress: deps.egress,
            outbox: this.outbox,
            settings: this.settings,
            environments: deps.environments,
            metrics: deps.metrics,
            policy: { maxAttempts: deps.config.maxAttempts, baseMs: deps.config.backoffBaseMs }
        });
    }

    /** Seeds the default environment's settings from config, then starts delivering (rows left by a previous run included). */
    async start(defaultEnv: Environment): Promise<void> {
        const { generated } = await this.settings.bootstrap(defaultEnv, { url: this.deps.config.url, secret: this.deps.config.secret });
        if (generated)
            this.deps.log.warn(
                { environment: defaultEnv.name },
                'generated a webhook signing secret; read it with GET /admin/webhooks/settings, or set SWITCHBOARD_WEBHOOK_SECRET'
            );
        await this.worker.start();
    }

    async stop(): Promise<void> {
        await this.worker.stop();
    }

    /** Makes the local worker look for due rows now (other instances hear the NOTIFY). */
    wake(): void {
        this.worker.wake();
    }

    /** A per-connection override replaces the primary URL and drops the secondary (docs/compatibility.md, "Webhooks"). */
    private async targets(q: Queryable, environmentId: number, override: string | null): Promise<string[]> {
        if (override) return [override];
        const { url, secondaryUrl } = await this.settings.targets(q, environmentId);
        return [...new Set([url, secondaryUrl].filter((u): u is string => !!u))];
    }

    /**
     * Queues an `auth` webhook to every target of the connection's environment. Call it with the transaction that
     * records the event (`q`), so both commit or neither does; all reads go through `q` too (PGlite would wait on
     * itself otherwise). Returns how many deliveries were queued (0 when no URL is configured).
     *
     *   enqueueAuth(q: Queryable, input: { environment: {id, name}, connection: Connection | ConnectionSummary,
     *               operation: 'creation' | 'override' | 'refresh' | 'deletion', success: boolean,
     *               error?: {type, description}, revocation?: {outcome, status?} }): Promise<number>
     *
     * This signature is what the OAuth/connect flows call; keep it stable.
     */
    async enqueueAuth(q: Queryable, input: AuthEventInput): Promise<number> {
        const c = input.connection;
        const targets = await this.targets(q, input.environment.id, c.webhookUrlOverride);
        if (!targets.length) return 0;
        const authMode = this.deps.catalogue.get(c.provider)?.auth_mode ?? ('authType' in c ? c.authType : 'unknown');
        const body = stableJson(
            authPayload({
                environmentName: input.environment.name,
                connection: c,
                authMode,
                operation: input.operation,
                success: input.success,
                error: input.error,
                revocation: input.revocation
            })
        );
        const eventId = newMessageId();
        const orderingKey = orderingKeyOf(input.environment.id, c);
        await this.outbox.enqueue(
            q,
            targets.map((targetUrl) => ({ environmentId: input.environment.id, eventId, targetUrl, body, orderingKey }))
        );
        return targets.length;
    }

    /**
     * Queues an app event that is not an auth event (`sync`, `async_action`): the payload is built by its
     * capability and signed like every other webhook. Same transaction rule as enqueueAuth.
     */
    async enqueueEvent(
        q: Queryable,
        input: { environmentId: number; connection: { providerConfigKey: string; connectionId: string; webhookUrlOverride: string | null }; payload: object }
    ): Promise<number> {
        const targets = await this.targets(q, input.environmentId, input.connection.webhookUrlOverride);
        if (!targets.length) return 0;
        const body = stableJson(input.payload);
        const eventId = newMessageId();
        const orderingKey = orderingKeyOf(input.environmentId, input.connection);
        await this.outbox.enqueue(
            q,
            targets.map((targetUrl) => ({ environmentId: input.environmentId, eventId, targetUrl, body, orderingKey }))
        );
        return targets.length;
    }

    /** Queues `forward` webhooks for an inbound provider event: one per matched connection, or the raw payload once. */
    async enqueueForward(q: Queryable, input: ForwardInput): Promise<number> {
        const rows = [];
        if (!input.connections.length) {
            const eventId = newMessageId();
            for (const targetUrl of await this.targets(q, input.environmentId, null)) {
                rows.push({ environmentId: input.environmentId, eventId, targetUrl, body: stableJson(input.payload), headers: input.headers });
            }
        }
        for (const c of input.connections) {
            const body = stableJson({
                from: input.provider,
                type: 'forward',
                providerConfigKey: input.providerConfigKey,
                connectionId: c.connectionId,
                payload: input.payload
            });
            const eventId = newMessageId();
            for (const targetUrl of await this.targets(q, input.environmentId, c.webhookUrlOverride)) {
                rows.push({
                    environmentId: input.environmentId,
                    eventId,
                    targetUrl,
                    body,
                    headers: input.headers,
                    orderingKey: orderingKeyOf(input.environmentId, c)
                });
            }
        }
        await this.outbox.enqueue(q, rows);
        return rows.length;
    }
}

/** One connection's events share a key, so they reach each target in order. */
function orderingKeyOf(environmentId: number, c: { providerConfigKey: string; connectionId: string }): string {
    return `${environmentId}:${c.providerConfigKey}:${c.connectionId}`;
}
