import type { DesiredIntegration as ApplyIntegration } from '@switchboard/apply';

/**
 * What the operator needs from the broker: make one integration match a description, or remove it. Implemented
 * by apply-broker.ts on @switchboard/apply, the code behind `switchboard apply`; the interface keeps the
 * reconciler testable and the classification of failures (refused vs unreachable) in one place.
 */
export interface BrokerTarget {
    /** The Switchboard server's base URL (no trailing slash). */
    baseUrl: string;
    /** The environment's secret key. */
    secretKey: string;
}

/** One integration as a resource describes it, in the desired-state model of `switchboard apply`. */
export interface DesiredIntegration {
    uniqueKey: string;
    integration: ApplyIntegration;
    /** A provider change replaces the integration (its connections are deleted): only when the resource allows it. */
    allowReplace: boolean;
    /** The resource's uid, recorded in the integration's `custom` map: another resource cannot take it over. */
    owner: string;
    /** `Kind/namespace/name` of the owner, recorded beside it for people reading the broker. */
    ownerRef: string;
}

/** The `custom` keys that record which Kubernetes resource owns an integration. */
export const ownerKey = 'k8s_owner';
export const ownerRefKey = 'k8s_owner_ref';

export type UpsertOutcome = 'created' | 'updated' | 'replaced' | 'unchanged';

export interface IntegrationBroker {
    /** Creates the integration, or corrects whatever differs from `desired` (drift). */
    upsert(target: BrokerTarget, desired: DesiredIntegration): Promise<UpsertOutcome>;
    /**
     * Deletes the integration when `owner` owns it; 'absent' when it was already gone, 'not-owned' when another
     * resource (or nobody: made by hand, or by an operator before ownership was recorded) owns it and it was kept.
     */
    remove(target: BrokerTarget, uniqueKey: string, owner: string): Promise<'deleted' | 'absent' | 'not-owned'>;
}

/**
 * A failed broker call. `rejected` means the broker answered and refused (a 4xx: the description is wrong);
 * otherwise it could not be reached or failed on its side (network, 5xx, 429). Both are retried with backoff.
 */
export class BrokerError extends Error {
    readonly rejected: boolean;
    readonly code: string | undefined;
    constructor(message: string, opts: { rejected: boolean; code?: string | undefined; cause?: unknown }) {
        super(message, { cause: opts.cause });
        this.name = 'BrokerError';
        this.rejected = opts.rejected;
        this.code = opts.code;
    }
}
