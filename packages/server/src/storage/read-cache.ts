import type { Db } from './db.ts';

/**
 * A read-through cache for hot lookups (the proxy reads an integration and a connection per request).
 * Writers call invalidate(tag); the tag is broadcast to every instance over the database's notification
 * channel, and each evicts the entries carrying it. Entries also expire after ttlMs, which bounds staleness
 * if a notification is lost. Invalidating '*' clears everything.
 */
export class ReadCache<V> {
    private readonly entries = new Map<string, { value: V; expires: number; tags: string[] }>();
    private readonly byTag = new Map<string, Set<string>>();
    private readonly db: Db;
    private readonly channel: string;
    private readonly ttlMs: number;
    private readonly max: number;
    /** Bumped by every eviction: a value read before an invalidation must not be cached after it. */
    private gen = 0;

    constructor(db: Db, channel: string, opts: { ttlMs: number; max?: number }) {
        this.db = db;
        this.channel = channel;
        this.ttlMs = opts.ttlMs;
        this.max = opts.max ?? 10_000;
    }

    async start(): Promise<void> {
        await this.db.listen(this.channel, (tag) => this.evict(tag));
    }

    get(key: string): V | undefined {
        const e = this.entries.get(key);
        if (!e) return undefined;
        if (e.expires < Date.now()) {
            this.entries.delete(key);
            return undefined;
        }
        return e.value;
    }

    get generation(): number {
        return this.gen;
    }

    /** Caches a value read from the database, unless an invalidation happened since `readGeneration`. */
    set(key: string, value: V, tags: string[], readGeneration: number): void {
        if (readGeneration !== this.gen) return;
        if (this.entries.size >= this.max) this.evict('*');
        this.entries.set(key, { value, expires: Date.now() + this.ttlMs, tags });
        for (const t of tags) {
            let keys = this.byTag.get(t);
            if (!keys) this.byTag.set(t, (keys = new Set()));
            keys.add(key);
        }
    }

    /** Evicts locally at once, then tells the other instances. */
    async invalidate(tag: string): Promise<void> {
        this.evict(tag);
        await this.db.notify(this.channel, tag);
    }

    private evict(tag: string): void {
        this.gen++;
        if (tag === '*') {
            this.entries.clear();
            this.byTag.clear();
            return;
        }
        for (const key of this.byTag.get(tag) ?? []) this.entries.delete(key);
        this.byTag.delete(tag);
    }
}
