// The provider catalogue: our built-in files (builtin/*.yaml) plus operator files, validated
// at boot. Any invalid entry refuses the whole catalogue with a message that names
// the file, the provider and the field, so a bad deploy fails before serving traffic.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { providerEntrySchema, providerNameSchema, providerSchema, type ProviderDefinition, type ProviderEntry } from './schema.ts';
import { knownKeysAt, typoOf, withoutKey } from './unknown-keys.ts';

/** Read-only view of the resolved provider definitions. */
export interface Catalogue {
    get(name: string): ProviderDefinition | undefined;
    has(name: string): boolean;
    /** All providers, sorted by name. */
    list(): Array<[string, ProviderDefinition]>;
    /** Keys the files hold that the schema does not know, dropped: one entry per file (`provider.path.key`). */
    readonly ignoredKeys: ReadonlyArray<{ file: string; keys: string[] }>;
}

/** The catalogue refused to load; `file` and `provider` say where. */
export class CatalogueError extends Error {
    readonly code = 'INVALID_PROVIDER_CATALOGUE';
    readonly file: string;
    readonly provider: string | undefined;
    constructor(file: string, provider: string | undefined, detail: string, options?: { cause?: unknown }) {
        super(`providers file ${file}: ${provider === undefined ? '' : `provider "${provider}": `}${detail}`, options);
        this.name = 'CatalogueError';
        this.file = file;
        this.provider = provider;
    }
}

const BUILTIN_DIR = fileURLToPath(new URL('./builtin/', import.meta.url));

/** Every built-in file (`<dir>/*.yaml`), in name order so load order never depends on the file system. */
export function builtinFiles(dir = BUILTIN_DIR): string[] {
    return readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => join(dir, f));
}

interface Located {
    entry: ProviderEntry;
    file: string;
}

/**
 * Loads the built-in catalogue, then each extra file in order; a later entry replaces
 * an earlier one of the same name (use `alias` to extend instead). Built-in files are
 * one catalogue split by category, so a name defined in two of them is a mistake and
 * refused; only operator files may replace an entry. Throws CatalogueError.
 */
export function loadCatalogue(extraFiles: string[] = [], opts: { builtinDir?: string } = {}): Catalogue {
    const entries = new Map<string, Located>();
    const ignoredKeys: Array<{ file: string; keys: string[] }> = [];
    const read = (file: string) => {
        const ignored: string[] = [];
        const found = readProvidersFile(file, ignored);
        if (ignored.length > 0) ignoredKeys.push({ file, keys: ignored });
        return found;
    };
    for (const file of builtinFiles(opts.builtinDir)) {
        for (const [name, entry] of read(file)) {
            const first = entries.get(name);
            if (first) throw new CatalogueError(file, name, `defined again: the built-in file ${first.file} already defines it`);
            entries.set(name, { entry, file });
        }
    }
    for (const file of extraFiles) {
        for (const [name, entry] of read(file)) entries.set(name, { entry, file });
    }
    const resolved = new Map<string, ProviderDefinition>();
    for (const [name, { file }] of entries) {
        // Aliases resolve after every file is read, so an operator's override of a base
        // provider (say `google`) also reaches the providers that alias it.
        const parsed = providerSchema.safeParse(resolveAlias(name, entries, []));
        if (!parsed.success) throw new CatalogueError(file, name, formatIssues(parsed.error.issues));
        resolved.set(name, deepFreeze(parsed.data));
    }
    const sorted = [...resolved].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
        get: (name) => resolved.get(name),
        has: (name) => resolved.has(name),
        list: () => [...sorted],
        ignoredKeys
    };
}

