/**
 * Every error the API returns, declared once: stable code → HTTP status and a message a person understands.
 * Codes are Nango's where Nango has one (the SDKs and apps match on them); docs/errors.md documents each,
 * and a test fails either way when the two differ. This module sits below every capability: egress, refresh, the
 * script host and the routes throw these; only http/error-envelope.ts turns one into an HTTP answer.
 */
export const errorCodes = {
    invalid_json: { status: 400, message: 'The request body is not valid JSON' },
    invalid_body: { status: 400, message: 'The request body is invalid' },
    invalid_query_params: { status: 400, message: 'The query parameters are invalid' },
    invalid_uri_params: { status: 400, message: 'The URL parameters are invalid' },
    invalid_headers: { status: 400, message: 'The request headers are invalid' },
    invalid_content_type: { status: 415, message: 'Content-Type must be application/json' },
    payload_too_large: { status: 413, message: 'The request body is larger than the configured limit' },
    missing_auth_header: { status: 401, message: 'Authentication failed: the Authorization header is missing' },
    malformed_auth_header: { status: 401, message: 'Authentication failed: the Authorization header must be "Bearer <secret key>"' },
    unknown_account: { status: 401, message: 'Authentication failed: the secret key is unknown' },
    invalid_connect_session_token_format: { status: 401, message: 'The connect session token is malformed' },
    unknown_connect_session_token: { status: 401, message: 'The connect session token is unknown or expired' },
    unknown_agent_token: { status: 401, message: 'The agent token is unknown or was revoked' },
    agent_token_expired: { status: 401, message: 'The agent token has expired: the app issues a new one (POST /mcp/tokens)' },
    missing_connect_session_token: {
        status: 401,
        message: 'A connect session token is required (connect_session_token query parameter), or a public key where the environment allows them'
    },
    missing_public_key: { status: 401, message: 'The public_key query parameter is missing' },
    invalid_public_key: { status: 401, message: 'The public key is malformed or belongs to no environment' },
    public_key_auth_disabled: {
        status: 401,
        message: "Public-key auth is switched off for this key's environment: use a connect session token, or switch it on"
    },
    missing_hmac: { status: 400, message: 'The environment requires an hmac of the integration and connection id with public-key auth' },
    invalid_hmac: { status: 400, message: 'The hmac does not match the integration and connection id' },
    integration_not_allowed: { status: 400, message: 'The connect session does not allow this integration' },
    invalid_connection: { status: 400, message: 'The connection this session reconnects no longer exists' },
    connection_test_failed: { status: 400, message: 'The provider rejected the credentials when they were checked' },
    connection_validation_failed: { status: 400, message: 'A validate-connection script of the integration rejected the connection' },
    missing_client_credentials: { status: 400, message: 'The integration has no OAuth client id and secret' },
    mcp_discovery_failed: {
        status: 400,
        message: "The MCP server's authorization server could not be discovered, or its metadata was refused (RFC 9728, RFC 8414)"
    },
    mcp_registration_failed: { status: 400, message: "The MCP server's authorization server did not register Switchboard as an OAuth client (RFC 7591)" },
    not_found: { status: 404, message: 'Not found' },
    route_not_found: { status: 404, message: 'No such route' },
    unknown_provider: { status: 404, message: 'Unknown provider' },
    unknown_provider_config: { status: 404, message: 'Unknown integration (provider config key)' },
    unknown_connection: { status: 404, message: 'Provided ConnectionId and ProviderConfigKey does not match a valid connection' },
    invalid_auth_mode: { status: 400, message: 'The credentials type does not match the provider auth mode' },
    missing_connection_config: { status: 400, message: 'A connection_config value required by the provider is missing' },
    invalid_connection_config: { status: 400, message: 'A connection_config value is not allowed by the provider definition' },
    unsupported_provider: { status: 400, message: 'The provider has no proxy base URL; send Base-Url-Override' },
    base_url_override_not_allowed: { status: 400, message: 'Base-Url-Override does not match the integration allowlist' },
    proxy_path_not_allowed: { status: 400, message: 'The proxied path leaves the path of the base URL (a .. segment, possibly encoded)' },
    egress_forbidden: { status: 400, message: 'Outbound requests to private or loopback addresses are not allowed' },
    connection_refresh_backoff: { status: 424, message: 'The last refresh failed less than 30 seconds ago; retry later' },
    refresh_token_external_error: { status: 400, message: 'The provider refused to refresh the token' },
    upstream_unreachable: { status: 502, message: 'The provider could not be reached' },
    upstream_timeout: { status: 504, message: 'The provider did not answer in time' },
    upstream_too_large: { status: 502, message: 'The provider response was larger than allowed' },
    client_closed_request: { status: 499, message: 'The client closed the connection before the response' },
    unknown_environment: { status: 404, message: 'No such environment' },
    dashboard_session_required: { status: 401, message: 'Sign in to the dashboard first: the session cookie is missing, unknown or expired' },
    dashboard_csrf_failed: { status: 403, message: 'The CSRF token is missing or wrong: the dashboard sends the one it received at sign-in' },
    dashboard_sign_in_failed: { status: 401, message: 'The admin key is wrong' },
    admin_key_required: { status: 403, message: 'This route needs the admin key (SWITCHBOARD_ADMIN_KEY), not an environment secret key' },
    environment_already_exists: { status: 409, message: 'An environment with this name already exists' },
    default_environment_not_deletable: {
        status: 409,
        message: 'The default environment (the first one, configured by SWITCHBOARD_SECRET_KEY) cannot be deleted'
    },
    unknown_environment_key: { status: 404, message: 'The environment has no secret key with this id' },
    invalid_webhook_signature: { status: 401, message: 'The webhook signature is missing, invalid or too old' },
    webhook_secret_not_configured: { status: 401, message: 'The integration has no webhook_secret, so this provider webhook cannot be verified' },
    unknown_webhook_delivery: { status: 404, message: 'No webhook delivery with this id' },
    webhook_delivery_pending: { status: 409, message: 'The webhook delivery is still pending; only delivered, failed or dead deliveries can be replayed' },
    connect_ui_not_built: { status: 503, message: 'The Connect UI is not built: run "npm run build -w @switchboard/web" (npm start does it when needed)' },
    missing_provider_config_key: { status: 400, message: 'provider_config_key is required (in the body or the Provider-Config-Key header)' },
    unknown_sync: { status: 400, message: 'No sync with this name is deployed for the integration' },
    invalid_variant: { status: 400, message: 'The variant name "base" is reserved for the default schedule of every sync' },
    sync_variant_already_exists: { status: 400, message: 'This variant of the sync already exists on the connection' },
    sync_run_stopped: { status: 409, message: 'The sync run was stopped (reset, given up as lost, or its schedule deleted) and can no longer write' },
    action_script_failure: { status: 500, message: 'The action script failed' },
    script_http_error: { status: 424, message: 'The action script received an HTTP error from the provider' },
    invalid_record: { status: 400, message: 'A record is invalid (its id must be a string of 1 to 255 characters or a number)' },
    invalid_cursor: { status: 400, message: 'The cursor is invalid: use a cursor returned by GET /records' },
    // Legacy routes (`/config`, `POST /connection`): Nango's codes for a missing or unusable field (docs/compatibility.md, "Legacy routes").
    missing_provider_config: { status: 400, message: "Missing param 'provider_config_key'" },
    missing_provider_template: { status: 400, message: "Missing param 'provider'" },
    unknown_provider_template: { status: 400, message: "No provider in the catalogue matches the 'provider' parameter" },
    missing_client_id: { status: 400, message: "Missing param 'oauth_client_id'" },
    missing_client_secret: { status: 400, message: "Missing param 'oauth_client_secret'" },
    missing_app_secret: { status: 400, message: "Missing param 'oauth_client_secret' (the GitHub App's private key)" },
    invalid_oauth_scopes: { status: 400, message: 'oauth_scopes must be a comma-separated string, not an array' },
    duplicate_provider_config: { status: 409, message: "There is already an integration matching the param 'provider_config_key'" },
    provider_config_edit_not_allowed: { status: 400, message: 'An integration of an API key or basic auth provider has no OAuth client to edit' },
    missing_access_token: { status: 400, message: "Missing param 'access_token'" },
    missing_expires_at: {
        status: 400,
        message: "Importing an OAuth2 token requires 'expires_at' (or 'expires_in'); for a token that does not expire, pass 'no_expiration': true"
    },
    invalid_expires_at: { status: 400, message: "'expires_at' is not a valid date" },
    missing_oauth_token: { status: 400, message: "Missing param 'oauth_token'" },
    missing_oauth_token_secret: { status: 400, message: "Missing param 'oauth_token_secret'" },
    missing_basic_username: { status: 400, message: "Missing param 'username' for basic auth" },
    missing_api_key: { status: 400, message: "Missing param 'api_key'" },
    missing_app_id: { status: 400, message: "Missing param 'app_id'" },
    missing_installation_id: { status: 400, message: "Missing param 'installation_id'" },
    unknown_oauth_type: { status: 400, message: "The integration's auth mode cannot be imported through POST /connection" },
    too_many_request: { status: 429, message: 'Too many requests: the rate limit was reached; retry after the Retry-After seconds' },
    ambiguous_function: { status: 409, message: 'Several functions have this name; pass type to choose one' },
    vault_error: { status: 500, message: 'A stored secret could not be decrypted' },
    server_error: { status: 500, message: 'An unexpected error happened' },
    generic_error_support: { status: 500, message: 'An unexpected error happened; please contact support with the error id' }
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorIssue {
    code: string;
    message: string;
    path: Array<string | number>;
}

/** An error as a value: code, status and optional details; the HTTP layer renders it as Nango's envelope. */
export class ApiError extends Error {
    override name = 'ApiError';
    readonly code: ErrorCode;
    readonly status: number;
    readonly errors: ErrorIssue[] | undefined;
    readonly payload: unknown;
    readonly headers: Record<string, string> | undefined;
    /** Extra envelope fields some codes carry (e.g. `upstream` on script_http_error). */
    readonly additional: Record<string, unknown> | undefined;

    constructor(
        code: ErrorCode,
        opts: {
            message?: string;
            status?: number;
            errors?: ErrorIssue[];
            payload?: unknown;
            cause?: unknown;
            headers?: Record<string, string>;
            additional?: Record<string, unknown>;
        } = {}
    ) {
        super(opts.message ?? errorCodes[code].message, { cause: opts.cause });
        this.code = code;
        this.status = opts.status ?? errorCodes[code].status;
        this.errors = opts.errors;
        this.payload = opts.payload;
        this.headers = opts.headers;
        this.additional = opts.additional;
    }

    toJSON(): { error: Record<string, unknown> } {
        const error: Record<string, unknown> = { ...this.additional, code: this.code, message: this.message };
        if (this.errors) error['errors'] = this.errors;
        if (this.payload !== undefined) error['payload'] = this.payload;
        return { error };
    }
}

/** Shorthand used across capabilities: `throw fail('not_found', { message })`. */
export function fail(code: ErrorCode, opts?: ConstructorParameters<typeof ApiError>[1]): ApiError {
    return new ApiError(code, opts);
}

/** A setting (environment variable, key file, data folder) that stops the process at start, with a message naming it. */
export class ConfigError extends Error {
    override name = 'ConfigError';
}
