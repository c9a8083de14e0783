import type { JsonSchema } from './types.ts';

export interface SchemaOutcome {
    /** The object with unknown fields removed (what the API server stores). */
    value: unknown;
    /** Values of the wrong type, missing required fields, values outside an enum. */
    errors: Array<{ field: string; message: string }>;
    /** Fields the schema does not know (pruned; refused under fieldValidation=Strict). */
    unknown: string[];
}

const typeOf = (v: unknown): string => {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
    return typeof v;
};

function matchesType(schema: JsonSchema, v: unknown): boolean {
    if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v);
    if (!schema.type) return true;
    const t = typeOf(v);
    return schema.type === t || (schema.type === 'number' && t === 'integer');
}

/**
 * Structural-schema handling of a custom resource, as the apiextensions server does it: prune fields the schema
 * does not declare (unless x-kubernetes-preserve-unknown-fields), then validate types, required fields and enums.
 * `metadata`, `apiVersion` and `kind` at the root are the server's, not the schema's.
 */
export function applySchema(schema: JsonSchema, obj: Record<string, unknown>): SchemaOutcome {
    const errors: SchemaOutcome['errors'] = [];
    const unknown: string[] = [];
    const walk = (s: JsonSchema, v: unknown, path: string, root: boolean): unknown => {
        if (v === null || v === undefined) return v;
        if (!matchesType(s, v)) {
            errors.push({ field: path || '<root>', message: `Invalid value: "${typeOf(v)}": ${path || '<root>'} in body must be of type ${s.type}` });
            return v;
        }
        if (s.enum && !s.enum.includes(v)) {
            errors.push({
                field: path,
                message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`
            });
        }
        if (typeof v === 'string') {
            const min = s['minLength'] as number | undefined;
            const max = s['maxLength'] as number | undefined;
            if (min !== undefined && v.length < min)
                errors.push({ field: path, message: `Invalid value: "${v}": ${path} in body should be at least ${min} chars long` });
            if (max !== undefined && v.length > max) errors.push({ field: path, message: `Too long: may not be more than ${max} bytes` });
        }
        if (Array.isArray(v)) return s.items ? v.map((item, i) => walk(s.items!, item, `${path}[${i}]`, false)) : v;
        if (typeof v !== 'object') return v;
        const o = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, child] of Object.entries(o)) {
            const at = path ? `${path}.${k}` : k;
            if (root && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) {
                out[k] = child;
            } else if (s.properties?.[k]) {
                out[k] = walk(s.properties[k]!, child, at, false);
            } else if (typeof s.additionalProperties === 'object') {
                out[k] = walk(s.additionalProperties, child, at, false);
            } else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields']) {
                out[k] = child;
            } else {
                unknown.push(at);
            }
        }
        // Defaults are applied, as the apiextensions server does, before required fields are checked.
        for (const [k, ps] of Object.entries(s.properties ?? {})) {
            if (out[k] === undefined && ps.default !== undefined) out[k] = structuredClone(ps.default);
        }
        for (const r of s.required ?? []) {
            if (out[r] === undefined) errors.push({ field: path ? `${path}.${r}` : r, message: 'Required value' });
        }
        return out;
    };
    const value = walk(schema, obj, '', true);
    return { value, errors, unknown };
}
