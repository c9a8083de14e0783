// Who may embed the Connect UI in an iframe (docs/security.md, item 20, RFC 9700 §4.16).
// The value becomes the CSP `frame-ancestors` directive, so each entry must be a CSP host-source that
// names an origin: scheme, host (optionally `*.` for subdomains) and optional port (or `:*`). Paths,
// bare `*` and other keywords are refused: an operator who wants "anyone" must list the origins.

const ORIGIN = /^(https?):\/\/((?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}|\*))?$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** In development (a loopback server URL), any loopback page may embed the UI; nothing else is allowed by default. */
export const LOOPBACK_ANCESTORS = [
    'http://localhost:*',
    'http://127.0.0.1:*',
    'http://[::1]:*',
    'https://localhost:*',
    'https://127.0.0.1:*',
    'https://[::1]:*'
];

export class FrameAncestorsError extends Error {
    override name = 'FrameAncestorsError';
}

/**
 * Parses SWITCHBOARD_CONNECT_UI_FRAME_ANCESTORS (comma-separated origins). Throws FrameAncestorsError naming the
 * bad entry. Plain http is accepted for loopback hosts only (docs/security.md, item 9).
 */
export function parseFrameAncestors(value: string | undefined): string[] | undefined {
    if (value === undefined || value.trim() === '') return undefined;
    const entries = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    for (const entry of entries) {
        const m = ORIGIN.exec(entry);
        if (!m) throw new FrameAncestorsError(`"${entry}" is not an origin such as https://app.example.com (scheme://host[:port], no path)`);
        const port = m[3];
        if (port && port !== '*' && Number(port) > 65535) throw new FrameAncestorsError(`"${entry}" has an invalid port`);
        if (m[1] === 'http' && !LOOPBACK_HOSTS.has(m[2]!.toLowerCase())) throw new FrameAncestorsError(`"${entry}" must use https:// unless it is localhost`);
    }
    return [...new Set(entries.map((e) => e.replace(/\/+$/, '')))];
}

function isLoopbackUrl(url: string): boolean {
    if (!URL.canParse(url)) return false;
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/**
 * The frame-ancestors sources: the server's own origin, plus the configured origins, or (unset) every loopback origin
 * when the server itself runs on loopback. A production server with nothing configured can be framed by itself only.
 */
export function frameAncestorSources(configured: string[] | undefined, serverUrl: string): string[] {
    const extra = configured ?? (isLoopbackUrl(serverUrl) ? LOOPBACK_ANCESTORS : []);
    return ["'self'", ...extra];
}
