// What the page URL carries: openConnectUI adds apiURL, detectClosedAuthWindow, lang and theme; a connect_link
// carries session_token. The token is removed from the address bar once read.
import { parseMode, type ThemeMode } from './theme.ts';

export interface PageConfig {
    apiURL: string;
    urlToken: string | undefined;
    detectClosedAuthWindow: boolean;
    lang: string | null;
    theme: ThemeMode | undefined;
}

/** The server serves the UI at <server>/connect/, so by default the API is the URL without that last segment. */
function defaultApiURL(loc: Location): string {
    return `${loc.origin}${loc.pathname.replace(/\/connect(\/.*)?$/, '')}`;
}

function httpUrl(value: string | null): string | undefined {
    if (!value || !URL.canParse(value)) return undefined;
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:' ? value.replace(/\/+$/, '') : undefined;
}

export function readPageConfig(win: Window = window): PageConfig {
    const params = new URLSearchParams(win.location.search);
    const urlToken = params.get('session_token') ?? undefined;
    if (urlToken !== undefined) {
        params.delete('session_token');
        const rest = params.toString();
        win.history.replaceState(null, '', `${win.location.pathname}${rest ? `?${rest}` : ''}${win.location.hash}`);
    }
    return {
        apiURL: httpUrl(params.get('apiURL')) ?? defaultApiURL(win.location),
        urlToken,
        detectClosedAuthWindow: params.get('detectClosedAuthWindow') === 'true',
        lang: params.get('lang'),
        theme: parseMode(params.get('theme'))
    };
}
