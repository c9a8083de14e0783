// Template interpolation for provider definitions (proxy base URLs and headers,
// OAuth URLs and params). A tiny hand-written parser: templates come from
// operator files, so they are data, never code — no eval, no new Function.
//
// Grammar inside `${ … }`:
//   expr := alt ( '||' alt )*             first alternative with a value wins
//   alt  := 'literal' | "literal"
//         | base64( <template text> )     base64 of the interpolated inner text
//         | connectionConfig.<path> | credentials.<path>
//         | accessToken | apiKey | username | password | clientId | clientSecret

/** Values a template can read. */
export interface InterpolationContext {
    connectionConfig: Record<string, unknown>;
    credentials: Record<string, unknown>;
    accessToken?: string | undefined;
    apiKey?: string | undefined;
    username?: string | undefined;
    password?: string | undefined;
    clientId?: string | undefined;
    clientSecret?: string | undefined;
}

type TopName = 'accessToken' | 'apiKey' | 'username' | 'password' | 'clientId' | 'clientSecret';
const TOP_NAMES: ReadonlySet<string> = new Set<TopName>(['accessToken', 'apiKey', 'username', 'password', 'clientId', 'clientSecret']);

/** One `||` alternative of an expression. */
export type TemplateAlt =
    | { kind: 'literal'; value: string }
    | { kind: 'var'; scope: 'connectionConfig' | 'credentials'; path: string[] }
    | { kind: 'var'; scope: 'top'; path: [TopName] }
    | { kind: 'base64'; inner: TemplateNode[] };
type Alt = TemplateAlt;
/** A parsed template: literal text and `${…}` expressions. */
export type TemplateNode = { kind: 'text'; value: string } | { kind: 'expr'; alts: Alt[] };
type Node = TemplateNode;

/**
 * A template could not be filled. `reason` is `missing` when a referenced value is
 * absent (the proxy answers 400), `syntax` when the template itself is malformed, and
 * `invalid` when a value may not go where the template puts it (url-template.ts).
 */
export class InterpolationError extends Error {
    readonly reason: 'missing' | 'syntax' | 'invalid';
    /** The variable at fault, e.g. `connectionConfig.subdomain` (missing and invalid only). */
    readonly variable: string | undefined;
    constructor(reason: 'missing' | 'syntax' | 'invalid', message: string, variable?: string) {
        super(message);
        this.name = 'InterpolationError';
        this.reason = reason;
        this.variable = variable;
    }
}

const syntax = (template: string, why: string) => new InterpolationError('syntax', `invalid template "${template}": ${why}`);

// Index of the `}` closing the `${` whose body starts at `start`, honouring nested
// `${…}` (inside base64) and quoted literals, or -1 if unterminated.
function findClose(s: string, start: number): number {
    let depth = 0;
    let quote: string | null = null;
    for (let i = start; i < s.length; i++) {
        const c = s[i];
        if (quote) {
            if (c === quote) quote = null;
        } else if (c === "'" || c === '"') quote = c;
        else if (c === '$' && s[i + 1] === '{') {
            depth++;
            i++;
        } else if (c === '}') {
            if (depth === 0) return i;
            depth--;
        }
    }
    return -1;
}

// Splits an expression on `||` outside quotes, parentheses and nested `${…}`.
function splitAlternatives(expr: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let quote: string | null = null;
    let from = 0;
    for (let i = 0; i < expr.length; i++) {
        const c = expr[i];
        if (quote) {
            if (c === quote) quote = null;
            continue;
        }
        if (c === "'" || c === '"') quote = c;
        else if (c === '(' || c === '{') depth++;
        else if (c === ')' || c === '}') depth--;
        else if (c === '|' && expr[i + 1] === '|' && depth === 0) {
            parts.push(expr.slice(from, i));
            from = i + 2;
            i++;
        }
    }
    parts.push(expr.slice(from));
    return parts;
}

const PATH = /^(connectionConfig|credentials)((?:\.[A-Za-z0-9_-]+)+)$/;

function parseAlt(raw: string, template: string): Alt {
    const text = raw.trim();
    const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(text);
    if (quoted) return { kind: 'literal', value: quoted[1] ?? quoted[2] ?? '' };
    if (text.startsWith('base64(') && text.endsWith(')')) {
        return { kind: 'base64', inner: parse(text.slice('base64('.length, -1), template) };
    }
    if (TOP_NAMES.has(text)) return { kind: 'var', scope: 'top', path: [text as TopName] };
    const m = PATH.exec(text);
    if (m?.[1] && m[2]) {
        return { kind: 'var', scope: m[1] as 'connectionConfig' | 'credentials', path: m[2].slice(1).split('.') };
    }
    throw syntax(template, `unknown expression "${text}"`);
}

function parse(s: string, template: string): Node[] {
    const nodes: Node[] = [];
    let i = 0;
    while (i < s.length) {
        const open = s.indexOf('${', i);
        if (open === -1) {
            nodes.push({ kind: 'text', value: s.slice(i) });
            break;
        }
        if (open > i) nodes.push({ kind: 'text', value: s.slice(i, open) });
        const close = findClose(s, open + 2);
        if (close === -1) throw syntax(template, 'unterminated "${"');
        const body = s.slice(open + 2, close);
        if (body.trim() === '') throw syntax(template, 'empty "${}"');
        nodes.push({ kind: 'expr', alts: splitAlternatives(body).map((a) => parseAlt(a, template)) });
        i = close + 1;
    }
    return nodes;
}

