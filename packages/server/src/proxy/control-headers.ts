import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The proxy's control headers (docs/compatibility.md, "Proxy"); everything else the app sends is dropped unless prefixed. */
export const proxyHeaders = z
    .object({
        'provider-config-key': z.string().min(1).max(255),
        'connection-id': z.string().min(1).max(255),
        retries: z.coerce.number().int().min(0).max(10).default(0),
        'base-url-override': z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).optional(),
        decompress: bool.optional(),
        'retry-on': z
            .string()
            .regex(/^\s*\d{3}(\s*,\s*\d{3})*\s*$/, 'a comma-separated list of HTTP status codes')
            .transform((s) => s.split(',').map((c) => Number(c.trim())))
            .optional(),
        'forward-headers-on-redirect': bool.optional(),
        'nango-is-sync': bool.optional(),
        'nango-is-dry-run': bool.optional(),
        'nango-activity-log-id': z.string().optional()
    })
    .loose();

export type ProxyControl = z.output<typeof proxyHeaders>;

// The control headers besides the two required ones, read from the schema so a header added there also
// sends requests carrying it to zod. When any is sent, proxyHeaders decides.
const optionalControl = Object.keys(proxyHeaders.shape).filter((k) => k !== 'provider-config-key' && k !== 'connection-id');

/**
 * proxyHeaders for the common request without zod, which was a measurable share of a proxied request: the two
 * required headers, each a string of 1–255 characters, plus what the official SDK always adds (an empty
 * `Base-Url-Override`, a `Nango-Activity-Log-Id`). Returns exactly what `proxyHeaders.parse` returns, or
 * undefined whenever the schema has to decide (another control header, a value it might reject, an own
 * `__proto__` key, which zod does not copy). The test in proxy-fast-path.test.ts compares both on a corpus.
 */
export function proxyHeadersFastPath(headers: Record<string, unknown>): ProxyControl | undefined {
    const key = headers['provider-config-key'];
    const id = headers['connection-id'];
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) return undefined;
    if (typeof id !== 'string' || id.length < 1 || id.length > 255) return undefined;
    for (const name of optionalControl) {
        if (!(name in headers)) continue;
        // The official SDK sends these two on every proxied call, empty unless set: values the schema passes as is.
        if (name === 'base-url-override' && headers[name] === '') continue;
        if (name === 'nango-activity-log-id' && typeof headers[name] === 'string') continue;
        return undefined;
    }
    if (Object.hasOwn(headers, '__proto__')) return undefined;
    return { ...headers, retries: 0 } as ProxyControl;
}

const PREFIX = 'nango-proxy-';
const N = 0x6e; // n

/** Headers the app asked us to forward: `Nango-Proxy-X: v` becomes `x: v`. */
export function forwardedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
    const out: Record<string, string> = {};
    // Runs on every proxied request: for…in (no entry arrays), and a name is lower-cased only when it is long
    // enough and starts with an n, which most headers do not.
    for (const name in headers) {
        if (!Object.hasOwn(headers, name) || name.length <= PREFIX.length || (name.charCodeAt(0) | 0x20) !== N) continue;
        const value = headers[name];
        if (value === undefined || !name.toLowerCase().startsWith(PREFIX)) continue;
        out[name.slice(PREFIX.length).toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return out;
}

/** What the app's request contributes to the upstream request's headers: the forwarded ones and its Content-Type. */
export function appHeadersOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
    const out = forwardedHeaders(headers);
    const type = headers['content-type'];
    if (!out['content-type'] && typeof type === 'string' && type) out['content-type'] = type;
    return out;
}
