// Filling a URL template (token, authorization, revocation, proxy base URL) so a value can never move the
// endpoint. Each `${…}` gets the rule of the place the template puts it in:
//   origin    the template starts with it (Salesforce's `${connectionConfig.instance_url}`): an absolute
//             https URL (http only on loopback) without user info, query or fragment;
//   host      inside the authority (`https://${connectionConfig.subdomain}.zendesk.com`): letters, digits,
//             `-` and `.` only, so no `/ ? # @ : \` or `%` can end the host, add user info or a port;
//   path      percent-encoded as one segment, and never `.` or `..` (which URL parsers resolve);
//   query, fragment   percent-encoded.
// Literal alternatives (`${connectionConfig.tenant || 'common'}`) are the operator's text and go in as is.
// The WHATWG URL grammar decides where the authority ends: https://url.spec.whatwg.org/#authority-state
import { evalExpr, InterpolationError, missingError, parsedTemplate, varName, type InterpolationContext, type TemplateAlt } from './interpolate.ts';

export type UrlPlace = 'origin' | 'host' | 'path' | 'query' | 'fragment';

type VarAlt = Extract<TemplateAlt, { kind: 'var' }>;

/** Called for each variable a URL template reads, with its raw value; throws to refuse it. */
export type UrlValueGuard = (alt: VarAlt, value: string) => void;

const HOST_VALUE = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const invalid = (alt: VarAlt, why: string) => new InterpolationError('invalid', `\${${varName(alt)}} ${why}`, varName(alt));

/** Where the next `${…}` lands, given the template text before it (expressions stood in by a neutral character). */
function placeAfter(shape: string): UrlPlace {
    if (shape === '') return 'origin';
    const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\\]*/.exec(shape);
    // Before or inside the scheme, or still in the authority: the strictest rule.
    if (!authority || authority[0].length === shape.length) return 'host';
    const rest = shape.slice(authority[0].length);
    if (rest.includes('#')) return 'fragment';
    if (rest.includes('?')) return 'query';
    return 'path';
}

function placed(alt: VarAlt, value: string, place: UrlPlace): string {
    switch (place) {
        case 'origin': {
            if (/[\s\\@?#]/.test(value) || !URL.canParse(value)) throw invalid(alt, 'must be an absolute https:// URL without user info, query or fragment');
            const url = new URL(value);
            const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
            if (!secure || url.username || url.password) throw invalid(alt, 'must be an absolute https:// URL without user info, query or fragment');
            return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
        }
        case 'host':
            if (!HOST_VALUE.test(value)) throw invalid(alt, 'goes into the host name: only letters, digits, "-" and "." are allowed');
            return value;
        case 'path':
            if (value === '.' || value === '..') throw invalid(alt, 'goes into the path: "." and ".." are not allowed');
            return encodeURIComponent(value);
        case 'query':
        case 'fragment':
            return encodeURIComponent(value);
    }
}

/**
 * Fills a URL template from `ctx`, each value checked and encoded for its place, `guard` consulted for every
 * variable. Throws InterpolationError: `missing` (a value is absent) or `invalid` (a value may not go there).
 */
export function interpolateUrl(template: string, ctx: InterpolationContext, guard?: UrlValueGuard): string {
    const alternatives = urlAlternatives(template);
    if (alternatives.length === 1) return fillUrl(template, ctx, guard);
    // Nango's `https://${connectionConfig.hostname} || https://api.example.com`: the first whole URL whose
    // values are all present. A value that is present but refused is never skipped for the next one.
    let missing: InterpolationError | undefined;
    for (const alternative of alternatives) {
        try {
            return fillUrl(alternative, ctx, guard);
        } catch (err) {
            if (!(err instanceof InterpolationError) || err.reason !== 'missing') throw err;
            missing ??= err;
        }
    }
    throw missing!;
}

/** A template split on ` || ` outside `${…}`: whole-URL alternatives, tried in order. */
export function urlAlternatives(template: string): string[] {
    const out: string[] = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < template.length; i++) {
        if (template.startsWith('${', i)) {
            depth++;
            i++;
        } else if (template[i] === '}' && depth > 0) depth--;
        else if (depth === 0 && template.startsWith(' || ', i)) {
            out.push(template.slice(start, i).trim());
            start = i + 4;
            i += 3;
        }
    }
    out.push(template.slice(start).trim());
    return out;
}

function fillUrl(template: string, ctx: InterpolationContext, guard?: UrlValueGuard): string {
    let out = '';
    let shape = '';
    for (const node of parsedTemplate(template)) {
        if (node.kind === 'text') {
            out += node.value;
            shape += node.value;
            continue;
        }
        const place = placeAfter(shape);
        const r = evalExpr(node, ctx);
        if ('missing' in r) throw missingError(r.missing);
        if (r.alt.kind === 'literal') {
            out += r.value;
            shape += r.value;
            continue;
        }
        if (r.alt.kind === 'base64') {
            // Rare in URLs; its result is treated like a value from nowhere in particular: encoded, never a host.
            if (place === 'origin' || place === 'host') throw new InterpolationError('invalid', `base64(…) cannot be used in the ${place} of a URL`);
            out += encodeURIComponent(r.value);
            shape += 'x';
            continue;
        }
        guard?.(r.alt, r.value);
        out += placed(r.alt, r.value, place);
        shape += place === 'origin' ? 'https://x' : 'x';
    }
    return out;
}

/** The connectionConfig keys a template reads (first path segment), in every alternative. */
export function connectionConfigKeys(template: string): string[] {
    const keys = new Set<string>();
    const walk = (nodes: ReturnType<typeof parsedTemplate>) => {
        for (const node of nodes) {
            if (node.kind === 'text') continue;
            for (const alt of node.alts) {
                if (alt.kind === 'base64') walk(alt.inner);
                else if (alt.kind === 'var' && alt.scope === 'connectionConfig' && alt.path[0]) keys.add(alt.path[0]);
            }
        }
    };
    walk(parsedTemplate(template));
    return [...keys];
}
