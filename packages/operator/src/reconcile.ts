import { ApiException, type CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { BrokerError, type BrokerTarget, type IntegrationBroker } from './broker.ts';
import { sameStatus, statusAfter, type AppliedIntegration, type IntegrationStatus, type Outcome } from './conditions.ts';
import type { EventRecorder, InvolvedObject } from './events.ts';
import { finalize } from './finalize.ts';
import { finalizer, referencedSecrets, removalTarget, resolve, brokerRef, SpecError, type BrokerDefaults, type KindInfo, type SecretReader } from './kinds.ts';
import type { Logger } from './log.ts';

export type IntegrationResource = KubernetesObject & { spec?: unknown; status?: IntegrationStatus };

/** Reads the named Secrets of one namespace (a missing one reads as undefined). */
export type SecretFetcher = (namespace: string, names: string[]) => Promise<SecretReader>;

export interface ReconcileDeps {
    customObjects: CustomObjectsApi;
    broker: IntegrationBroker;
    events: EventRecorder;
    secrets: SecretFetcher;
    defaults: BrokerDefaults;
    log: Logger;
}

/** 'done' when the resource matches the broker; 'retry' after a failure (the caller backs off); 'requeue' after a 409. */
export type ReconcileResult = 'done' | 'retry' | 'requeue';

export const isConflict = (err: unknown) => err instanceof ApiException && err.code === 409;
export const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

export function outcomeOf(err: unknown): Outcome {
    if (err instanceof SpecError) return { ok: false, reason: err.reason, message: err.message };
    if (err instanceof BrokerError) {
        if (err.code === 'owned_by_another') return { ok: false, reason: 'OwnedByAnother', message: err.message };
        return { ok: false, reason: err.rejected ? 'BrokerRejected' : 'BrokerUnavailable', message: err.message };
    }
    return { ok: false, reason: 'InternalError', message: String((err as Error)?.message ?? err) };
}

export const ref = (kind: KindInfo, o: IntegrationResource) => ({
    group: kind.group,
    version: kind.version,
    plural: kind.plural,
    namespace: o.metadata!.namespace!,
    name: o.metadata!.name!
});

/** The resource's identity in the broker's `custom` map: its uid, and a readable name beside it. */
export const ownerOf = (kind: KindInfo, o: IntegrationResource) => ({
    owner: o.metadata!.uid ?? '',
    ownerRef: `${kind.kind}/${o.metadata!.namespace}/${o.metadata!.name}`
});

const sameApplied = (a: AppliedIntegration, b: AppliedIntegration) => a.uniqueKey === b.uniqueKey && a.brokerUrl === b.brokerUrl;

/**
 * Brings one resource and the broker in line: upserts its integration, then holds the resource with a finalizer
 * (only once there is something to remove), removes what it applied before under another key or broker, and
 * reports status, conditions and Events; on deletion removes what it applied, then lets the resource go.
 */
export async function reconcile(deps: ReconcileDeps, kind: KindInfo, obj: IntegrationResource): Promise<ReconcileResult> {
    const meta = obj.metadata!;
    const involved: InvolvedObject = {
        apiVersion: `${kind.group}/${kind.version}`,
        kind: kind.kind,
        namespace: meta.namespace!,
        name: meta.name!,
        uid: meta.uid ?? '',
        resourceVersion: meta.resourceVersion ?? ''
    };
    try {
        if (meta.deletionTimestamp) return await finalize(deps, kind, obj, involved);
        let current = obj;
        let applied = obj.status?.applied;
        let outcome: Outcome;
        try {
            const secrets = await deps.secrets(meta.namespace!, referencedSecrets(kind, obj.spec));
            const resolved = resolve(kind, meta.namespace!, obj.spec, secrets, deps.defaults, meta.annotations);
            const result = await deps.broker.upsert(resolved.target, { ...resolved.integration, ...ownerOf(kind, obj) });
            const now: AppliedIntegration = { uniqueKey: resolved.integration.uniqueKey, brokerUrl: resolved.target.baseUrl };
            if (!(meta.finalizers ?? []).includes(finalizer)) {
                const held = await holdWithFinalizer(deps, kind, obj, resolved.target, now.uniqueKey);
                if (held === 'gone' || held === 'requeue') return held === 'gone' ? 'done' : 'requeue';
                current = held;
            }
            if (applied && !sameApplied(applied, now)) {
                const target =
                    applied.brokerUrl === now.brokerUrl
                        ? resolved.target
                        : removalTarget(brokerRef(kind, obj.spec), applied.brokerUrl, meta.namespace!, secrets, deps.defaults);
                await removeApplied(deps, kind, obj, involved, applied, target, 'previous');
            }
            applied = now;
            const reason = { created: 'IntegrationCreated', updated: 'IntegrationUpdated', replaced: 'IntegrationReplaced', unchanged: 'IntegrationUpToDate' }[
                result
            ];
            outcome = {
                ok: true,
                reason,
                message: `integration "${resolved.integration.uniqueKey}" ${result === 'unchanged' ? 'is up to date' : result} in the broker`
            };
            if (result !== 'unchanged') await deps.events.record(involved, 'Normal', reason, outcome.message);
        } catch (err) {
            if (err instanceof ApiException) throw err;
            outcome = outcomeOf(err);
            deps.log.warn('reconcile failed', {
                kind: kind.kind,
                namespace: meta.namespace,
                name: meta.name,
                reason: outcome.reason,
                message: outcome.message
            });
            await deps.events.record(involved, 'Warning', outcome.reason, outcome.message);
        }
        const generation = current.metadata!.generation ?? 0;
        const status: IntegrationStatus = { ...statusAfter(current.status, outcome, generation, new Date()), ...(applied ? { applied } : {}) };
        if (!sameStatus(current.status, status)) {
            await deps.customObjects.replaceNamespacedCustomObjectStatus({ ...ref(kind, current), body: { ...current, status } });
        }
        return outcome.ok ? 'done' : 'retry';
    } catch (err) {
        if (isConflict(err)) return 'requeue';
        if (isNotFound(err)) return 'done';
        deps.log.error('reconcile error', { kind: kind.kind, namespace: meta.namespace, name: meta.name, error: String((err as Error).message ?? err) });
        return 'retry';
    }
}

/**
 * Adds the finalizer once the integration exists. When the resource was deleted meanwhile (a finalizer cannot be
 * added then), the integration just made is removed again, so it is not left behind.
 */
async function holdWithFinalizer(
    deps: ReconcileDeps,
    kind: KindInfo,
    obj: IntegrationResource,
    target: BrokerTarget,
    uniqueKey: string
): Promise<IntegrationResource | 'gone' | 'requeue'> {
    const meta = obj.metadata!;
    try {
        return (await deps.customObjects.replaceNamespacedCustomObject({
            ...ref(kind, obj),
            body: { ...obj, metadata: { ...meta, finalizers: [...(meta.finalizers ?? []), finalizer] } }
        })) as IntegrationResource;
    } catch (err) {
        const refused = err instanceof ApiException && [404, 409, 422].includes(err.code);
        if (!refused) throw err;
        let latest: IntegrationResource | undefined;
        try {
            latest = (await deps.customObjects.getNamespacedCustomObject(ref(kind, obj))) as IntegrationResource;
        } catch (e) {
            if (!isNotFound(e)) throw e;
        }
        if (latest && !latest.metadata?.deletionTimestamp) return 'requeue';
        const removed = await deps.broker.remove(target, uniqueKey, ownerOf(kind, obj).owner).catch((e: unknown) => {
            deps.log.warn('integration left in the broker', { namespace: meta.namespace, name: meta.name, uniqueKey, error: outcomeOf(e).message });
            return 'failed';
        });
        deps.log.info('resource deleted while its integration was created', { namespace: meta.namespace, name: meta.name, uniqueKey, removed });
        return 'gone';
    }
}

/**
 * Removes an integration this resource applied, only if the resource owns it. `target` undefined: no key may be used
 * there (see removalTarget), so it is left with a Warning. Throws a BrokerError when the broker cannot do it.
 */
export async function removeApplied(
    deps: ReconcileDeps,
    kind: KindInfo,
    obj: IntegrationResource,
    involved: InvolvedObject,
    applied: AppliedIntegration,
    target: BrokerTarget | undefined,
    which: 'previous' | 'current' | 'spec'
): Promise<void> {
    const what = `integration "${applied.uniqueKey}" at ${applied.brokerUrl}`;
    if (!target) {
        await deps.events.record(
            involved,
            'Warning',
            'IntegrationLeft',
            `${what} is left in the broker: the resource gives no key that may be used there (its key Secret may be gone)`
        );
        return;
    }
    const removed = await deps.broker.remove(target, applied.uniqueKey, ownerOf(kind, obj).owner);
    if (removed === 'not-owned') {
        await deps.events.record(involved, 'Warning', 'IntegrationKept', `${what} was not deleted: this resource does not own it`);
    } else if (removed === 'deleted') {
        const reason = which === 'previous' ? 'PreviousIntegrationDeleted' : 'IntegrationDeleted';
        await deps.events.record(involved, 'Normal', reason, `${what} deleted from the broker`);
    } else if (which !== 'spec') {
        await deps.events.record(
            involved,
            'Normal',
            which === 'previous' ? 'PreviousIntegrationDeleted' : 'IntegrationDeleted',
            `${what} already absent from the broker`
        );
    }
}
