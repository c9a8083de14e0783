import {
    ApiException,
    makeInformer,
    type CoreV1Api,
    type CustomObjectsApi,
    type Informer,
    type KubeConfig,
    type KubernetesObject
} from '@kubernetes/client-node';
import type { ObjectCache } from '@kubernetes/client-node';
import type { IntegrationBroker } from './broker.ts';
import type { EventRecorder } from './events.ts';
import { kinds, SpecError, type BrokerDefaults, type KindInfo, type SecretReader } from './kinds.ts';
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

/** Annotations whose change is new work, like a spec change (allow-replace; any other switchboard.dev/ one, to reconcile at once). */
const watchedAnnotations = (o: IntegrationResource) =>
    Object.entries(o.metadata?.annotations ?? {})
        .filter(([k]) => k.startsWith('switchboard.dev/'))
        .sort(([a], [b]) => a.localeCompare(b));

/**
 * Watches both integration kinds and feeds the work queue; runs only while this replica leads. Secrets are not
 * watched or listed: each reconcile reads the few a resource names, by name, so the operator needs only `get` on
 * Secrets and keeps none in memory. A rotated Secret is applied at the next resync (or at once on any edit).
 */
export class Controller {
    readonly #o: ControllerOptions;
    readonly #queue: WorkQueue;
    readonly #informers = new Map<KindInfo, Cached<IntegrationResource>>();
    readonly #seen = new Map<string, string>();
    #stopped = false;
    /** How many reconciles this replica ran (for operators of the operator, and tests). */
    reconciles = 0;

    constructor(o: ControllerOptions) {
        this.#o = o;
        this.#queue = new WorkQueue((key) => this.#work(key), { baseMs: o.retryBaseMs, maxMs: o.retryMaxMs, resyncMs: o.resyncMs });
    }

    async start(): Promise<void> {
        const { kubeConfig, customObjects, namespace } = this.#o;
        const ns = namespace ? `/namespaces/${namespace}` : '';
        for (const kind of kinds) {
            const list = () =>
                (namespace
                    ? customObjects.listNamespacedCustomObject({ group: kind.group, version: kind.version, namespace, plural: kind.plural })
                    : customObjects.listCustomObjectForAllNamespaces({ group: kind.group, version: kind.version, resourcePlural: kind.plural })) as Promise<{
                    items: IntegrationResource[];
                    metadata?: { resourceVersion?: string };
                }>;
            const informer = makeInformer<IntegrationResource>(kubeConfig, `/apis/${kind.group}/${kind.version}${ns}/${kind.plural}`, list);
            // Our own status and finalizer writes come back as updates; only a new generation, a deletion or a change of
            // a switchboard.dev/ annotation is new work (a failed resource keeps its backoff instead of being retried by
            // its own status write).
            const enqueue = (o: IntegrationResource) => {
                const key = keyOf(kind, o.metadata!.namespace!, o.metadata!.name!);
                const mark = JSON.stringify([o.metadata!.generation, o.metadata!.deletionTimestamp ?? '', watchedAnnotations(o)]);
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
        await Promise.all([...this.#informers.values()].map((i) => i.stop()));
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

    /** Reads the named Secrets of a namespace, each once; a missing one reads as undefined (reported as SecretNotFound). */
    #readSecrets = async (namespace: string, names: string[]): Promise<SecretReader> => {
        const found = new Map<string, Record<string, string> | undefined>();
        for (const name of new Set(names)) {
            try {
                const s = await this.#o.core.readNamespacedSecret({ namespace, name });
                const data: Record<string, string> = {};
                for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
                found.set(name, data);
            } catch (err) {
                if (err instanceof ApiException && err.code === 404) found.set(name, undefined);
                else
                    throw new SpecError(
                        'SecretUnreadable',
                        `Secret ${namespace}/${name} could not be read: ${String((err as Error)?.message ?? err).slice(0, 200)}`
                    );
            }
        }
        return (_ns, name) => found.get(name);
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
                secrets: this.#readSecrets,
                defaults: this.#o.defaults,
                log: this.#o.log
            },
            kind,
            obj
        );
    }
}
