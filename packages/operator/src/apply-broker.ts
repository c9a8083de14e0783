import {
    BrokerClient,
    BrokerError as ApplyBrokerError,
    DestructiveChangeRefused,
    PlanOutdated,
    readIntegration,
    upsertIntegration,
    type CurrentIntegration
} from '@switchboard/apply';
import { BrokerError, ownerKey, ownerRefKey, type BrokerTarget, type DesiredIntegration, type IntegrationBroker, type UpsertOutcome } from './broker.ts';

const environment = (target: BrokerTarget) =>
    // With a secret key the key decides the environment; the name is only a label.
    new BrokerClient({ baseUrl: target.baseUrl, auth: { kind: 'secret', key: target.secretKey }, timeoutMs: 15_000 }).environment('resource');

/** Sorts a failure into refused by the broker (a 4xx other than 408/429) or not reached / failed on its side. */
function classify(target: BrokerTarget, err: unknown): BrokerError {
    if (err instanceof BrokerError) return err;
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

/** Refuses to take over an integration another resource owns (the reason OwnedByAnother). */
function ownerCheck(uniqueKey: string, have: CurrentIntegration | undefined, owner: string): void {
    const holder = have?.custom?.[ownerKey];
    if (holder !== undefined && holder !== owner) {
        // The other resource is not named: it may be in a namespace this resource's authors cannot see.
        throw new BrokerError(
            `integration "${uniqueKey}" in the broker belongs to another Kubernetes resource; give this one another unique key, or delete the other first`,
            { rejected: true, code: 'owned_by_another' }
        );
    }
}

/** The operator's broker calls, made by @switchboard/apply (the same plan-and-apply code as `switchboard apply`). */
export class ApplyIntegrationBroker implements IntegrationBroker {
    // One call at a time per broker and key: two resources naming the same key cannot both find it unowned and
    // both take it (only the leader writes, so this lock is the only one needed).
    readonly #locks = new Map<string, Promise<unknown>>();

    async #locked<T>(target: BrokerTarget, uniqueKey: string, fn: () => Promise<T>): Promise<T> {
        const id = `${target.baseUrl} ${uniqueKey}`;
        const before = this.#locks.get(id) ?? Promise.resolve();
        const run = before.then(fn, fn);
        const tail = run.catch(() => undefined);
        this.#locks.set(id, tail);
        void tail.then(() => {
            if (this.#locks.get(id) === tail) this.#locks.delete(id);
        });
        return run;
    }

    async upsert(target: BrokerTarget, desired: DesiredIntegration): Promise<UpsertOutcome> {
        try {
            return await this.#locked(target, desired.uniqueKey, async () => {
                const result = await upsertIntegration(
                    environment(target),
                    desired.uniqueKey,
                    (have) => {
                        ownerCheck(desired.uniqueKey, have, desired.owner);
                        // The other custom keys stay as they are (custom is managed as a whole map).
                        const custom: Record<string, string> = {
                            ...(have?.custom ?? {}),
                            ...(desired.integration.custom ?? {}),
                            [ownerKey]: desired.owner,
                            [ownerRefKey]: desired.ownerRef
                        };
                        return { ...desired.integration, custom };
                    },
                    { allowReplace: desired.allowReplace }
                );
                return result.outcome;
            });
        } catch (err) {
            throw classify(target, err);
        }
    }

    async remove(target: BrokerTarget, uniqueKey: string, owner: string): Promise<'deleted' | 'absent' | 'not-owned'> {
        try {
            return await this.#locked(target, uniqueKey, async () => {
                const env = environment(target);
                const have = await readIntegration(env, uniqueKey);
                if (!have) return 'absent';
                if (have.custom?.[ownerKey] !== owner) return 'not-owned';
                return (await env.deleteIntegration(uniqueKey)) ? 'deleted' : 'absent';
            });
        } catch (err) {
            throw classify(target, err);
        }
    }
}
