// How a providers file's unknown keys are treated (docs/providers.md, first section). Nango adds fields to its
// schema from release to release, so a file copied from a newer Nango must still load: an unknown key is
// reported by name and dropped. A key that is a near miss of a field we know (`retries` for `retry`,
// `scope_seperator`) is a typo whose silent loss would change behaviour, so it still refuses the start.
import type { z } from 'zod';

/** The structural bits of zod's internals we walk: each schema's `_zod.def`. */
interface Node {
    _zod: { def: Record<string, unknown> & { type: string } };
}
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && '_zod' in v;

/** The schema itself, seen through optional/default/pipe/lazy/union wrappers. */
function unwrap(n: unknown, depth = 0): Node[] {
    if (!isNode(n) || depth > 20) return [];
    const def = n._zod.def;
    switch (def.type) {
        case 'optional':
        case 'nullable':
        case 'default':
        case 'prefault':
        case 'readonly':
        case 'catch':
            return unwrap(def['innerType'], depth + 1);
        case 'pipe':
            return [...unwrap(def['in'], depth + 1), ...unwrap(def['out'], depth + 1)];
        case 'lazy':
            return unwrap((def['getter'] as () => unknown)(), depth + 1);
        case 'union':
            return (def['options'] as unknown[]).flatMap((o) => unwrap(o, depth + 1));
        default:
            return [n];
    }
}

function child(n: Node, segment: PropertyKey): unknown[] {
    const def = n._zod.def;
    if (def.type === 'object') {
        const shape = def['shape'] as Record<string, unknown>;
        return typeof segment === 'string' && Object.hasOwn(shape, segment) ? [shape[segment]] : [];
    }
    if (def.type === 'record') return [def['valueType']];
    if (def.type === 'array') return [def['element']];
    return [];
}

/** The keys the object schema(s) at `path` declare. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let nodes: Node[] = unwrap(schema);
    for (const segment of path) nodes = nodes.flatMap((n) => child(n, segment).flatMap((c) => unwrap(c)));
    const keys = new Set<string>();
    for (const n of nodes) if (n._zod.def.type === 'object') for (const k of Object.keys(n._zod.def['shape'] as object)) keys.add(k);
    return [...keys];
}

/** Levenshtein distance, bounded: anything above `max` is reported as max + 1. */
function distance(a: string, b: string, max: number): number {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
    }
    return Math.min(prev[b.length]!, max + 1);
}

const normal = (k: string) => k.toLowerCase().replace(/-/g, '_');

/**
 * The known key `key` is most likely a misspelling of, if any: the same key up to case and `-`/`_`, or within
 * edit distance 1 for keys of 3 or 4 characters, 2 for 5 or 6, 3 from 7 on (`retries` for `retry`); never for
 * keys shorter than 3, where every short word is close to every other.
 */
export function typoOf(key: string, known: readonly string[]): string | undefined {
    const k = normal(key);
    if (k.length < 3) return undefined;
    const max = k.length < 5 ? 1 : k.length < 7 ? 2 : 3;
    let best: { key: string; d: number } | undefined;
    for (const candidate of known) {
        const d = distance(k, normal(candidate), max);
        if (d <= max && (!best || d < best.d)) best = { key: candidate, d };
    }
    return best?.key;
}

/** A deep copy of `raw` without the key at `path` + `key`. */
export function withoutKey(raw: unknown, path: readonly PropertyKey[], key: string): unknown {
    const copy: unknown = structuredClone(raw);
    let node: unknown = copy;
    for (const segment of path) node = (node as Record<PropertyKey, unknown> | undefined)?.[segment];
    if (node && typeof node === 'object') delete (node as Record<string, unknown>)[key];
    return copy;
}
