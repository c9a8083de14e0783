/**
 * What the operator needs from the broker: make one integration match a description, or remove it. Kept to this
 * narrow interface so the implementation is the one `switchboard apply` uses (packages/apply), not a second client.
 */
export interface BrokerTarget {
    /** The Switchboard server's base URL (no trailing slash). */
    baseUrl: string;
    /** The environment's secret key. */
    secretKey: string;
}

/** One integration as a resource describes it; credentials are the body of `POST /integrations`' `credentials`. */
export interface DesiredIntegration {
    uniqueKey: string;
    provider: string;
    displayName?: string | undefined;
    forwardWebhooks?: boolean | undefined;
    credentials?: Record<string, string> | undefined;
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface IntegrationBroker {
    /** Creates the integration, or corrects whatever differs from `desired` (drift). */
    upsert(target: BrokerTarget, desired: DesiredIntegration): Promise<UpsertOutcome>;
    /** Deletes the integration; 'absent' when it was already gone. */
    remove(target: BrokerTarget, uniqueKey: string): Promise<'deleted' | 'absent'>;
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
