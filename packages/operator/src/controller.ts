import {
    makeInformer,
    type CoreV1Api,
    type CustomObjectsApi,
    type Informer,
    type KubeConfig,
    type KubernetesObject,
    type V1Secret
} from '@kubernetes/client-node';
import type { ObjectCache } from '@kubernetes/client-node';
import type { IntegrationBroker } from './broker.ts';
import type { EventRecorder } from './events.ts';
import { kinds, referencedSecrets, type BrokerDefaults, type KindInfo } from './kinds.ts';
import type { Logger } from './log.ts';
import { WorkQueue } from './queue.ts';
import { reconcile, type IntegrationResource } from './reconcile.ts';

export interface ControllerOptions {
    kubeConfig: KubeConfig;
    core: CoreV1Api;
    customObjects: CustomObjectsApi;
    broker: IntegrationBroker;
    events: EventRecorder;
    defaults: BrokerDefaults;
    log: Logger;
    /** Watch one namespace, or all when undefined. */
    namespace: string | undefined;
    retryBaseMs: number;
    retryMaxMs: number;
    /** Re-checks every resource against the broker this often (corrects drift made in the broker itself). */
    resyncMs: number;
}

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const keyOf = (kind: KindInfo, ns: string, name: string) => `${kind.plural}/${ns}/${name}`;

/** Watches both integration kinds and Secrets, and feeds the work queue; runs only while this replica leads. */
export class Controller {
    readonly #o: ControllerOptions;
    readonly #queue: WorkQueue;
    readonly #informers = new Map<KindInfo, Cached<IntegrationResource>>();
    #secrets: Cached<V1Secret> | undefined;
    readonly #seen = new Map<string, string>();
    #stopped = false;
    /** How many reconciles this replica ran (for operators of the operator, and tests). */
    reconciles = 0;

    constructor(o: ControllerOptions) {
        this.#o = o;
        this.#queue = new WorkQueue((key) => this.#work(key), { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, resyncMs: o.resyncMs });
    }

    async start(): Promise<void> {
        const { kubeConfig, core, customObjects, namespace } = this.#o;
        const ns = namespace ? `/namespaces/${namespace}` : '';
        this.#secrets = makeInformer<V1Secret>(kubeConfig, `/api/v1${ns}/secrets`, () =>
            namespace ? core.listNamespacedSecret({ namespace }) : core.listSecretForAllNamespaces()
        );
        this.#secrets.on('add', (s) => this.#secretChanged(s));
        this.#secrets.on('update', (s) => this.#secretChanged(s));
        this.#secrets.on('delete', (s) => this.#secretChanged(s));
        this.#keepRunning(this.#secrets, 'secrets');
        await this.#secrets.start();
        if (this.#stopped) return void (await this.#secrets.stop());
        for (const kind of kinds) {
            const list = () =>
                (namespace
                    ? customObjects.listNamespacedCustomObject({ group: kind.group, version: kind.version, namespace, plural: kind.plural })
                    : customObjects.listCustomObjectForAllNamespaces({ group: kind.group, version: kind.version, resourcePlural: kind.plural })) as Promise<{
                    items: IntegrationResource[];
                    metadata?: { resourceVersion?: string };
                }>;
            const informer = makeInformer<IntegrationResource>(kubeConfig, `/apis/${kind.group}/${kind.version}${ns}/${kind.plural}`, list);
            // Our own status and finalizer writes come back as updates; only a new generation or a deletion is new work
            // (a failed resource keeps its backoff instead of being retried by its own status write).
            const enqueue = (o: IntegrationResource) => {
                const key = keyOf(kind, o.metadata!.namespace!, o.metadata!.name!);
                const mark = `${o.metadata!.generation}|${o.metadata!.deletionTimestamp ?? ''}`;
                if (this.#seen.get(key) === mark) return;
                this.#seen.set(key, mark);
                this.#queue.add(key);
            };
            informer.on('add', enqueue);
            informer.on('update', enqueue);
            informer.on('delete', (o) => {
                const key = keyOf(kind, o.metadata!.namespace!, o.metadata!.name!);
                this.#seen.delete(key);
                this.#queue.forget(key);
            });
            this.#keepRunning(informer, kind.plural);
            this.#informers.set(kind, informer);
            await informer.start();
            // Leadership may have been lost while starting: stop() has run, so stop what it could not see.
            if (this.#stopped) return void (await informer.stop());
        }
    }

    async stop(): Promise<void> {
        this.#stopped = true;
        this.#queue.stop();
        await Promise.all([...this.#informers.values(), ...(this.#secrets ? [this.#secrets] : [])].map((i) => i.stop()));
    }

    /** The informer stops on errors other than 410 (which it relists on): start it again after a pause. */
    #keepRunning(informer: Informer<KubernetesObject>, what: string): void {
        informer.on('error', (err) => {
            if (this.#stopped) return;
            this.#o.log.warn('watch failed; restarting', { what, error: String((err as Error)?.message ?? err).slice(0, 200) });
            setTimeout(() => {
                if (!this.#stopped) void informer.start().catch(() => undefined);
            }, 1000);
        });
    }

    #secretChanged(secret: V1Secret): void {
        const ns = secret.metadata?.namespace;
        const name = secret.metadata?.name;
        if (!ns || !name) return;
        for (const [kind, informer] of this.#informers) {
            for (const o of informer.list(ns)) {
                if (referencedSecrets(kind, o.spec).includes(name)) this.#queue.add(keyOf(kind, ns, o.metadata!.name!));
            }
        }
    }

    #readSecret = (namespace: string, name: string): Record<string, string> | undefined => {
        const s = this.#secrets?.get(name, namespace);
        if (!s) return undefined;
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
        for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = v;
        return data;
    };

    async #work(key: string): Promise<'done' | 'retry' | 'requeue'> {
        const [plural, ns, name] = key.split('/') as [string, string, string];
        const kind = kinds.find((k) => k.plural === plural)!;
        const obj = this.#informers.get(kind)?.get(name, ns);
        if (!obj || this.#stopped) return 'done';
        this.reconciles++;
        return reconcile(
            {
                customObjects: this.#o.customObjects,
                broker: this.#o.broker,
                events: this.#o.events,
                secrets: this.#readSecret,
                defaults: this.#o.defaults,
                log: this.#o.log
            },
            kind,
            obj
        );
    }
}
