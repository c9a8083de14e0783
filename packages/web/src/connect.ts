// Drives the connection through the official @nangohq/frontend SDK, exactly as an app would: the popup and
// WebSocket for OAuth, the JSON POST routes (/api-auth/api-key, /api-auth/basic, /oauth2/auth, /auth/unauthenticated)
// for the others.
import Nango from '@nangohq/frontend';
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


export async function connect(req: ConnectRequest): Promise<ConnectResult> {
    const nango = new Nango({ host: req.apiURL, connectSessionToken: req.token, websocketsPath: websocketsPathFor(req.apiURL, req.websocketsPath) });
    const params = Object.keys(req.params).length > 0 ? { params: req.params } : {};
    let result: { providerConfigKey: string; connectionId: string; isPending?: boolean };
    switch (req.flow) {
        case 'oauth':
            result = await nango.auth(req.integrationKey, { ...params, detectClosedAuthWindow: req.detectClosedAuthWindow });
            break;
        case 'api_key':
            result = await nango.auth(req.integrationKey, { ...params, credentials: { apiKey: req.credentials['apiKey'] ?? '' } });
            break;
        case 'basic':
            result = await nango.auth(req.integrationKey, { ...params, credentials: { username: req.credentials['username'] ?? '', password: req.credentials['password'] ?? '' } });
            break;
        case 'client_credentials':
            result = await nango.auth(req.integrationKey, { ...params, credentials: { client_id: req.credentials['client_id'] ?? '', client_secret: req.credentials['client_secret'] ?? '' } });
            break;
        case 'none':
            result = await nango.create(req.integrationKey, params);
            break;
        case 'unsupported':
            throw Object.assign(new Error('unsupported auth mode'), { type: 'unsupported_auth_mode' });
    }
    return { providerConfigKey: result.providerConfigKey, connectionId: result.connectionId, isPending: result.isPending ?? false };
}