/** Parses a template, throwing InterpolationError(`syntax`) if it is malformed. */
export function parseTemplate(template: string): Node[] {
    return parse(template, template);
}

// The proxy fills the same few catalogue templates on every request; parsing them was a measurable share of
// its time. Templates come from the catalogue and integrations, so the set is small; the bound only guards
// against an unexpected flood. Malformed templates throw and are never cached. Callers only read the nodes.
const PARSED_MAX = 1000;
const parsed = new Map<string, Node[]>();

/** A parsed template from the bounded cache (callers must not mutate the nodes). */
export function parsedTemplate(template: string): Node[] {
    let nodes = parsed.get(template);
    if (!nodes) {
        nodes = parseTemplate(template);
        if (parsed.size >= PARSED_MAX) parsed.clear();
        parsed.set(template, nodes);
    }
    return nodes;
}

/** The name a template uses for a variable, e.g. `connectionConfig.subdomain` or `clientId`. */
export const varName = (alt: Extract<Alt, { kind: 'var' }>) => (alt.scope === 'top' ? alt.path[0] : `${alt.scope}.${alt.path.join('.')}`);

// Own properties only: `${connectionConfig.constructor}` must not reach Object.prototype.
function lookup(root: unknown, path: readonly string[]): string | undefined {
    let cur = root;
    for (const key of path) {
        if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
        cur = (cur as Record<string, unknown>)[key];
    }
    // Empty strings count as missing so `${x || 'fallback'}` behaves as templates expect.
    if (typeof cur === 'string') return cur === '' ? undefined : cur;
    if (typeof cur === 'number' || typeof cur === 'boolean' || typeof cur === 'bigint') return String(cur);
    return undefined;
}

type Outcome = { value: string } | { missing: string };

function evalAlt(alt: Alt, ctx: InterpolationContext): Outcome {
    switch (alt.kind) {
        case 'literal':
            return { value: alt.value };
        case 'base64': {
            const inner = evalNodes(alt.inner, ctx);
            return 'missing' in inner ? inner : { value: Buffer.from(inner.value, 'utf8').toString('base64') };
        }
        case 'var': {
            const root = alt.scope === 'top' ? ctx : ctx[alt.scope];
            const value = lookup(root, alt.path);
            return value === undefined ? { missing: varName(alt) } : { value };
        }
    }
}

/** The value of one `${…}` expression and the alternative that gave it, or the first missing variable. */
export function evalExpr(node: Extract<Node, { kind: 'expr' }>, ctx: InterpolationContext): { value: string; alt: Alt } | { missing: string } {
    let firstMissing: string | undefined;
    for (const alt of node.alts) {
        const r = evalAlt(alt, ctx);
        if ('value' in r) return { value: r.value, alt };
        firstMissing ??= r.missing;
    }
    return { missing: firstMissing ?? '?' };
}

function evalNodes(nodes: Node[], ctx: InterpolationContext): Outcome {
    let out = '';
    for (const node of nodes) {
        if (node.kind === 'text') {
            out += node.value;
            continue;
        }
        const r = evalExpr(node, ctx);
        if ('missing' in r) return r;
        out += r.value;
    }
    return { value: out };
}

/** The error interpolate() throws for a missing variable. */
export const missingError = (variable: string) => new InterpolationError('missing', `missing value for \${${variable}}`, variable);

/** Fills `template` from `ctx`; throws InterpolationError naming the first missing variable. */
export function interpolate(template: string, ctx: InterpolationContext): string {
    const r = evalNodes(parsedTemplate(template), ctx);
    if ('missing' in r) throw missingError(r.missing);
    return r.value;
}

// Whether an alternative can be satisfied using connectionConfig alone; values from
// other scopes (tokens, credentials) are not known at connect time, so they count as
// present. Collects the connectionConfig names that were looked for and absent.
function satisfiable(alt: Alt, cc: Record<string, unknown>, absent: string[]): boolean {
    if (alt.kind === 'literal') return true;
    if (alt.kind === 'base64') return alt.inner.every((n) => nodeSatisfiable(n, cc, absent));
    if (alt.scope !== 'connectionConfig') return true;
    if (lookup(cc, alt.path) !== undefined) return true;
    absent.push(alt.path.join('.'));
    return false;
}

function nodeSatisfiable(node: Node, cc: Record<string, unknown>, out: string[]): boolean {
    if (node.kind === 'text') return true;
    const absent: string[] = [];
    if (node.alts.some((alt) => satisfiable(alt, cc, absent))) return true;
    out.push(...absent);
    return false;
}

/**
 * Names of connectionConfig entries the template needs but `connectionConfig` lacks
 * (an entry with a satisfiable fallback is not required). Used at connect time.
 */
export function missingConnectionConfig(template: string, connectionConfig: Record<string, unknown>): string[] {
    const out: string[] = [];
    for (const node of parsedTemplate(template)) nodeSatisfiable(node, connectionConfig, out);
    return [...new Set(out)];
}
