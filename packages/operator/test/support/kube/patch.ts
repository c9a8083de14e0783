import { KubeError, badRequest } from './status.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
    if (!isObject(patch)) return patch;
    const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete out[k];
        else out[k] = mergePatch(out[k], v);
    }
    return out;
}

/**
 * Strategic merge patch for built-in kinds, reduced to what the stand-in needs: the `$`-directives kubectl adds
 * (`$setElementOrder/…`, `$retainKeys`, `$patch`) are dropped and the rest merges as a JSON merge patch.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
    const strip = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(strip);
        if (!isObject(v)) return v;
        return Object.fromEntries(Object.entries(v).flatMap(([k, c]) => (k.startsWith('$') ? [] : [[k, strip(c)]])));
    };
    return mergePatch(target, strip(patch));
}

const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** RFC 6902 JSON patch: add, remove, replace and test. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
    if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
    const doc = structuredClone(target);
    for (const op of ops as Array<{ op: string; path: string; value?: unknown }>) {
        const parts = op.path.split('/').slice(1).map(unescapePointer);
        const last = parts.pop();
        let parent: unknown = doc;
        for (const p of parts) parent = (parent as Record<string, unknown>)?.[p];
        if (last === undefined || typeof parent !== 'object' || parent === null) throw badRequest(`json patch path ${op.path} does not exist`);
        const container = parent as Record<string, unknown> & unknown[];
        if (op.op === 'test') {
            if (JSON.stringify(container[last as never]) !== JSON.stringify(op.value))
                throw new KubeError(422, 'Invalid', `json patch test operation failed at ${op.path}`);
        } else if (op.op === 'remove') {
            if (Array.isArray(container)) container.splice(Number(last), 1);
            else delete container[last];
        } else if (op.op === 'add' && Array.isArray(container)) {
            container.splice(last === '-' ? container.length : Number(last), 0, op.value);
        } else if (op.op === 'add' || op.op === 'replace') {
            container[last as never] = op.value as never;
        } else {
            throw badRequest(`unsupported json patch operation ${op.op}`);
        }
    }
    return doc;
}