function readProvidersFile(file: string, ignored: string[]): Array<[string, ProviderEntry]> {
    let doc: unknown;
    try {
        // uniqueKeys: a provider defined twice in one file is a mistake, not an override.
        doc = parseYaml(readFileSync(file, 'utf8'), { uniqueKeys: true });
    } catch (err) {
        throw new CatalogueError(file, undefined, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        throw new CatalogueError(file, undefined, 'expected a map of provider name to definition');
    }
    return Object.entries(doc).map(([name, raw]) => {
        if (!providerNameSchema.safeParse(name).success) {
            throw new CatalogueError(file, name, 'invalid provider name: expected letters, digits, "_" or "-"');
        }
        return [name, parseEntry(file, name, raw, ignored)];
    });
}

/**
 * One entry, checked. Unknown keys (zod's unrecognized_keys, at any depth) are dropped and recorded in
 * `ignored` unless one is a near miss of a key known at that place, which refuses the file naming both.
 */
function parseEntry(file: string, name: string, raw: unknown, ignored: string[]): ProviderEntry {
    let input = raw;
    // Each round drops the unknown keys zod reported; nested objects report once their parent parses.
    for (let round = 0; round < 16; round++) {
        const parsed = providerEntrySchema.safeParse(input);
        if (parsed.success) return parsed.data;
        const unknown = parsed.error.issues.filter((i) => i.code === 'unrecognized_keys');
        if (unknown.length === 0) throw new CatalogueError(file, name, formatIssues(parsed.error.issues));
        for (const issue of unknown) {
            const known = knownKeysAt(providerEntrySchema, issue.path);
            for (const key of issue.keys) {
                const where = [...issue.path.map(String), key].join('.');
                const meant = typoOf(key, known);
                if (meant !== undefined) throw new CatalogueError(file, name, `${where}: unknown key, did you mean "${meant}"?`);
                ignored.push(`${name}.${where}`);
                input = withoutKey(input, issue.path, key);
            }
        }
    }
    throw new CatalogueError(file, name, 'too many unknown keys');
}

function resolveAlias(name: string, entries: Map<string, Located>, chain: string[]): Record<string, unknown> {
    const { entry, file } = entries.get(name)!;
    const alias = entry.alias;
    if (alias === undefined) return entry;
    if (alias === name || chain.includes(alias)) {
        throw new CatalogueError(file, name, `alias: cycle ${[...chain, name, alias].join(' -> ')}`);
    }
    if (!entries.has(alias)) throw new CatalogueError(file, name, `alias: unknown provider "${alias}"`);
    return deepMerge(resolveAlias(alias, entries, [...chain, name]), entry);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// The provider's own fields win; nested maps (proxy, authorization_params, …) merge
// key by key so an alias can change proxy.base_url and keep the headers. Arrays,
// scalars and tagged objects (a `type` key: proxy.paginate, a connection_config
// field) are replaced whole, since mixing two variants' fields is never meant.
// Built with defineProperty so a `__proto__` key stays data.
function deepMerge(base: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const put = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const [k, v] of Object.entries(base)) put(k, v);
    for (const [k, v] of Object.entries(own)) {
        const prev = Object.hasOwn(out, k) ? out[k] : undefined;
        const mergeable = isPlainObject(prev) && isPlainObject(v) && !Object.hasOwn(v, 'type');
        put(k, mergeable ? deepMerge(prev as Record<string, unknown>, v) : v);
    }
    return out;
}

function formatIssues(issues: z.core.$ZodIssue[]): string {
    return issues.map(formatIssue).join('; ');
}

function formatIssue(issue: z.core.$ZodIssue): string {
    const path = issue.path.map(String);
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        // zod only says "Invalid input" for a union (token_url: string or map). Report the
        // branch that got furthest, or every branch's complaint when none got anywhere.
        const depth = (branch: z.core.$ZodIssue[]) => Math.max(0, ...branch.map((i) => i.path.length));
        const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
        const relocate = (i: z.core.$ZodIssue) => formatIssue({ ...i, path: [...issue.path, ...i.path] });
        if (depth(best) > 0) return best.map(relocate).join('; ');
        const why = issue.errors.flatMap((b) => b.map((i) => i.message.replace(/^Invalid input: /, '')));
        return `${path.length > 0 ? path.join('.') : '(definition)'}: ${why.join(' or ')}`;
    }
    if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${[...path, k].join('.')}: unknown key`).join('; ');
    }
    const where = path.length > 0 ? path.join('.') : '(definition)';
    if (issue.code === 'invalid_key') return `${where}: invalid key, ${issue.issues.map((i) => i.message).join('; ')}`;
    return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === 'object') {
        for (const v of Object.values(value)) deepFreeze(v);
        Object.freeze(value);
    }
    return value;
}

/** A definition as served by `GET /providers` and `GET /providers/:provider`. */
export type PublicProvider = ProviderDefinition & { name: string; logo_url: string };

/** The provider object served to SDKs and the Connect UI: the definition plus `name` and `logo_url`. */
export function publicProvider(name: string, def: ProviderDefinition, serverUrl: string): PublicProvider {
    return { ...def, name, logo_url: `${serverUrl.replace(/\/+$/, '')}/images/template-logos/${name}.svg` };
}
