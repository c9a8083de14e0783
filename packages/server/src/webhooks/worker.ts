import type { Db } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';
import type { Egress } from '../egress/egress.ts';
import type { Environment, Environments } from '../environments/environments.ts';
import { ApiError } from '../errors.ts';
import { WAKE_CHANNEL, type Delivery, type Outbox } from './outbox.ts';
import type { WebhookSettingsStore } from './settings.ts';
import { decide, type Outcome, type RetryPolicy } from './retry-policy.ts';
import { signatureHeaders } from './signing.ts';
import { secondsSince, type Metrics } from '../metrics/metrics.ts';

export const USER_AGENT = 'Switchboard-Webhooks/0.1 (+https://www.standardwebhooks.com/)';
const TIMEOUT_MS = 20_000;
// Longer than an attempt can take, so a live attempt is never claimed twice; after a crash the row is retried then.
const LEASE_MS = TIMEOUT_MS + 40_000;
const BATCH = 10;
// Other instances' retries and lost notifications are noticed within this interval at worst.
const POLL_MS = 5_000;
const ERROR_TEXT_BYTES = 512;

export interface WorkerDeps {
    db: Db;
    log: Logger;
    egress: Egress;
    outbox: Outbox;
    settings: WebhookSettingsStore;
    environments: Environments;
    policy: RetryPolicy;
    /** Records each attempt (issue #16 item 2). */
    metrics: Pick<Metrics, 'webhookDeliveries'>;
}

/** Sends due outbox rows; one per server process, woken by NOTIFY, by a timer at the next due row, and by a poll. */
export class DeliveryWorker {
    private readonly d: WorkerDeps;
    private timer: NodeJS.Timeout | undefined;
    private running: Promise<void> | undefined;
    private again = false;
    private stopped = false;
    private readonly envs = new Map<number, Environment>();
    // Shutdown cancels attempts in flight (they are recorded as retryable) instead of waiting out their timeout.
    private readonly shutdown = new AbortController();

    constructor(deps: WorkerDeps) {
        this.d = deps;
    }

    async start(): Promise<void> {
        await this.d.db.listen(WAKE_CHANNEL, () => this.wake());
        this.wake();
    }

    /** Runs a pass now, or right after the current one. */
    wake(): void {
        if (this.stopped) return;
        if (this.running) {
            this.again = true;
            return;
        }
        if (this.timer) clearTimeout(this.timer);
        this.running = this.loop().finally(() => {
            this.running = undefined;
            if (this.again) {
                this.again = false;
                this.wake();
            }
        });
    }

    async stop(): Promise<void> {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        this.shutdown.abort();
        await this.running;
    }

    private async loop(): Promise<void> {
        try {
            for (;;) {
                if (this.stopped) return;
                const batch = await this.d.outbox.claim(BATCH, LEASE_MS);
                await Promise.all(batch.map((d) => this.attempt(d)));
                if (batch.length < BATCH) break;
            }
            await this.schedule();
        } catch (err) {
            if (this.stopped) return;
            this.d.log.error({ err }, 'webhook delivery pass failed');
            this.timer = setTimeout(() => this.wake(), POLL_MS).unref();
        }
    }

    private async schedule(): Promise<void> {
        if (this.stopped) return;
        const due = await this.d.outbox.nextDue();
        const wait = due ? Math.min(Math.max(due.getTime() - Date.now(), 10), POLL_MS) : POLL_MS;
        this.timer = setTimeout(() => this.wake(), wait).unref();
    }

    private async environment(id: number): Promise<Environment | undefined> {
        const hit = this.envs.get(id);
        if (hit) return hit;
        const env = await this.d.environments.byId(id);
        if (env) this.envs.set(id, env);
        return env;
    }

    private async attempt(d: Delivery): Promise<void> {
        let outcome: Outcome;
        const sentAt = performance.now();
        try {
            outcome = await this.send(d);
        } catch (err) {
            outcome = { kind: 'error', retryable: true, detail: err instanceof Error ? err.message : String(err) };
        }
        const result = decide(outcome, d.attempts, this.d.policy);
        // Counted before it is recorded: whoever sees the recorded attempt sees it counted.
        this.d.metrics.webhookDeliveries.observe({ outcome: result.status === 'pending' ? 'retrying' : result.status }, secondsSince(sentAt));
        await this.d.outbox.record(d.id, result);
        const log = { delivery: d.id, event: d.eventId, attempt: d.attempts, status: result.status, httpStatus: result.httpStatus };
        if (result.status === 'delivered') this.d.log.debug(log, 'webhook delivered');
        else this.d.log.warn({ ...log, error: result.error }, 'webhook attempt failed');
    }

    private async send(d: Delivery): Promise<Outcome> {
        let url: URL;
        try {
            url = new URL(d.targetUrl);
        } catch {
            return { kind: 'error', retryable: false, detail: 'target URL is invalid' };
        }
        const env = await this.environment(d.environmentId);
        if (!env) return { kind: 'error', retryable: false, detail: 'environment no longer exists' };
        const { secret } = await this.d.settings.get(env);
        // Signed per attempt: the Standard Webhooks timestamp is the send time, and a rotated secret applies at once.
        const headers = {
            ...d.headers,
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            ...signatureHeaders(secret, d.eventId, Math.floor(Date.now() / 1000), d.body)
        };
        try {
            const res = await this.d.egress.stream({
                method: 'POST',
                url,
                headers,
                body: d.body,
                timeoutMs: TIMEOUT_MS,
                signal: AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), this.shutdown.signal])
            });
            const detail = await readSome(res.body).catch(() => '');
            return { kind: 'response', status: res.statusCode, retryAfter: res.headers['retry-after'], detail };
        } catch (err) {
            if (err instanceof ApiError) return { kind: 'error', retryable: err.code !== 'egress_forbidden', detail: `${err.code}: ${err.message}` };
            throw err;
        }
    }
}

/** The start of a response body, for last_error; the rest is discarded. */
async function readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= ERROR_TEXT_BYTES) {
            body.destroy();
            break;
        }
    }
    return Buffer.concat(chunks).subarray(0, ERROR_TEXT_BYTES).toString('utf8').trim();
}
