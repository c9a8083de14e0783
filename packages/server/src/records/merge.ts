type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * batchUpdate's merge: nested objects merge key by key, everything else (arrays included) is replaced.
 * Object.fromEntries defines own properties, so a `__proto__` key in the patch stays data.
 */
export function deepMerge(base: Json, patch: Json): Json {
    const out = new Map<string, unknown>(Object.entries(base));
    for (const [key, value] of Object.entries(patch)) {
        const current = out.get(key);
        out.set(key, isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value);
    }
    return Object.fromEntries(out);
}
