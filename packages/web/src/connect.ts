// Drives a connection over Switchboard's public wire protocol (docs/connect.md): the popup and WebSocket for
// OAuth, the JSON POST routes for credentials. Written from the protocol rather than bundling @nangohq/frontend,
// whose licence is not Apache-2.0; the tests still drive the UI with the official SDK as the app's client.
import type { ConnectResult } from './protocol.ts';
import type { Flow } from './fields.ts';
import { websocketsPathFor } from './websockets-path.ts';

export interface ConnectRequest {
    apiURL: string;
    token: string;
    websocketsPath: string | undefined;
    integrationKey: string;
    flow: Flow;
    credentials: Record<string, string>;
    params: Record<string, string>;
    detectClosedAuthWindow: boolean;
}

/** A failed connection: `type` is the server's error code or WebSocket error type (errors.ts words it). */
export class ConnectError extends Error {
    override name = 'ConnectError';
    readonly type: string;

    constructor(type: string, message: string) {
        super(message);
        this.type = type;
    }
}

const POPUP = { width: 500, height: 600 };

function query(req: ConnectRequest, extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({ connect_session_token: req.token });
    for (const [k, v] of Object.entries(req.params)) q.set(`params[${k}]`, v);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return q.toString();
}

function apiUrl(req: ConnectRequest, path: string): string {
    return `${req.apiURL.replace(/\/+$/, '')}${path}`;
}

/** OAuth: the popup opens first (inside the click), then navigates once the WebSocket has its client id. */
function oauth(req: ConnectRequest): Promise<ConnectResult> {
    const left = Math.max(0, window.screenX + (window.outerWidth - POPUP.width) / 2);
    const top = Math.max(0, window.screenY + (window.outerHeight - POPUP.height) / 2);
    const popup = window.open('', '_blank', `width=${POPUP.width},height=${POPUP.height},left=${left},top=${top}`);
    if (!popup || popup.closed) return Promise.reject(new ConnectError('blocked_by_browser', 'The browser blocked the sign-in window'));
    const wsUrl = new URL(websocketsPathFor(req.apiURL, req.websocketsPath), req.apiURL);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise<ConnectResult>((resolve, reject) => {
        const socket = new WebSocket(wsUrl);
        let settled = false;
        let watcher: number | undefined;
        const finish = (fn: () => void) => {
            if (settled) return;
            settled = true;
            if (watcher !== undefined) window.clearInterval(watcher);
            socket.close();
            fn();
        };
        socket.addEventListener('message', (event) => {
            let frame: Record<string, unknown>;
            try {
                frame = JSON.parse(String(event.data)) as Record<string, unknown>;
            } catch {
                return;
            }
            if (frame['message_type'] === 'connection_ack' && typeof frame['ws_client_id'] === 'string') {
                popup.location.href = apiUrl(
                    req,
                    `/oauth/connect/${encodeURIComponent(req.integrationKey)}?${query(req, { ws_client_id: frame['ws_client_id'] })}`
                );
            } else if (frame['message_type'] === 'success') {
                finish(() =>
                    resolve({
                        providerConfigKey: String(frame['provider_config_key']),
                        connectionId: String(frame['connection_id']),
                        isPending: frame['is_pending'] === true
                    })
                );
            } else if (frame['message_type'] === 'error') {
                finish(() => reject(new ConnectError(String(frame['error_type'] ?? 'unknown_error'), String(frame['error_desc'] ?? ''))));
            }
        });
        // Unlike the SDK, a lost socket is an error the person sees, not a wait that never ends.
        socket.addEventListener('close', () => finish(() => reject(new ConnectError('websocket_closed', 'The connection to the server was lost'))));
        watcher = window.setInterval(() => {
            if (popup.closed && req.detectClosedAuthWindow)
                finish(() => reject(new ConnectError('window_closed', 'The sign-in window was closed before the connection was made')));
        }, 500);
    });
}

/** Credential flows: one JSON POST (docs/connect.md, "Non-popup routes"). */
async function post(req: ConnectRequest, path: string, body: Record<string, string> | undefined): Promise<ConnectResult> {
    let res: Response;
    try {
        res = await fetch(apiUrl(req, `${path}/${encodeURIComponent(req.integrationKey)}?${query(req)}`), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            ...(body ? { body: JSON.stringify(body) } : {})
        });
    } catch {
        throw new ConnectError('network_error', 'The server could not be reached');
    }
    const json = (await res.json().catch(() => ({}))) as { connectionId?: string; providerConfigKey?: string; error?: { code?: string; message?: string } };
    if (!res.ok) throw new ConnectError(json.error?.code ?? 'unknown_error', json.error?.message ?? `HTTP ${res.status}`);
    return { providerConfigKey: json.providerConfigKey ?? req.integrationKey, connectionId: json.connectionId ?? '', isPending: false };
}

/** Must be called synchronously from the click: the OAuth popup opens before anything is awaited. */
export function connect(req: ConnectRequest): Promise<ConnectResult> {
    const c = req.credentials;
    switch (req.flow) {
        case 'oauth':
            return oauth(req);
        case 'api_key':
            return post(req, '/api-auth/api-key', { apiKey: c['apiKey'] ?? '' });
        case 'basic':
            return post(req, '/api-auth/basic', { username: c['username'] ?? '', password: c['password'] ?? '' });
        case 'client_credentials':
            return post(req, '/oauth2/auth', { client_id: c['client_id'] ?? '', client_secret: c['client_secret'] ?? '' });
        case 'none':
            return post(req, '/auth/unauthenticated', undefined);
        case 'two_step':
            return post(req, '/auth/two-step', c);
        case 'jwt':
            return post(req, '/auth/jwt', c);
        case 'aws_sigv4':
            return post(req, '/auth/aws-sigv4', c);
        case 'tba':
            return post(req, '/auth/tba', { token_id: c['token_id'] ?? '', token_secret: c['token_secret'] ?? '' });
        case 'signature':
            return post(req, '/auth/signature', { username: c['username'] ?? '', password: c['password'] ?? '' });
        case 'bill':
            return post(req, '/auth/bill', {
                username: c['username'] ?? '',
                password: c['password'] ?? '',
                organization_id: c['organization_id'] ?? '',
                dev_key: c['dev_key'] ?? ''
            });
        case 'unsupported':
            return Promise.reject(new ConnectError('unsupported_auth_mode', 'unsupported auth mode'));
    }
}
