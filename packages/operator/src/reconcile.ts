import { ApiException, type CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { BrokerError, type IntegrationBroker } from './broker.ts';
import { sameStatus, statusAfter, type IntegrationStatus, type Outcome } from './conditions.ts';
import type { EventRecorder } from './events.ts';
import { finalizer, resolve, SpecError, type BrokerDefaults, type KindInfo, type SecretReader } from './kinds.ts';
import type { Logger } from './log.ts';

export type IntegrationResource = KubernetesObject & { spec?: unknown; status?: IntegrationStatus };

export interface ReconcileDeps {
    customObjects: CustomObjectsApi;
    broker: IntegrationBroker;
    events: EventRecorder;
    secrets: SecretReader;
    defaults: BrokerDefaults;
    log: Logger;
}

/** 'done' when the resource matches the broker; 'retry' after a failure (the caller backs off); 'requeue' after a 409. */
export type ReconcileResult = 'done' | 'retry' | 'requeue';

const isConflict = (err: unknown) => err instanceof ApiException && err.code === 409;
const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

function outcomeOf(err: unknown): Outcome {
    if (err instanceof SpecError) return { ok: false, reason: err.reason, message: err.message };
    if (err instanceof BrokerError) return { ok: false, reason: err.rejected ? 'BrokerRejected' : 'BrokerUnavailable', message: err.message };
    return { ok: false, reason: 'InternalError', message: String((err as Error)?.message ?? err) };
}

const ref = (kind: KindInfo, o: IntegrationResource) => ({
    group: kind.group,
    version: kind.version,
    plural: kind.plural,
    namespace: o.metadata!.namespace!,
    name: o.metadata!.name!
});

/**
 * Brings one resource and the broker in line: holds it with a finalizer, upserts its integration, reports status,
 * conditions and Events; on deletion removes the integration, then lets the resource go.
 */
export async function reconcile(deps: ReconcileDeps, kind: KindInfo, obj: IntegrationResource): Promise<ReconcileResult> {
    const meta = obj.metadata!;
    const involved = {
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
        if (!(meta.finalizers ?? []).includes(finalizer)) {
            current = (await deps.customObjects.replaceNamespacedCustomObject({
                ...ref(kind, obj),
                body: { ...obj, metadata: { ...meta, finalizers: [...(meta.finalizers ?? []), finalizer] } }
            })) as IntegrationResource;
        }
        const generation = current.metadata!.generation ?? 0;
        let outcome: Outcome;
        try {
            const resolved = resolve(kind, meta.namespace!, current.spec, deps.secrets, deps.defaults, current.metadata!.annotations);
            const result = await deps.broker.upsert(resolved.target, resolved.integration);
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
        const status = statusAfter(current.status, outcome, generation, new Date());
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

async function finalize(
    deps: ReconcileDeps,
    kind: KindInfo,
    obj: IntegrationResource,
    involved: Parameters<EventRecorder['record']>[0]
): Promise<ReconcileResult> {
    const meta = obj.metadata!;
    if (!(meta.finalizers ?? []).includes(finalizer)) return 'done';
    try {
        const resolved = resolve(kind, meta.namespace!, obj.spec, deps.secrets, deps.defaults, meta.annotations);
        const removed = await deps.broker.remove(resolved.target, resolved.integration.uniqueKey);
        await deps.events.record(
            involved,
            'Normal',
            'IntegrationDeleted',
            `integration "${resolved.integration.uniqueKey}" ${removed === 'deleted' ? 'deleted from' : 'already absent from'} the broker`
        );
    } catch (err) {
        const outcome = outcomeOf(err);
        await deps.events.record(involved, 'Warning', 'DeletionFailed', outcome.message);
        const status = statusAfter(obj.status, { ...outcome, message: `deleting: ${outcome.message}` }, meta.generation ?? 0, new Date());
        if (!sameStatus(obj.status, status)) await deps.customObjects.replaceNamespacedCustomObjectStatus({ ...ref(kind, obj), body: { ...obj, status } });
        return 'retry';
    }
    await deps.customObjects.replaceNamespacedCustomObject({
        ...ref(kind, obj),
        body: { ...obj, metadata: { ...meta, finalizers: (meta.finalizers ?? []).filter((f) => f !== finalizer) } }
    });
    return 'done';
}
