import { createServer, type Server } from 'node:http';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { IntegrationBroker } from './broker.ts';
import type { OperatorConfig } from './config.ts';
import { Controller } from './controller.ts';
import { EventRecorder } from './events.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './log.ts';

/** The operator: a leader elector that runs the controller only while this replica holds the Lease. */
export class Operator {
    readonly #config: OperatorConfig;
    readonly #kc: KubeConfig;
    readonly #broker: IntegrationBroker;
    readonly #log: Logger;
    readonly #elector: LeaderElector;
    #controller: Controller | undefined;
    #health: Server | undefined;

    constructor(config: OperatorConfig, kc: KubeConfig, broker: IntegrationBroker, log: Logger) {
        this.#config = config;
        this.#kc = kc;
        this.#broker = broker;
        this.#log = log;
        this.#elector = new LeaderElector({
            coordination: kc.makeApiClient(CoordinationV1Api),
            namespace: config.lease.namespace,
            name: config.lease.name,
            identity: config.lease.identity,
            leaseDurationMs: config.lease.durationMs,
            renewDeadlineMs: config.lease.renewDeadlineMs,
            retryPeriodMs: config.lease.retryPeriodMs,
            log,
            onStartedLeading: () => this.#startController(),
            onStoppedLeading: () => this.#stopController()
        });
    }

    /** Starts the health endpoint (/healthz; /readyz answers 200 once this replica leads or stands by) and the election. */
    async start(): Promise<{ healthPort: number }> {
        this.#health = createServer((req, res) => {
            const ok = req.url === '/healthz' || req.url === '/readyz';
            res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
            res.end(JSON.stringify(ok ? { ok: true, leader: this.#elector.leading } : { error: 'not found' }));
        });
        await new Promise<void>((resolve) => this.#health!.listen(this.#config.healthPort, resolve));
        const address = this.#health.address();
        this.#elector.start();
        return { healthPort: typeof address === 'object' && address ? address.port : this.#config.healthPort };
    }

    async stop(): Promise<void> {
        await this.#elector.stop();
        await this.#stopController();
        await new Promise<void>((resolve) => (this.#health ? this.#health.close(() => resolve()) : resolve()));
    }

    async #startController(): Promise<void> {
        const core = this.#kc.makeApiClient(CoreV1Api);
        this.#controller = new Controller({
            kubeConfig: this.#kc,
            core,
            customObjects: this.#kc.makeApiClient(CustomObjectsApi),
            broker: this.#broker,
            events: new EventRecorder(core, this.#config.lease.identity, this.#log),
            defaults: this.#config.defaults,
            log: this.#log,
            namespace: this.#config.watchNamespace,
            retryBaseMs: this.#config.retry.baseMs,
            retryMaxMs: this.#config.retry.maxMs,
            resyncMs: this.#config.resyncMs
        });
        try {
            await this.#controller.start();
            this.#log.info('controller started', { namespace: this.#config.watchNamespace ?? '(all)' });
        } catch (err) {
            this.#log.error('controller did not start', { error: String((err as Error).message ?? err).slice(0, 300) });
        }
    }

    async #stopController(): Promise<void> {
        const c = this.#controller;
        this.#controller = undefined;
        if (c) {
            await c.stop();
            this.#log.info('controller stopped', { reconciles: c.reconciles });
        }
    }
}
