// The Connect UI ↔ app protocol of @nangohq/frontend's openConnectUI (docs/connect-ui.md):
//   UI → app: ready, connect {providerConfigKey, connectionId, isPending}, error {errorType, errorMessage}, close
//   app → UI: session_token {sessionToken}
// Messages to the app go to its exact origin, never '*' (docs/security.md, item 19). The origin comes from
// location.ancestorOrigins, else from document.referrer; the framing itself is limited by the server's CSP
// frame-ancestors, so the parent is an allowed origin. Only `ready` (which carries nothing) may be sent before the
// origin is known; the app's `session_token` answer then tells it.

export interface ConnectResult {
    providerConfigKey: string;
    connectionId: string;
    isPending: boolean;
}

export type ParentEvent =
    | { type: 'ready' }
    | { type: 'connect'; payload: ConnectResult }
    | { type: 'error'; payload: { errorType: string; errorMessage: string } }
    | { type: 'close' };

export interface ParentChannel {
    /** True when the UI runs inside an iframe (openConnectUI); false for a connect_link opened directly. */
    readonly framed: boolean;
    send(event: ParentEvent): void;
    /** Calls back with each session token the app sends; returns the unsubscribe function. */
    onSessionToken(cb: (token: string) => void): () => void;
}

function originOf(url: string | undefined): string | undefined {
    if (!url) return undefined;
    try {
        const origin = new URL(url).origin;
        return origin === 'null' ? undefined : origin;
    } catch {
        return undefined;
    }
}

/** The embedding page's origin, when the browser tells it. */
export function knownParentOrigin(win: Window): string | undefined {
    const ancestors = win.location.ancestorOrigins as DOMStringList | undefined;
    const first = ancestors && ancestors.length > 0 ? ancestors.item(0) : null;
    return originOf(first ?? undefined) ?? originOf(win.document.referrer || undefined);
}

const MAX_TOKEN = 512;

export function createParentChannel(win: Window = window): ParentChannel {
    const framed = win.parent !== win;
    let parentOrigin = framed ? knownParentOrigin(win) : undefined;
    return {
        framed,
        send(event) {
            if (!framed) return;
            if (parentOrigin) win.parent.postMessage(event, parentOrigin);
            else if (event.type === 'ready') win.parent.postMessage(event, '*');
            else console.warn(`Connect UI: the app's origin is unknown; "${event.type}" not sent`);
        },
        onSessionToken(cb) {
            const listener = (e: MessageEvent<unknown>) => {
                if (!framed || e.source !== win.parent) return;
                if (parentOrigin && e.origin !== parentOrigin) return;
                const data = e.data;
                if (typeof data !== 'object' || data === null || (data as { type?: unknown }).type !== 'session_token') return;
                const token = (data as { sessionToken?: unknown }).sessionToken;
                if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN) return;
                parentOrigin ??= originOf(e.origin);
                cb(token);
            };
            win.addEventListener('message', listener);
            return () => win.removeEventListener('message', listener);
        }
    };
}
