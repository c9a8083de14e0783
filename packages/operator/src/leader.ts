import { ApiException, Observable, type ConfigurationOptions, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from './log.ts';

export interface LeaderOptions {
    coordination: CoordinationV1Api;
    namespace: string;
    name: string;
    identity: string;
    /** How long a lease holds without renewal before another replica may take it. */
    leaseDurationMs: number;
    /** A leader that could not renew for this long steps down (must be below leaseDurationMs). */
    renewDeadlineMs: number;
    /** How often candidates try and the leader renews. */
    retryPeriodMs: number;
    log: Logger;
    onStartedLeading(): Promise<void>;
    onStoppedLeading(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener(
            'abort',
            () => {
                clearTimeout(t);
                resolve();
            },
            { once: true }
        );
    });

/** Per-request options that abort the request after `ms` (the client's fetch takes the request context's signal). */
function timeout(ms: number): ConfigurationOptions {
    const signal = AbortSignal.timeout(ms);
    return {
        middleware: [
            {
                pre: (ctx) => {
                    ctx.setSignal(signal);
                    return new Observable(Promise.resolve(ctx));
                },
                post: (res) => new Observable(Promise.resolve(res))
            }
        ],
        middlewareMergeStrategy: 'append'
    };
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: a candidate takes the
 * lease when it is free or its holder has not renewed it for leaseDuration *as observed locally* (no trust in
 * other clocks); every write carries the resourceVersion read, so of two candidates only one wins (409 for the
 * other). The leader stops leading when it cannot renew within renewDeadline, before anyone else may take over:
 * each Lease call is aborted after renewDeadline, and a watchdog armed at each renewal stops leading at
 * renewal + renewDeadline even while a call hangs. A renewal counts from when it was sent, not when it answered.
 */
export class LeaderElector {
    readonly #o: LeaderOptions;
    readonly #abort = new AbortController();
    #observed: { record: string; at: number } | undefined;
    #leading = false;
    #loop: Promise<void> | undefined;
    #watchdog: NodeJS.Timeout | undefined;

    constructor(o: LeaderOptions) {
        if (o.renewDeadlineMs >= o.leaseDurationMs) throw new Error('renewDeadline must be shorter than leaseDuration');
        this.#o = o;
    }

    get leading(): boolean {
        return this.#leading;
    }

    start(): void {
        this.#loop = this.#run();
    }

    /** Stops, and releases the lease when leading so a standby takes over at once. */
    async stop(): Promise<void> {
        this.#abort.abort();
        clearTimeout(this.#watchdog);
        await this.#loop;
        if (this.#leading) {
            this.#leading = false;
            await this.#o.onStoppedLeading();
            await this.#release().catch(() => undefined);
        }
    }

    #stopLeading(why: string): void {
        clearTimeout(this.#watchdog);
        if (!this.#leading) return;
        this.#leading = false;
        this.#o.log.warn('lost leadership', { identity: this.#o.identity, why });
        void this.#o.onStoppedLeading();
    }

    async #run(): Promise<void> {
        const { retryPeriodMs, renewDeadlineMs, log } = this.#o;
        while (!this.#abort.signal.aborted) {
            const sent = Date.now();
            let held = false;
            try {
                held = await this.#tryAcquireOrRenew();
            } catch (err) {
                log.warn('lease update failed', { error: String((err as Error).message ?? err).slice(0, 200) });
            }
            if (this.#abort.signal.aborted) break;
            // The Lease is ours from when the write was sent; an answer that came after the deadline is too late to lead on.
            const left = sent + renewDeadlineMs - Date.now();
            if (held && left > 0) {
                clearTimeout(this.#watchdog);
                this.#watchdog = setTimeout(() => this.#stopLeading('not renewed within the renew deadline'), left);
                if (!this.#leading) {
                    this.#leading = true;
                    log.info('became leader', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
                    // Not awaited: starting the controller (listing, opening watches) must not hold up the renewals.
                    void this.#o.onStartedLeading();
                }
            }
            // Not held: the watchdog armed at the last renewal stops leading at its deadline.
            await sleep(retryPeriodMs, this.#abort.signal);
        }
    }

    async #tryAcquireOrRenew(): Promise<boolean> {
        const { coordination, namespace, name, identity, leaseDurationMs } = this.#o;
        const now = new Date();
        // One deadline for the read and the write of this try: a hung call is aborted, never awaited for ever.
        const opts = timeout(this.#o.renewDeadlineMs);
        let lease: V1Lease | undefined;
        try {
            lease = await coordination.readNamespacedLease({ name, namespace }, opts);
        } catch (err) {
            if (!(err instanceof ApiException && err.code === 404)) throw err;
        }
        const spec = {
            holderIdentity: identity,
            leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0
        };
        if (!lease) {
            return this.#write(() => coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } }, opts));
        }
        const record = JSON.stringify([lease.spec?.holderIdentity, lease.spec?.renewTime, lease.spec?.acquireTime]);
        if (this.#observed?.record !== record) this.#observed = { record, at: Date.now() };
        const holder = lease.spec?.holderIdentity;
        const mine = holder === identity;
        const expired = !holder || Date.now() - this.#observed.at >= (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
        if (!mine && !expired) return false;
        const body: V1Lease = {
            ...lease,
            spec: mine
                ? { ...lease.spec, renewTime: now, leaseDurationSeconds: spec.leaseDurationSeconds }
                : { ...spec, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
        };
        return this.#write(() => coordination.replaceNamespacedLease({ name, namespace, body }, opts));
    }

    async #write(op: () => Promise<V1Lease>): Promise<boolean> {
        try {
            const lease = await op();
            this.#observed = { record: JSON.stringify([lease.spec?.holderIdentity, lease.spec?.renewTime, lease.spec?.acquireTime]), at: Date.now() };
            return true;
        } catch (err) {
            // Another replica wrote first (409), or created the lease first.
            if (err instanceof ApiException && (err.code === 409 || err.code === 422)) return false;
            throw err;
        }
    }

    async #release(): Promise<void> {
        const { coordination, namespace, name, identity } = this.#o;
        const opts = timeout(this.#o.renewDeadlineMs);
        const lease = await coordination.readNamespacedLease({ name, namespace }, opts);
        if (lease.spec?.holderIdentity !== identity) return;
        await coordination.replaceNamespacedLease(
            {
                name,
                namespace,
                body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 } }
            },
            opts
        );
    }
}
