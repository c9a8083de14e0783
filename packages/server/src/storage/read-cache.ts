import { LRUCache } from 'lru-cache';
import type { Db } from './db.ts';

/**
 * A cache key or tag from its parts, unambiguous whatever the parts hold: `cacheKey('conn', 1, 'col', 'one:two')`
 * and `cacheKey('conn', 1, 'col:one', 'two')` differ, where a `:`-joined string would not (issue #10 item 4).
 */
export function cacheKey(...parts: Array<string | number>): string {
    return JSON.stringify(parts);
}

/** Invalidating this tag clears every entry. */
export const ALL = '*';

interface Entry<V> {
    value: V;
    tags: string[];
}

/**
 * A read-through cache for hot lookups (the proxy reads an integration and a connection per request).
 * Writers call invalidate(tag); the tag is broadcast to every instance over the database's notification
 * channel, and each evicts the entries carrying it. Entries also expire after ttlMs, which bounds staleness
 * if a notification is lost. Invalidating '*' clears everything. When full, the least recently used entry
 * goes (lru-cache), so a burst of distinct lookups does not empty the cache for everyone.
 */
export class ReadCache<V> {
    private readonly entries: LRUCache<string, Entry<V>>;
    private readonly byTag = new Map<string, Set<string>>();
    private readonly db: Db;
    private readonly channel: string;
    /** Bumped by every eviction: a value read before an invalidation must not be cached after it. */
    private gen = 0;

    constructor(db: Db, channel: string, opts: { ttlMs: number; max?: number }) {
        this.db = db;
        this.channel = channel;
        this.entries = new LRUCache<string, Entry<V>>({
            max: opts.max ?? 10_000,
            ttl: opts.ttlMs,
            // Keeps the tag index in step with whatever leaves the cache (LRU eviction, expiry, delete, overwrite).
            dispose: (entry, key) => this.untag(key, entry.tags)
        });
    }

    async start(): Promise<void> {
        await this.db.listen(this.channel, (tag) => this.evict(tag));
    }

    get(key: string): V | undefined {
        return this.entries.get(key)?.value;
    }

    get generation(): number {
        return this.gen;
    }

    /** Caches a value read from the database, unless an invalidation happened since `readGeneration`. */
    set(key: string, value: V, tags: string[], readGeneration: number): void {
        if (readGeneration !== this.gen) return;
        this.entries.set(key, { value, tags });
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

    /** Entries held now (tests). */
    get size(): number {
        return this.entries.size;
    }

    private evict(tag: string): void {
        this.gen++;
        if (tag === ALL) {
            this.entries.clear();
            this.byTag.clear();
            return;
        }
        for (const key of [...(this.byTag.get(tag) ?? [])]) this.entries.delete(key);
        this.byTag.delete(tag);
    }

    private untag(key: string, tags: string[]): void {
        for (const t of tags) {
            const keys = this.byTag.get(t);
            keys?.delete(key);
            if (keys?.size === 0) this.byTag.delete(t);
        }
    }
}
