import type { Metric } from 'prom-client';

/** One exposition line's value, as prom-client's registry formats it: `metricName{labels,sharedLabels} value`. */
interface ExportedValue {
    labels: Record<string, string | number>;
    sharedLabels: Record<string, string>;
    value: number;
    metricName: string;
}

interface Series<L extends string> {
    labels: Record<L, string>;
    /** Observations per bucket, not cumulative: index i counts values in (bound[i-1], bound[i]]; the last is +Inf. */
    counts: number[];
    sum: number;
    count: number;
}

/**
 * A Prometheus histogram for the per-request paths (every proxied request observes two). prom-client's Histogram
 * validates and hashes the label object on every observation, which was a measurable share of a proxied request
 * (bench/proxy); here a series is found by its label values joined, and the exposition (same names, labels and
 * order as prom-client's) is built only when Prometheus scrapes. Registered in the server's prom-client registry.
 */
export class FastHistogram<L extends string> {
    readonly type = 'histogram' as const;
    readonly aggregator = 'sum' as const;
    readonly name: string;
    readonly help: string;
    private readonly labelNames: readonly L[];
    private readonly bounds: readonly number[];
    private readonly series = new Map<string, Series<L>>();

    constructor(opts: {
        name: string;
        help: string;
        labelNames: readonly L[];
        buckets: readonly number[];
        registers: Array<{ registerMetric(m: Metric): void }>;
    }) {
        this.name = opts.name;
        this.help = opts.help;
        this.labelNames = opts.labelNames;
        this.bounds = [...opts.buckets].sort((a, b) => a - b);
        // prom-client's registry reads `name`, `help`, `type`, `aggregator` and `get()`: the shape of its own metrics.
        for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
    }

    observe(labels: Record<L, string>, value: number): void {
        // Label values are joined with NUL, which no method, route template, provider key, status or outcome holds.
        let key = '';
        for (const name of this.labelNames) key += `${labels[name]}\u0000`;
        let s = this.series.get(key);
        if (!s) {
            const own = {} as Record<L, string>;
            for (const name of this.labelNames) own[name] = labels[name];
            s = { labels: own, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
            this.series.set(key, s);
        }
        let i = 0;
        while (i < this.bounds.length && value > this.bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += value;
        s.count++;
    }

    async get(): Promise<{ name: string; help: string; type: 'histogram'; values: ExportedValue[]; aggregator: 'sum' }> {
        const values: ExportedValue[] = [];
        const bucket = `${this.name}_bucket`;
        for (const s of this.series.values()) {
            let acc = 0;
            this.bounds.forEach((le, i) => {
                acc += s.counts[i]!;
                values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucket });
            });
            values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
            values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
            values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
        }
        return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
    }

    reset(): void {
        this.series.clear();
    }
}
