/**
 * The worker of scheduled sync runs. The queue is the runs table: one statement takes a batch of due runs and
 * marks them started (SKIP LOCKED), and from then on their heartbeat and the reaper own them (a run whose
 * instance dies ends as `worker_lost`); the runs go on in the background, up to `capacity` at a time on this
 * instance. The worker takes only as many runs as it has free room for, so a busy instance leaves the rest to the
 * others, and it takes them when the runs its own scheduler queued fall due, rather than at the next poll.
 */
export interface SyncWorkerOptions<T> {
    /** Takes up to n runs that are due and marks them started (SKIP LOCKED: no other worker gets them). */
    fetch(n: number): Promise<T[]>;
    /** Runs a batch of taken runs; one promise per run, settled at that run's end. */
    run(items: T[]): Array<Promise<void>>;
    capacity: number;
    /** How often to look for jobs another instance queued or left. */
    pollMs: number;
    onError(err: unknown): void;
}

// Due times are grouped by this much, so a pass that queued a thousand runs wakes the worker a few times, not a
// thousand, and each wake-up takes a batch (started and loaded in a few round trips, however many runs it holds).
// A run starts up to this much after its slot: a tenth of the one-second goal for the start lag.
const WAKE_GRAIN_MS = 100;
const MAX_BATCH = 100;

export class SyncWorker<T> {
    private readonly o: SyncWorkerOptions<T>;
    private inFlight = 0;
    private readonly running = new Set<Promise<void>>();
    /** Future wake-ups (ms since epoch, rounded up to the grain). */
    private readonly wakeAts = new Set<number>();
    private stopped = false;
    private waitingForRoom = false;
    /** A wake-up came while no wait was under way. */
    private wakePending = false;
    private wakeNow: (() => void) | undefined;
    private loop: Promise<void> | undefined;

    constructor(opts: SyncWorkerOptions<T>) {
        this.o = opts;
    }

    start(): void {
        this.loop ??= this.work();
    }

    /** Fetch at `at` (jobs this instance queued fall due then). */
    wakeAt(at: Date): void {
        const t = Math.ceil(at.getTime() / WAKE_GRAIN_MS) * WAKE_GRAIN_MS;
        if (t <= Date.now()) {
            this.wake();
            return;
        }
        this.wakeAts.add(t);
        // A new earliest wake-up re-arms the current wait.
        if (this.wakeNow && t <= Math.min(...this.wakeAts)) this.wake();
    }

    /** Fetch now (or as soon as the fetch under way ends). */
    wake(): void {
        const w = this.wakeNow;
        this.wakeNow = undefined;
        if (w) w();
        else this.wakePending = true;
    }

    /** Stops fetching and waits up to `graceMs` for the runs in flight. */
    async stop(graceMs: number): Promise<void> {
        this.stopped = true;
        this.wake();
        await this.loop;
        await this.settle(graceMs);
    }

    /** Waits up to `ms` for the runs in flight to end (and record their end). */
    async settle(ms: number): Promise<void> {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => (timer = setTimeout(r, ms)))]);
        clearTimeout(timer);
    }

    /**
     * Room for at least this many runs before the next fetch (unless nothing runs): when runs queue behind busy
     * runner processes, freed room is taken in batches, not one run at a time (a batch costs what one run costs).
     */
    private get minRoom(): number {
        return Math.max(1, Math.floor(this.o.capacity / 4));
    }

    private get hasRoom(): boolean {
        return this.inFlight === 0 || this.o.capacity - this.inFlight >= this.minRoom;
    }

    private async work(): Promise<void> {
        while (!this.stopped) {
            const room = Math.min(this.o.capacity - this.inFlight, MAX_BATCH);
            let full = false;
            if (room > 0 && this.hasRoom) {
                try {
                    const items = await this.o.fetch(room);
                    full = items.length === room;
                    if (items.length) this.begin(items);
                } catch (err) {
                    this.o.onError(err);
                }
            }
            if (this.stopped) return;
            // A full fetch means more may be waiting: go again once there is room.
            if (full && this.hasRoom) continue;
            await this.pause();
        }
    }

    /** Waits for the next wake-up: a due time, room freed after running full, `wake()`, or the poll. */
    private pause(): Promise<void> {
        const now = Date.now();
        for (const t of this.wakeAts) if (t <= now) this.wakeAts.delete(t);
        const next = this.wakeAts.size ? Math.min(...this.wakeAts) : Number.POSITIVE_INFINITY;
        this.waitingForRoom = !this.hasRoom;
        if (this.wakePending && !this.waitingForRoom) {
            this.wakePending = false;
            return Promise.resolve();
        }
        const ms = Math.max(0, Math.min(next - now, this.o.pollMs));
        return new Promise<void>((resolve) => {
            const timer = setTimeout(() => this.wake(), ms);
            this.wakeNow = () => {
                clearTimeout(timer);
                this.waitingForRoom = false;
                resolve();
            };
        });
    }

    /** Runs a batch of taken runs in the background. */
    private begin(items: T[]): void {
        this.inFlight += items.length;
        let runs: Array<Promise<void>>;
        try {
            runs = this.o.run(items);
        } catch (err) {
            runs = items.map(() => Promise.reject(err));
        }
        for (const p of runs) {
            const run: Promise<void> = p
                .catch((err: unknown) => this.o.onError(err))
                .finally(() => {
                    this.inFlight--;
                    this.running.delete(run);
                    if (this.waitingForRoom && this.hasRoom) this.wake();
                });
            this.running.add(run);
        }
    }
}
