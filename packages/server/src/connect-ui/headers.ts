// Security headers of every Connect UI response. The UI talks only to this server (its API and WebSocket) and
// loads only its own bundle, so everything else is 'none'; no inline script or style is needed.
import { frameAncestorSources } from '../config/frame-ancestors.ts';

function serverSources(serverUrl: string): string[] {
    if (!URL.canParse(serverUrl)) return [];
    const u = new URL(serverUrl);
    const ws = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
    return [u.origin, ws];
}

/** The Content-Security-Policy of the Connect UI for this server URL and frame-ancestors setting. */
export function connectUiCsp(serverUrl: string, frameAncestors: string[] | undefined): string {
    // The UI may be reached on another host name than SWITCHBOARD_SERVER_URL (127.0.0.1 vs localhost), while the
    // integration logos and the SDK's WebSocket use the configured URL: allow both.
    const server = serverSources(serverUrl);
    return [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        `img-src 'self' data: ${server[0] ?? ''}`.trim(),
        `connect-src 'self' ${server.join(' ')}`.trim(),
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        `frame-ancestors ${frameAncestorSources(frameAncestors, serverUrl).join(' ')}`
    ].join('; ');
}

/** Headers shared by the page, its assets and its error answers. */
export function connectUiHeaders(serverUrl: string, frameAncestors: string[] | undefined): Record<string, string> {
    return {
        'content-security-policy': connectUiCsp(serverUrl, frameAncestors),
        // The session token may sit in the page URL (connect_link); never send it on as a referrer.
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()'
    };
}
