import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { desiredStateSchema, type DesiredState, type StatePath } from './model.ts';

/**
 * The config file (docs/config-file.md): YAML or JSON (JSON is YAML), parsed once with a LineCounter so every
 * error names the file, the line and the field. A value may come from elsewhere: `{ fromEnv: NAME }` reads an
 * environment variable, `{ fromFile: path }` a file (relative to the config file; one trailing newline dropped).
 */

export interface ConfigIssue {
    file: string;
    line: number;
    column: number;
    /** The field, dotted from the root (`environments.dev.integrations.github.credentials.client_id`). */
    field: string;
    message: string;
}

export const formatIssue = (i: ConfigIssue): string => `${i.file}:${i.line}:${i.column}: ${i.field ? `${i.field}: ` : ''}${i.message}`;

/** A file that does not parse or does not match the model; `issues` name each place. */
export class ConfigFileError extends Error {
    readonly issues: ConfigIssue[];
    constructor(issues: ConfigIssue[]) {
        super(issues.map(formatIssue).join('\n'));
        this.name = 'ConfigFileError';
        this.issues = issues;
    }
}

export interface LoadedConfig {
    file: string;
    desired: DesiredState;
    /** The file, line and field of a place in the desired state (for the broker's refusals). */
    issueAt(path: StatePath, message: string): ConfigIssue;
}

/** Where the value referenced by a field comes from: the process environment and the file system. */
export interface ValueSources {
    env: Record<string, string | undefined>;
    readFile?: (path: string) => string;
}

const fieldOf = (path: StatePath) => path.map(String).join('.');

/** The deepest node of the document on `path`: the value if there is one, else the key, else the nearest parent. */
function nodeAt(doc: Document, path: StatePath, preferKey = false): Node | undefined {
    let node: unknown = doc.contents;
    let found = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
        const seg = path[i];
        if (isMap(node)) {
            const pair = node.items.find(
                (p) => (p.key as { value?: unknown } | null)?.value === seg || String((p.key as { value?: unknown } | null)?.value) === String(seg)
            );
            if (!pair) return found;
            const last = i === path.length - 1;
            if (last && preferKey) return pair.key as Node;
            node = pair.value;
            found = (pair.value as Node | null) ?? (pair.key as Node);
        } else if (isSeq(node) && typeof seg === 'number') {
            node = node.items[seg];
            if (!node) return found;
            found = node as Node;
        } else return found;
    }
    return found;
}

/** Parses and validates config text; `file` names it in errors and anchors `fromFile` paths. */
export function parseConfigText(text: string, file: string, sources: ValueSources): LoadedConfig {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
    const at = (node: Node | undefined, field: string, message: string): ConfigIssue => {
        const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
        return { file, line: pos.line, column: pos.col, field, message };
    };
    if (doc.errors.length) {
        throw new ConfigFileError(
            doc.errors.map((e) => {
                const pos = lineCounter.linePos(e.pos[0]);
                return { file, line: pos.line, column: pos.col, field: '', message: e.message.split('\n')[0]! };
            })
        );
    }
    const issueAt = (path: StatePath, message: string) => at(nodeAt(doc, path), fieldOf(path), message);
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    const issues: ConfigIssue[] = [];
    const unresolved: string[] = [];
    const resolved = resolveReferences(raw, [], { ...sources, baseDir: dirname(resolve(file)) }, (path, message) => {
        unresolved.push(fieldOf(path));
        issues.push(issueAt(path, message));
    });
    const parsed = desiredStateSchema.safeParse(resolved);
    if (!parsed.success) {
        // Every problem at once, except the model's complaint about a value whose reference already failed.
        const schemaIssues = parsed.error.issues
            .map((i) => zodIssue(doc, at, i))
            .filter((i) => !unresolved.some((u) => i.field === u || i.field.startsWith(`${u}.`)));
        issues.push(...schemaIssues);
    }
    if (issues.length || !parsed.success) throw new ConfigFileError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
    return { file, desired: parsed.data, issueAt };
}

function zodIssue(doc: Document, at: (node: Node | undefined, field: string, message: string) => ConfigIssue, issue: z.core.$ZodIssue): ConfigIssue {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0]!;
        return at(nodeAt(doc, [...path, key], true), fieldOf([...path, key]), `unknown field${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''}`);
    }
    // An invalid map key (an environment name, a unique key) is reported at the key itself.
    if (issue.code === 'invalid_key') return at(nodeAt(doc, path, true), fieldOf(path), `invalid name: ${issue.issues[0]?.message ?? issue.message}`);
    const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
    return at(nodeAt(doc, path), fieldOf(path), missing ? 'required' : issue.message);
}

/** Replaces each `{ fromEnv }` / `{ fromFile }` object with the string it names. */
function resolveReferences(
    value: unknown,
    path: Array<string | number>,
    src: ValueSources & { baseDir: string },
    report: (path: StatePath, message: string) => void
): unknown {
    if (Array.isArray(value)) return value.map((v, i) => resolveReferences(v, [...path, i], src, report));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && (keys[0] === 'fromEnv' || keys[0] === 'fromFile')) {
        const ref = obj[keys[0]];
        if (typeof ref !== 'string' || !ref) {
            report([...path, keys[0]], `${keys[0]} takes a name`);
            return undefined;
        }
        if (keys[0] === 'fromEnv') {
            const v = src.env[ref];
            if (v === undefined) report(path, `environment variable ${ref} is not set`);
            return v;
        }
        const target = isAbsolute(ref) ? ref : resolve(src.baseDir, ref);
        try {
            return (src.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(target).replace(/\r?\n$/, '');
        } catch (err) {
            report(path, `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
            return undefined;
        }
    }
    return Object.fromEntries(keys.map((k) => [k, resolveReferences(obj[k], [...path, k], src, report)]));
}

/** Reads and validates a config file (YAML or JSON). Throws ConfigFileError naming the file, line and field. */
export function loadConfigFile(file: string, sources: ValueSources): LoadedConfig {
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (err) {
        throw new ConfigFileError([
            { file, line: 1, column: 1, field: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }
        ]);
    }
    return parseConfigText(text, file, sources);
}
