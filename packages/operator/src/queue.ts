/**
 * A work queue keyed by resource: one run per key at a time (a change during a run queues one more), per-key
 * exponential backoff after failures (base × 2^(failures−1), capped), and a delayed re-run for periodic resync.
 */
export class WorkQueue {
    readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
    readonly #running = new Set<string>();
    readonly #dirty = new Set<string>();
    readonly #failures = new Map<string, number>();
    readonly #work: (key: string) => Promise<'done' | 'retry' | 'requeue'>;
    readonly #opts: { baseMs: number; maxMs: number; resyncMs: number };
    #stopped = false;

    constructor(work: (key: string) => Promise<'done' | 'retry' | 'requeue'>, opts: { baseMs: number; maxMs: number; resyncMs: number }) {
        this.#work = work;
        this.#opts = opts;
    }

    /** Runs `key` after `delayMs` (sooner if it is already due sooner). */
    add(key: string, delayMs = 0): void {
        if (this.#stopped) return;
        if (this.#running.has(key) && delayMs === 0) {
            this.#dirty.add(key);
            return;
        }
        const at = Date.now() + delayMs;
        const existing = this.#timers.get(key);
        if (existing && existing.at <= at) return;
        if (existing) clearTimeout(existing.timer);
        this.#timers.set(key, { at, timer: setTimeout(() => void this.#run(key), delayMs) });
    }

    /** The delay before the next try after `failures` consecutive failures. */
    backoff(failures: number): number {
        return Math.min(this.#opts.baseMs * 2 ** Math.max(0, failures - 1), this.#opts.maxMs);
    }

    forget(key: string): void {
        this.#failures.delete(key);
        const t = this.#timers.get(key);
        if (t) clearTimeout(t.timer);
        this.#timers.delete(key);
    }

    stop(): void {
        this.#stopped = true;
        for (const { timer } of this.#timers.values()) clearTimeout(timer);
        this.#timers.clear();
    }

    async #run(key: string): Promise<void> {
        this.#timers.delete(key);
        if (this.#stopped) return;
        if (this.#running.has(key)) {
            this.#dirty.add(key);
            return;
        }
        this.#running.add(key);
        let result: 'done' | 'retry' | 'requeue';
        try {
            result = await this.#work(key);
        } catch {
            result = 'retry';
        }
        this.#running.delete(key);
        if (result === 'retry') {
            const failures = (this.#failures.get(key) ?? 0) + 1;
            this.#failures.set(key, failures);
            this.add(key, this.backoff(failures));
        } else {
            this.#failures.delete(key);
            if (result === 'requeue') this.add(key, 100);
            else if (this.#opts.resyncMs > 0) this.add(key, this.#opts.resyncMs);
        }
        if (this.#dirty.delete(key)) this.add(key, 0);
    }
}
