import {
    BrokerClient,
    BrokerError as ApplyBrokerError,
    DestructiveChangeRefused,
    PlanOutdated,
    deleteIntegration,
    upsertIntegration
} from '@switchboard/apply';
import { BrokerError, type BrokerTarget, type DesiredIntegration, type IntegrationBroker, type UpsertOutcome } from './broker.ts';

const environment = (target: BrokerTarget) =>
    // With a secret key the key decides the environment; the name is only a label.
    new BrokerClient({ baseUrl: target.baseUrl, auth: { kind: 'secret', key: target.secretKey }, timeoutMs: 15_000 }).environment('resource');

/** Sorts a failure into refused by the broker (a 4xx other than 408/429) or not reached / failed on its side. */
function classify(target: BrokerTarget, err: unknown): BrokerError {
    if (err instanceof DestructiveChangeRefused) {
        return new BrokerError(
            'the provider changed: replacing the integration deletes its connections; set the annotation switchboard.dev/allow-replace: "true" to allow it',
            { rejected: true, code: 'replace_refused', cause: err }
        );
    }
    // Created meanwhile with another provider: the next reconcile reads it and plans the replace.
    if (err instanceof PlanOutdated) return new BrokerError(err.message, { rejected: false, code: 'plan_outdated', cause: err });
    if (err instanceof ApplyBrokerError) {
        const rejected = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
        return new BrokerError(`the broker refused the integration (${err.status} ${err.code}): ${err.message}`, { rejected, code: err.code, cause: err });
    }
    const cause = (err as Error)?.cause as { code?: string; message?: string } | undefined;
    const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
    return new BrokerError(`the broker at ${target.baseUrl} could not be reached: ${why}`, { rejected: false, cause: err });
}

/** The operator's broker calls, made by @switchboard/apply (the same plan-and-apply code as `switchboard apply`). */
export class ApplyIntegrationBroker implements IntegrationBroker {
    async upsert(target: BrokerTarget, desired: DesiredIntegration): Promise<UpsertOutcome> {
        try {
            const result = await upsertIntegration(environment(target), desired.uniqueKey, desired.integration, { allowReplace: desired.allowReplace });
            return result.outcome;
        } catch (err) {
            throw classify(target, err);
        }
    }

    async remove(target: BrokerTarget, uniqueKey: string): Promise<'deleted' | 'absent'> {
        try {
            return (await deleteIntegration(environment(target), uniqueKey)) ? 'deleted' : 'absent';
        } catch (err) {
            throw classify(target, err);
        }
    }
}
