// Error codes from the server (error.code) and the WebSocket (error_type) mapped to a sentence a person understands.
import type { StringKey } from './i18n.ts';

const messages: Record<string, StringKey> = {
    unknown_connect_session_token: 'errSessionExpired',
    invalid_connect_session_token_format: 'errSessionExpired',
    missing_connect_session_token: 'errSessionExpired',
    missing_auth_token: 'errSessionExpired',
    missing_auth_header: 'errSessionExpired',
    integration_not_allowed: 'errNotAllowed',
    connection_test_failed: 'errCredentialsRejected',
    connection_validation_failed: 'errValidation',
    invalid_query_params: 'errValidation',
    invalid_connection_config: 'errValidation',
    invalid_body: 'errValidation',
    window_closed: 'errWindowClosed',
    blocked_by_browser: 'errPopupBlocked',
    network_error: 'errNetwork',
    websocket_closed: 'errNetwork',
    unknown_provider_config: 'errIntegrationMissing',
    unknown_config_key: 'errIntegrationMissing',
    provider_config_err: 'errIntegrationMissing',
    unknown_provider: 'errIntegrationMissing',
    not_found: 'errIntegrationMissing',
    resource_capped: 'errCapped',
    route_not_found: 'errUnavailable',
    no_parent_origin: 'errNoParent'
};

export function messageKey(code: string): StringKey {
    return messages[code] ?? 'errGeneric';
}

/** Errors after which the same session cannot succeed: no "try again". */
export function isFatal(code: string): boolean {
    return messages[code] === 'errSessionExpired' || code === 'integration_not_allowed' || code === 'resource_capped';
}

/** Errors shown inside the form, next to the values the person can correct. */
export function isFormError(code: string): boolean {
    return (
        code === 'connection_test_failed' ||
        code === 'connection_validation_failed' ||
        code === 'invalid_body' ||
        code === 'invalid_query_params' ||
        code === 'invalid_connection_config'
    );
}

export interface UiError {
    code: string;
    message: string;
}

export function toUiError(err: unknown): UiError {
    if (typeof err === 'object' && err !== null) {
        const e = err as { type?: unknown; code?: unknown; message?: unknown };
        const code = typeof e.type === 'string' ? e.type : typeof e.code === 'string' ? e.code : 'unknown_error';
        return { code, message: typeof e.message === 'string' && e.message ? e.message : code };
    }
    return { code: 'unknown_error', message: String(err) };
}
