import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, gone, notFound } from './status.ts';
import { groupVersion, type KubeObject, type ResourceType } from './types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
    rv: number;
    typeKey: string;
    type: WatchEventType;
    object: KubeObject;
}

export interface Watcher {
    typeKey: string;
    matches(obj: KubeObject): boolean;
    send(type: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown): void;
}

/** Storage is per group and plural (one stored version per resource, as with a single-version CRD). */
export const typeKey = (t: Pick<ResourceType, 'group' | 'plural'>) => `${t.group}/${t.plural}`;
const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Everything but metadata and status: what, when it changes, bumps metadata.generation. */
const specPart = (o: KubeObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return JSON.stringify(rest);
};

/**
 * The stand-in's etcd: one global, increasing resourceVersion, a bounded change log that watches replay from
 * (older resourceVersions answer 410 Gone, as after etcd compaction), and the live watchers.
 */
export class ObjectStore {
    private rv = 1000;
    private readonly objects = new Map<string, Map<string, KubeObject>>();
    private log: WatchEvent[] = [];
    /** resourceVersions at or below this are compacted away. */
    private compactedAt = 0;
    readonly watchers = new Set<Watcher>();

    private readonly maxLog: number;
    constructor(maxLog = 2000) {
        this.maxLog = maxLog;
    }

    currentRv(): string {
        return String(this.rv);
    }

    /** Drops the change log, as etcd compaction does: a watch from an older resourceVersion then answers 410 Gone. */
    compact(): void {
        this.compactedAt = this.rv;
        this.log = [];
    }

    list(t: ResourceType, namespace: string | undefined): KubeObject[] {
        const m = this.objects.get(typeKey(t));
        if (!m) return [];
        return [...m.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace).map(clone);
    }

