import { CliError } from '../errors.ts';
import type { JsonSchema } from '../types.ts';

/**
 * The nango.yaml model type language (docs/scripts-compatibility.md, "Entry points") → JSON schema (draft-07), written from the table of
 * forms: primitives and their aliases, literals, `T[]`, `A | B`, model references, nested mappings, YAML lists,
 * `key?` optional fields, `__extends` and `__string`.
 */
export type YamlModels = Record<string, Record<string, unknown>>;

const PRIMITIVES: Record<string, JsonSchema> = {
    string: { type: 'string' },
    char: { type: 'string' },
    varchar: { type: 'string' },
    number: { type: 'number' },
    integer: { type: 'number' },
    int: { type: 'number' },
    float: { type: 'number' },
    bigint: { type: 'integer' },
    boolean: { type: 'boolean' },
    bool: { type: 'boolean' },
    date: { type: 'string', format: 'date-time' },
    any: {},
    object: { type: 'object' },
    array: { type: 'array', items: {} },
    null: { type: 'null' },
    undefined: { type: 'null' },
    void: { type: 'null' },
    never: { not: {} }
};

export class ModelConverter {
    readonly models: YamlModels;
    /** Models reached through `$ref`s, so a script's `definitions` can include them. */
    readonly referenced = new Set<string>();
    readonly warnings: string[] = [];

    constructor(models: YamlModels) {
        this.models = models;
    }

    /** JSON schema of a whole model (an object). */
    model(name: string): JsonSchema {
        const fields = this.models[name];
        if (!fields) throw new CliError('INVALID_MODEL', `nango.yaml: model "${name}" is not defined`);
        return this.object(fields, `models.${name}`);
    }

    /** JSON schema of one type string such as `string | null`, `Item[]`, `'a' | 'b'`. */
    typeString(raw: string, where: string): JsonSchema {
        const text = raw.trim();
        if (text.includes('<')) throw new CliError('INVALID_MODEL', `nango.yaml ${where}: generic type "${text}" is not supported (type_syntax_error)`);
        const parts = splitUnion(text);
        if (parts.length > 1) return { anyOf: parts.map((p) => this.typeString(p, where)) };
        if (text.endsWith('[]')) return { type: 'array', items: this.typeString(text.slice(0, -2), where) };
        const primitive = PRIMITIVES[text.toLowerCase()];
        if (primitive) return { ...primitive };
        if (text === 'true' || text === 'false') return { type: 'boolean', const: text === 'true' };
        if (/^-?\d+(\.\d+)?$/.test(text)) return { type: 'number', const: Number(text) };
        const quoted = /^(['"])(.*)\1$/.exec(text);
        if (quoted) return { type: 'string', const: quoted[2] };
        if (this.models[text]) {
            this.referenced.add(text);
            return { $ref: `#/definitions/${text}` };
        }
        this.warnings.push(`nango.yaml ${where}: "${text}" is not a model; treated as a string literal (model_not_found_fallback)`);
        return { type: 'string', const: text };
    }

    /** Any YAML value in a model: type string, literal scalar, nested mapping or list. */
    value(v: unknown, where: string): JsonSchema {
        if (typeof v === 'string') return this.typeString(v, where);
        if (typeof v === 'number') return { type: 'number', const: v };
        if (typeof v === 'boolean') return { type: 'boolean', const: v };
        if (v === null) return { type: 'null' };
        if (Array.isArray(v)) {
            const items = v.map((item, i) => this.value(item, `${where}[${i}]`));
            return { type: 'array', items: items.length === 1 ? items[0]! : { anyOf: items } };
        }
        if (typeof v === 'object') return this.object(v as Record<string, unknown>, where);
        throw new CliError('INVALID_MODEL', `nango.yaml ${where}: unsupported value`);
    }

    private object(fields: Record<string, unknown>, where: string): JsonSchema {
        const properties: Record<string, JsonSchema> = {};
        const required: string[] = [];
        let additional: JsonSchema | false = false;
        for (const [rawKey, v] of Object.entries(fields)) {
            if (rawKey === '__extends') {
                for (const parent of String(v)
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean)) {
                    const base = this.model(parent);
                    Object.assign(properties, base['properties']);
                    for (const r of (base['required'] as string[] | undefined) ?? []) if (!required.includes(r)) required.push(r);
                }
                continue;
            }
            if (rawKey === '__string') {
                additional = this.value(v, `${where}.__string`);
                continue;
            }
            const optional = rawKey.endsWith('?');
            const key = optional ? rawKey.slice(0, -1) : rawKey;
            properties[key] = this.value(v, `${where}.${key}`);
            const at = required.indexOf(key);
            if (optional && at >= 0) required.splice(at, 1);
            else if (!optional && at < 0) required.push(key);
        }
        return { type: 'object', properties, required, additionalProperties: additional };
    }
}

/** Splits `A | B` at top level (pipes inside quotes are literal text). */
function splitUnion(text: string): string[] {
    const parts: string[] = [];
    let current = '';
    let quote: string | null = null;
    for (const ch of text) {
        if (quote) {
            if (ch === quote) quote = null;
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '|') {
            parts.push(current.trim());
            current = '';
            continue;
        }
        current += ch;
    }
    parts.push(current.trim());
    return parts.filter((p) => p.length > 0);
}
