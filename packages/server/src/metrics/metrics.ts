import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastHistogram } from './histogram.ts';

/**
 * The server's Prometheus metrics (issue #16 item 2; docs/observability.md lists them). One registry per server,
 * built in the composition root and passed by name to what records into it: the HTTP layer, the proxy relay, the
 * refresher, the run lifecycle and the webhook delivery worker. Nothing uses prom-client's global registry.
 *
 * Each event is one histogram: its `_count` series is the counter (rate, totals by label), its buckets the latency.
 */

// Seconds: from a cached answer to a slow provider or a long export.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// Script runs last from a second to hours.
const RUN_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/** A gauge's values, read when Prometheus scrapes. */
export type GaugeSource<L extends string> = () => Promise<Array<{ labels?: Partial<Record<L, string>>; value: number }>>;

export class Metrics {
    readonly registry = new Registry();
    /** Every request answered, by route template (`/connections/:connectionId`, never the raw URL). */
    readonly httpRequests: FastHistogram<'method' | 'route' | 'status'>;
    /** Each upstream attempt of the proxy relay, by provider and the status the provider answered (`error`: no answer). */
    readonly proxyUpstream: FastHistogram<'provider' | 'status'>;
    /** Each credentials refresh that asked the provider, by provider and outcome. */
    readonly refreshes: FastHistogram<'provider' | 'outcome'>;
    /** Each script run that ended, by kind (sync, action, webhook, on-event) and outcome. */
    readonly scriptRuns: FastHistogram<'kind' | 'outcome'>;
    /** Each webhook delivery attempt, by outcome (delivered, retrying, failed, dead). */
    readonly webhookDeliveries: FastHistogram<'outcome'>;
    /** Requests refused by a rate limit of the API's own (per key, per connection). */
    readonly rateLimited: Counter<'limit'>;
    /** Gauges whose source failed at a scrape (the database down): they are left out, the rest of the scrape is served. */
    readonly collectErrors: Counter<'metric'>;
    private readonly gauges: Array<() => Promise<void>> = [];

    constructor(opts: { processMetrics?: boolean } = {}) {
        const registers = [this.registry];
        this.httpRequests = new FastHistogram({
            name: 'switchboard_http_request_duration_seconds',
            help: 'Requests answered by the API, by method, route template and status',
            labelNames: ['method', 'route', 'status'],
            buckets: LATENCY_BUCKETS,
            registers
        });
        this.proxyUpstream = new FastHistogram({
            name: 'switchboard_proxy_upstream_duration_seconds',
            help: 'Upstream attempts of the proxy, by provider and upstream status (error: no answer), until the answer ended',
            labelNames: ['provider', 'status'],
            buckets: LATENCY_BUCKETS,
            registers
        });
        this.refreshes = new FastHistogram({
            name: 'switchboard_refresh_duration_seconds',
            help: 'Credential refreshes that asked the provider, by provider and outcome (success, failure, revoked, expired)',
            labelNames: ['provider', 'outcome'],
            buckets: LATENCY_BUCKETS,
            registers
        });
        this.scriptRuns = new FastHistogram({
            name: 'switchboard_script_run_duration_seconds',
            help: 'Script runs that ended, by kind (sync, action, webhook, on-event) and outcome (success, error, stopped)',
            labelNames: ['kind', 'outcome'],
            buckets: RUN_BUCKETS,
            registers
        });
        this.webhookDeliveries = new FastHistogram({
            name: 'switchboard_webhook_delivery_duration_seconds',
            help: 'Webhook delivery attempts, by outcome (delivered, retrying, failed, dead)',
            labelNames: ['outcome'],
            buckets: LATENCY_BUCKETS,
            registers
        });
        this.rateLimited = new Counter({
            name: 'switchboard_rate_limited_total',
            help: 'Requests refused with 429 by a rate limit, by limit (key, connection)',
            labelNames: ['limit'],
            registers
        });
        this.collectErrors = new Counter({
            name: 'switchboard_metrics_collect_errors_total',
            help: 'Scrapes at which a gauge could not be read (its source failed, e.g. the database was down) and was left out',
            labelNames: ['metric'],
            registers
        });
        // Event loop lag, heap, CPU, file descriptors (prom-client's process metrics), into this registry only.
        if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    }

    /** A gauge whose values are read from `source` at each scrape (queue depth, pool usage). */
    gauge<L extends string>(name: string, help: string, labelNames: readonly L[], source: GaugeSource<L>): void {
        const gauge = new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
        this.gauges.push(async () => {
            // One failing source must not fail the whole scrape: an outage is exactly when the event loop, HTTP and
            // error metrics are wanted. A gauge without labels then shows NaN (unknown) rather than a made-up 0.
            const values = await source().catch((): Awaited<ReturnType<GaugeSource<L>>> => {
                this.collectErrors.inc({ metric: name });
                return labelNames.length === 0 ? [{ value: Number.NaN }] : [];
            });
            gauge.reset();
            for (const { labels, value } of values) {
                if (labels) gauge.set(labels, value);
                else gauge.set(value);
            }
        });
    }

    /** The exposition text and its content type. Gauge sources are read first, so a failure is counted in this same scrape. */
    async scrape(): Promise<{ contentType: string; body: string }> {
        await Promise.all(this.gauges.map((read) => read()));
        return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    }
}

/** Seconds since a `performance.now()` reading. */
export function secondsSince(start: number): number {
    return (performance.now() - start) / 1000;
}