    get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
        const o = this.objects.get(typeKey(t))?.get(objectKey(namespace, name));
        if (!o) throw notFound(t.plural, t.group, name);
        return clone(o);
    }

    tryGet(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
        const o = this.objects.get(typeKey(t))?.get(objectKey(namespace, name));
        return o ? clone(o) : undefined;
    }

    create(t: ResourceType, namespace: string | undefined, input: KubeObject): KubeObject {
        const m = this.bucket(t);
        let name = input.metadata.name;
        if (!name && input.metadata.generateName) name = `${input.metadata.generateName}${randomUUID().slice(0, 5)}`;
        if (!name) throw notFound(t.plural, t.group, '');
        const key = objectKey(namespace, name);
        if (m.has(key)) throw alreadyExists(t.plural, t.group, name);
        const obj: KubeObject = clone(input);
        obj.apiVersion = groupVersion(t);
        obj.kind = t.kind;
        const { resourceVersion: _rv, deletionTimestamp: _d, uid: _u, ...meta } = obj.metadata;
        obj.metadata = { ...meta, name, uid: randomUUID(), creationTimestamp: now() };
        if (t.namespaced) obj.metadata.namespace = namespace;
        else delete obj.metadata.namespace;
        if (t.generation) obj.metadata.generation = 1;
        return this.commit(t, key, 'ADDED', obj);
    }

    /**
     * A write of the whole object (PUT, or a patch already applied). A resourceVersion in the input must match
     * the stored one (409 Conflict otherwise). `subresource` 'status' changes only .status; the main resource
     * ignores .status when the type has a status subresource.
     */
    update(t: ResourceType, namespace: string | undefined, name: string, input: KubeObject, subresource?: 'status'): KubeObject {
        const key = objectKey(namespace, name);
        const current = this.bucket(t).get(key);
        if (!current) throw notFound(t.plural, t.group, name);
        const wantRv = input.metadata?.resourceVersion;
        if (wantRv && wantRv !== current.metadata.resourceVersion) throw conflict(t.plural, t.group, name);
        let next: KubeObject;
        if (subresource === 'status') {
            next = clone(current);
            if (input['status'] === undefined) delete next['status'];
            else next['status'] = clone(input['status']);
        } else {
            next = clone(input);
            next.apiVersion = groupVersion(t);
            next.kind = t.kind;
            if (t.statusSubresource) {
                if (current['status'] === undefined) delete next['status'];
                else next['status'] = clone(current['status']);
            }
            // Server-owned metadata is kept; a deletionTimestamp once set cannot be taken back.
            next.metadata = {
                ...next.metadata,
                name: current.metadata.name,
                uid: current.metadata.uid,
                creationTimestamp: current.metadata.creationTimestamp,
                generation: current.metadata.generation,
                deletionTimestamp: current.metadata.deletionTimestamp,
                deletionGracePeriodSeconds: current.metadata.deletionGracePeriodSeconds
            };
            if (t.namespaced) next.metadata.namespace = current.metadata.namespace;
            if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
            if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
            if (current.metadata.deletionTimestamp) {
                const added = (next.metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
                if (added.length > 0) {
                    throw conflict(t.plural, t.group, name);
                }
            }
            if (t.generation && specPart(next) !== specPart(current)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
        }
        if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
            // The last finalizer is gone from an object being deleted: now it really goes.
            this.bucket(t).delete(key);
            next.metadata.resourceVersion = String(++this.rv);
            this.record(t, 'DELETED', next);
            return clone(next);
        }
        if (JSON.stringify(next) === JSON.stringify({ ...current })) return clone(current); // no-op writes keep the resourceVersion
        return this.commit(t, key, 'MODIFIED', next);
    }

    /** DELETE: with finalizers, only marks the object (deletionTimestamp); without, removes it. */
    delete(t: ResourceType, namespace: string | undefined, name: string, precondition?: string): { object: KubeObject; gone: boolean } {
        const key = objectKey(namespace, name);
        const current = this.bucket(t).get(key);
        if (!current) throw notFound(t.plural, t.group, name);
        if (precondition && precondition !== current.metadata.resourceVersion) throw conflict(t.plural, t.group, name);
        if ((current.metadata.finalizers ?? []).length > 0) {
            if (current.metadata.deletionTimestamp) return { object: clone(current), gone: false };
            const next = clone(current);
            next.metadata.deletionTimestamp = now();
            next.metadata.deletionGracePeriodSeconds = 0;
            if (t.generation) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
            return { object: this.commit(t, key, 'MODIFIED', next), gone: false };
        }
        this.bucket(t).delete(key);
        const last = clone(current);
        last.metadata.resourceVersion = String(++this.rv);
        this.record(t, 'DELETED', last);
        return { object: clone(last), gone: true };
    }

    /** Removes every object of a type (a CRD's deletion takes its custom resources with it). */
    dropType(t: ResourceType): void {
        for (const o of this.list(t, undefined)) {
            this.bucket(t).delete(objectKey(o.metadata.namespace, o.metadata.name!));
            o.metadata.resourceVersion = String(++this.rv);
            this.record(t, 'DELETED', o);
        }
    }

    /** The changes after `rv` for a type, or 410 Gone when they were compacted away. */
    since(t: ResourceType, rv: number): WatchEvent[] {
        if (rv < this.compactedAt) throw gone(String(rv));
        return this.log.filter((e) => e.typeKey === typeKey(t) && e.rv > rv);
    }

    private bucket(t: ResourceType): Map<string, KubeObject> {
        let m = this.objects.get(typeKey(t));
        if (!m) {
            m = new Map();
            this.objects.set(typeKey(t), m);
        }
        return m;
    }

    private commit(t: ResourceType, key: string, type: WatchEventType, obj: KubeObject): KubeObject {
        obj.metadata.resourceVersion = String(++this.rv);
        this.bucket(t).set(key, obj);
        this.record(t, type, obj);
        return clone(obj);
    }

    private record(t: ResourceType, type: WatchEventType, obj: KubeObject): void {
        const event: WatchEvent = { rv: this.rv, typeKey: typeKey(t), type, object: clone(obj) };
        this.log.push(event);
        if (this.log.length > this.maxLog) {
            const dropped = this.log.splice(0, this.log.length - this.maxLog);
            this.compactedAt = dropped[dropped.length - 1]!.rv;
        }
        for (const w of this.watchers) {
            if (w.typeKey === event.typeKey && w.matches(event.object)) w.send(type, clone(event.object));
        }
    }
}
