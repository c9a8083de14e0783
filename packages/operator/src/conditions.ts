/** A metav1.Condition. */
export interface Condition {
    type: string;
    status: 'True' | 'False' | 'Unknown';
    observedGeneration: number;
    lastTransitionTime: string;
    reason: string;
    message: string;
}

/** Where the operator last put a resource's integration: what it removes when the key or broker changes, or on deletion. */
export interface AppliedIntegration {
    uniqueKey: string;
    brokerUrl: string;
}

/** The status both kinds report (the shape NangoIntegration users read: status, error_message, conditions). */
export interface IntegrationStatus {
    status?: string;
    error_message?: string;
    observedGeneration?: number;
    conditions?: Condition[];
    applied?: AppliedIntegration;
}

export const conditionTypes = { ready: 'Ready', created: 'IntegrationCreated', failed: 'IntegrationCreationFailed' } as const;

type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Sets a condition, keeping lastTransitionTime when its status did not change (the Kubernetes convention). */
export function setCondition(list: Condition[], input: ConditionInput, generation: number, now: Date): Condition[] {
    const previous = list.find((c) => c.type === input.type);
    const lastTransitionTime = previous && previous.status === input.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    const next: Condition = { ...input, observedGeneration: generation, lastTransitionTime };
    return previous ? list.map((c) => (c.type === input.type ? next : c)) : [...list, next];
}

export interface Outcome {
    ok: boolean;
    /** A CamelCase reason: IntegrationCreated, IntegrationUpdated, IntegrationUpToDate, BrokerRejected, BrokerUnavailable, SecretNotFound, … */
    reason: string;
    message: string;
}

/** The status after one reconcile of a resource at `generation`. */
export function statusAfter(previous: IntegrationStatus | undefined, outcome: Outcome, generation: number, now: Date): IntegrationStatus {
    let conditions = previous?.conditions ?? [];
    const wasCreated = conditions.some((c) => c.type === conditionTypes.created && c.status === 'True');
    if (outcome.ok) {
        conditions = setCondition(
            conditions,
            { type: conditionTypes.ready, status: 'True', reason: outcome.reason, message: outcome.message },
            generation,
            now
        );
        conditions = setCondition(
            conditions,
            { type: conditionTypes.created, status: 'True', reason: outcome.reason, message: outcome.message },
            generation,
            now
        );
        conditions = setCondition(conditions, { type: conditionTypes.failed, status: 'False', reason: outcome.reason, message: '' }, generation, now);
        return { status: 'Created', error_message: '', observedGeneration: generation, conditions };
    }
    conditions = setCondition(conditions, { type: conditionTypes.ready, status: 'False', reason: outcome.reason, message: outcome.message }, generation, now);
    // An integration created earlier still exists in the broker when a later update fails.
    conditions = setCondition(
        conditions,
        wasCreated
            ? {
                  type: conditionTypes.created,
                  status: 'True',
                  reason: 'IntegrationExists',
                  message: 'the integration exists in the broker; the latest change is not applied'
              }
            : { type: conditionTypes.created, status: 'False', reason: outcome.reason, message: outcome.message },
        generation,
        now
    );
    conditions = setCondition(conditions, { type: conditionTypes.failed, status: 'True', reason: outcome.reason, message: outcome.message }, generation, now);
    return { status: 'Failed', error_message: outcome.message, observedGeneration: generation, conditions };
}

/** True when two statuses say the same thing (lastTransitionTime aside), so no write is needed. */
export function sameStatus(a: IntegrationStatus | undefined, b: IntegrationStatus): boolean {
    const strip = (s: IntegrationStatus | undefined) =>
        JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c).sort((x, y) => x.type.localeCompare(y.type)) });
    return strip(a) === strip(b);
}
