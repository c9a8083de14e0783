import { BrokerError } from './broker.ts';
import { sameStatus, statusAfter, type AppliedIntegration } from './conditions.ts';
import type { InvolvedObject } from './events.ts';
import { brokerRef, finalizer, normalizeUrl, removalTarget, type BrokerRef, type KindInfo } from './kinds.ts';
import { outcomeOf, ref, removeApplied, type IntegrationResource, type ReconcileDeps, type ReconcileResult } from './reconcile.ts';

/** The spec's own key and broker URL, when they can be read (a resource from before status.applied was recorded). */
function specPlace(r: BrokerRef | undefined, defaultUrl: string | undefined): AppliedIntegration | undefined {
    if (!r?.uniqueKey) return undefined;
    try {
        const brokerUrl = r.url ? normalizeUrl(r.url, r.fields.url) : defaultUrl ? normalizeUrl(defaultUrl, 'SWITCHBOARD_URL') : undefined;
        return brokerUrl ? { uniqueKey: r.uniqueKey, brokerUrl } : undefined;
    } catch {
        return undefined;
    }
}

/**
 * A resource being deleted: removes what it applied (status.applied, and what its spec names now if that differs),
 * each only where this resource owns it, then drops the finalizer. Only the broker's key is read, never the
 * credentials: when that key cannot be had (its Secret was deleted with the namespace), the integration is left
 * with a Warning instead of holding the resource forever. Only a broker that fails is retried.
 */
export async function finalize(deps: ReconcileDeps, kind: KindInfo, obj: IntegrationResource, involved: InvolvedObject): Promise<ReconcileResult> {
    const meta = obj.metadata!;
    if (!(meta.finalizers ?? []).includes(finalizer)) return 'done';
    let spec: BrokerRef | undefined;
    try {
        spec = brokerRef(kind, obj.spec);
    } catch {
        spec = undefined;
    }
    const applied = obj.status?.applied;
    const fromSpec = specPlace(spec, deps.defaults.baseUrl);
    const places: Array<{ at: AppliedIntegration; which: 'current' | 'spec' }> = [];
    if (applied) places.push({ at: applied, which: 'current' });
    if (fromSpec && !(applied && applied.uniqueKey === fromSpec.uniqueKey && applied.brokerUrl === fromSpec.brokerUrl)) {
        places.push({ at: fromSpec, which: applied ? 'spec' : 'current' });
    }
    try {
        if (places.length === 0) {
            await deps.events.record(
                involved,
                'Warning',
                'IntegrationLeft',
                'nothing to delete from the broker: the resource says neither where its integration is nor what it applied'
            );
        }
        const secrets = await deps.secrets(meta.namespace!, spec?.keyRef ? [spec.keyRef.name] : []);
        for (const { at, which } of places) {
            const target = spec ? removalTarget(spec, at.brokerUrl, meta.namespace!, secrets, deps.defaults) : undefined;
            await removeApplied(deps, kind, obj, involved, at, target, which);
        }
    } catch (err) {
        if (!(err instanceof BrokerError)) throw err;
        const outcome = outcomeOf(err);
        await deps.events.record(involved, 'Warning', 'DeletionFailed', outcome.message);
        const status = {
            ...statusAfter(obj.status, { ...outcome, message: `deleting: ${outcome.message}` }, meta.generation ?? 0, new Date()),
            ...(applied ? { applied } : {})
        };
        if (!sameStatus(obj.status, status)) await deps.customObjects.replaceNamespacedCustomObjectStatus({ ...ref(kind, obj), body: { ...obj, status } });
        return 'retry';
    }
    await deps.customObjects.replaceNamespacedCustomObject({
        ...ref(kind, obj),
        body: { ...obj, metadata: { ...meta, finalizers: (meta.finalizers ?? []).filter((f) => f !== finalizer) } }
    });
    return 'done';
}
