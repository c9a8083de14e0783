import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from './log.ts';

export interface InvolvedObject {
    apiVersion: string;
    kind: string;
    namespace: string;
    name: string;
    uid: string;
    resourceVersion: string;
}

/** Records core/v1 Events on a resource (what `kubectl describe` and `kubectl get events` show). Best effort. */
export class EventRecorder {
    readonly #core: CoreV1Api;
    readonly #identity: string;
    readonly #log: Logger;
    constructor(core: CoreV1Api, identity: string, log: Logger) {
        this.#core = core;
        this.#identity = identity;
        this.#log = log;
    }

    async record(on: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
        const now = new Date();
        try {
            await this.#core.createNamespacedEvent({
                namespace: on.namespace,
                body: {
                    metadata: { name: `${on.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace: on.namespace },
                    involvedObject: on,
                    type,
                    reason,
                    message: message.slice(0, 1024),
                    source: { component: 'switchboard-operator' },
                    reportingComponent: 'switchboard.dev/operator',
                    reportingInstance: this.#identity,
                    firstTimestamp: now,
                    lastTimestamp: now,
                    count: 1
                }
            });
        } catch (err) {
            this.#log.warn('event not recorded', { reason, error: String((err as Error).message).slice(0, 200) });
        }
    }
}
