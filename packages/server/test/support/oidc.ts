/**
 * A REAL OAuth 2.0 / OpenID Connect authorization server for tests: `oidc-provider` (a certified
 * implementation) listening on 127.0.0.1 with an ephemeral port. Never a mock.
 *
 * What it is configured as:
 * - One confidential client. Its registered `token_endpoint_auth_method` is `client_secret_basic`;
 *   oidc-provider treats `client_secret_basic` and `client_secret_post` as interchangeable for a
 *   client registered with either (lib/shared/client_auth.js: a secret in the body or in the Basic
 *   header both resolve to the method list ['client_secret_basic', 'client_secret_post']), so BOTH
 *   work with a single client. Sending both at once is rejected (invalid_request), as the RFC says.
 *   Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1) and oidc-provider
 *   decodes them, so a secret containing `%` or `+` must be encoded by the caller.
 * - The client is served by a tiny per-server `Client` adapter (not the static `clients` config),
 *   so `setClientSecret()` takes effect on the very next request: oidc-provider re-reads adapter
 *   clients on every lookup and re-validates them when their metadata changes.
 * - Grant types authorization_code + refresh_token; PKCE (S256, the only method oidc-provider v9
 *   supports) required for every authorization request.
 * - Refresh-token rotation ON (`rotateRefreshToken: true`). Reuse detection is BUILT INTO
 *   oidc-provider v9 (lib/actions/grants/refresh_token.js): presenting a consumed refresh token
 *   destroys it, revokes the whole grant (every access/refresh token of it, and the Grant itself)
 *   and answers `invalid_grant` ("refresh token already used"). Nothing is patched.
 * - A refresh token is issued on every code exchange of this client (no `offline_access` +
 *   `prompt=consent` dance needed, like most real SaaS providers), and tokens do not die with the
 *   browser session.
 * - Revocation (RFC 7009) and introspection (RFC 7662) endpoints enabled. NOTE: oidc-provider
 *   revokes every token of the grant when ANY token of it (access or refresh) is revoked; revoking
 *   a refresh token also destroys the Grant.
 * - Opaque access tokens, TTL configurable (default 3600 s), usable at the userinfo endpoint
 *   (`/me`) when the grant has the `openid` scope. `clockTolerance` is 0 so expiry is exact.
 * - oidc-provider's own in-memory adapter (one private store per server), generated RSA signing
 *   key, random cookie keys: no console noise. The dev-interactions login/consent pages stay
 *   enabled (a browser test logs in through them; any login name works, it becomes the `sub`).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export interface TestAuthCounts {
    /** Successful grant_type=refresh_token requests. */
    refresh: number;
    /** Successful grant_type=authorization_code requests. */
    authorizationCode: number;
    /** Successful (HTTP 200) revocation requests — RFC 7009 answers 200 for unknown tokens too. */
    revocation: number;
    /** Failed grant_type=refresh_token requests (any error, including invalid_client). */
    failedRefresh: number;
    /** Failed grant_type=authorization_code requests. */
    failedAuthorizationCode: number;
    /** Failed revocation requests (e.g. invalid_client). */
    failedRevocation: number;
    /** Every POST to the token endpoint, whatever the grant type and result. */
    tokenRequests: number;
    /** Grants revoked by the server (refresh-token reuse detection, refresh-token revocation). */
    grantRevoked: number;
    /** Every POST to the dynamic client registration endpoint (RFC 7591), whatever the result. */
    registrationRequests: number;
    /** Clients registered dynamically. */
    registered: number;
}

export type TestAuthEventKind =
    | 'refresh'
    | 'refresh_failed'
    | 'authorization_code'
    | 'authorization_code_failed'
    | 'token_other'
    | 'token_other_failed'
    | 'revocation'
    | 'revocation_failed'
    | 'grant_revoked'
    | 'server_error';

export interface TestAuthEvent {
    kind: TestAuthEventKind;
    /** Date.now() when the server finished handling the request. */
    at: number;
    /** Failure: "error_code: detail"; success: the client authentication method; grant_revoked: grant id. */
    detail?: string;
    /** For token requests: the grant_type parameter as received. */
    grantType?: string;
    /** How the client authenticated: Basic header, body secret, or neither. */
    clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'none';
    /** HTTP status of the response (endpoint events only). */
    status?: number;
    /** OAuth error code of a failure (e.g. invalid_grant, invalid_client). */
    error?: string;
}

export interface MintGrantOptions {
    /** The account (`sub`) the grant belongs to. Default "user-1". */
    accountId?: string;
    /** Space-separated scope granted. Default "openid offline_access email profile". */
    scope?: string;
    /** Access-token lifetime in seconds (integer >= 1). Default: the server's accessTokenTtlSeconds. */
    accessTokenTtl?: number;
}

export interface MintedGrant {
    accessToken: string;
    refreshToken: string;
    /** Seconds until the access token expires. */
    expiresIn: number;
    grantId: string;
    scope: string;
}

export interface StartAuthServerOptions {
    /** Lifetime of access tokens issued by the token endpoint (and by mintGrant by default). Default 3600. */
    accessTokenTtlSeconds?: number;
    /** Registered redirect URI(s). Default http://127.0.0.1:3003/oauth/callback */
    redirectUri?: string | string[];
    /** Default "switchboard-test-client". */
    clientId?: string;
    /** Default: random. */
    clientSecret?: string;
    /** Keep oidc-provider's dev login/consent pages (needed for a browser flow). Default true. */
    devInteractions?: boolean;
    /**
     * Lifetime of refresh tokens in seconds (oidc-provider's `ttl.RefreshToken`, default 14 days). When set, token
     * responses that carry a refresh token also announce it as `refresh_token_expires_in`, as GitHub and Google do.
     */
    refreshTokenTtlSeconds?: number;
    /** Scope values to accept besides openid, offline_access, email and profile (a catalogue's provider-specific scopes). */
    extraScopes?: string[];
    /** Require PKCE on every authorization request (default true). When false PKCE is optional, and still checked when sent. */
    pkceRequired?: boolean;
    /**
     * Runs before oidc-provider sees each request; it may rewrite `req.url` or consume the body (then it sets `req.body`
     * to the parsed parameters, which oidc-provider reads instead of the stream). The catalogue test uses it to serve
     * each provider's real endpoint paths from this one server.
     */
    beforeRequest?: (req: IncomingMessage & { body?: Record<string, string> }) => Promise<void> | void;
    /** Reshapes a successful token endpoint answer (a provider-specific field, a nested token), after the counters ran. */
    shapeTokenResponse?: (body: Record<string, unknown>, req: IncomingMessage) => Record<string, unknown>;
    /**
     * More client ids to accept, each with the same secret and redirect URIs as the main client (so concurrent flows
     * can be told apart by client id). Default: only `clientId`.
     */
    acceptClientId?: (id: string) => boolean;
    /**
     * Dynamic client registration (RFC 7591) at `/reg`: registered clients are kept by this server's client adapter.
     * With `initialAccessToken`, a registration without that token is refused (401 invalid_token).
     */
    dynamicRegistration?: { initialAccessToken?: string };
    /**
     * Resource indicators (RFC 8707): tokens asked for with `resource` = `indicator` are for that resource server,
     * with `scope`; any other resource is refused (invalid_target).
     */
    resourceIndicator?: { indicator: string; scope: string };
}

export interface TestAuthServer {
    /** e.g. http://127.0.0.1:PORT (no trailing slash). */
    issuer: string;
    tokenUrl: string;
    authorizationUrl: string;
    revocationUrl: string;
    introspectionUrl: string;
    userinfoUrl: string;
    /** OpenID discovery document URL. */
    discoveryUrl: string;
    /** Dynamic client registration endpoint (when enabled). */
    registrationUrl: string;
    /** Metadata of the clients registered dynamically, in order. */
    registeredClients: Array<Record<string, unknown>>;
    redirectUris: string[];
    clientId: string;
    /** The CURRENT client secret (changes after setClientSecret). */
    readonly clientSecret: string;
    /** Live counters (mutated in place). */
    counts: TestAuthCounts;
    /** Token/revocation endpoint events, in order. */
    events: TestAuthEvent[];
    mintGrant(opts?: MintGrantOptions): Promise<MintedGrant>;
    /** Same answer the introspection endpoint would give (exists, not consumed/expired, grant alive). */
    isRefreshTokenActive(rt: string): Promise<boolean>;
    isAccessTokenActive(at: string): Promise<boolean>;
    /** Rotate the client secret: later requests authenticated with the old one fail with invalid_client. */
    setClientSecret(secret: string): void;
    /**
     * The end user withdraws access at the provider: every token of the grant and the grant itself are destroyed
     * in oidc-provider's store (its adapter's revokeByGrantId, then Grant.destroy), as its revocation endpoint does.
     */
    revokeGrant(grantId: string): Promise<void>;
    close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Minimal local view of the parts of oidc-provider we use (it ships no type declarations).
// ---------------------------------------------------------------------------------------------

interface OidcParams {
    [key: string]: unknown;
}

interface OidcContextLike {
    params?: OidcParams;
}

interface KoaContextLike {
    req: IncomingMessage;
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    headers: Record<string, string | string[] | undefined>;
    readonly oidc?: OidcContextLike;
}

type KoaNext = () => Promise<void>;
type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

interface OidcErrorLike {
    error?: string;
    error_description?: string;
    error_detail?: string;
    message?: string;
}

interface ClientLike {
    clientId: string;
    grantTypeAllowed(grantType: string): boolean;
}

interface StoredTokenLike {
    jti: string;
    clientId?: string;
    accountId?: string;
    grantId?: string;
    isValid: boolean;
    isExpired: boolean;
}

interface GrantLike {
    accountId?: string;
    clientId?: string;
    isExpired: boolean;
    destroy(): Promise<void>;
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
}

interface TokenInit {
    accountId: string;
    client: ClientLike;
    grantId: string;
    scope: string;
    gty: string;
    authTime?: number;
    expiresIn?: number;
}

interface IssuableTokenLike {
    expiration: number;
    save(): Promise<string>;
}

interface TokenModel {
    new (init: TokenInit): IssuableTokenLike;
    readonly adapter: { revokeByGrantId(grantId: string): Promise<void> };
    find(value: string, opts?: { ignoreExpiration?: boolean }): Promise<StoredTokenLike | undefined>;
}

interface ProviderLike {
    issuer: string;
    Grant: {
        new (init: { accountId: string; clientId: string }): GrantLike;
        find(id: string, opts?: { ignoreExpiration?: boolean }): Promise<GrantLike | undefined>;
    };
    AccessToken: TokenModel;
    RefreshToken: TokenModel;
    Client: { find(id: string): Promise<ClientLike | undefined> };
    use(fn: KoaMiddleware): unknown;
    on(event: string, listener: (...args: unknown[]) => void): unknown;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
}

type ProviderCtor = new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;

type AdapterFactory = (modelName: string) => unknown;

interface MemoryAdapterModule {
    default: new (modelName: string) => unknown;
    createMemoryAdapter?: (clockTolerance?: number) => AdapterFactory;
}

// Non-literal specifiers: TypeScript types these imports as `any` (no declaration file needed),
// and they are narrowed right here to the local interfaces above.
const PROVIDER_SPECIFIER: string = 'oidc-provider';
const MEMORY_ADAPTER_SPECIFIER: string = 'oidc-provider/lib/adapters/memory_adapter.js';

type OidcErrors = { InvalidTarget: new (description?: string) => Error };
type Loaded = { Provider: ProviderCtor; errors: OidcErrors; memoryAdapterFactory: () => AdapterFactory };
let loaded: Promise<Loaded> | undefined;

function loadOidcProvider(): Promise<Loaded> {
    loaded ??= (async () => {
        const providerModule = (await import(PROVIDER_SPECIFIER)) as { default: ProviderCtor; errors: OidcErrors };
        const adapterModule = (await import(MEMORY_ADAPTER_SPECIFIER)) as MemoryAdapterModule;
        const memoryAdapterFactory = (): AdapterFactory => {
            // createMemoryAdapter gives each provider its own store (and, unlike passing the default
            // MemoryAdapter class, does not print the "development-only adapter" warning).
            if (typeof adapterModule.createMemoryAdapter === 'function') {
                return adapterModule.createMemoryAdapter(0);
            }
            const MemoryAdapter = adapterModule.default;
            return (modelName: string) => new MemoryAdapter(modelName);
        };
        return { Provider: providerModule.default, errors: providerModule.errors, memoryAdapterFactory };
    })();
    return loaded;
}

// One RSA signing key per test process (generation costs tens of milliseconds).
let signingJwk: Record<string, unknown> | undefined;

function getSigningJwk(): Record<string, unknown> {
    if (!signingJwk) {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        signingJwk = {
            ...privateKey.export({ format: 'jwk' }),
            kid: `test-${randomBytes(6).toString('hex')}`,
            alg: 'RS256',
            use: 'sig'
        };
    }
    return signingJwk;
}

function escapeHtml(value: unknown): string {
    return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isPositiveInteger(value: unknown): value is number {
    return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:3003/oauth/callback';
const DEFAULT_SCOPE = 'openid offline_access email profile';
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// startAuthServer
// ---------------------------------------------------------------------------------------------

/**
 * A providers.yaml entry (SWITCHBOARD_PROVIDERS) for this authorization server: the client authenticates with
 * HTTP Basic, as startAuthServer registers it, and the proxy targets the issuer.
 */
export function providerYaml(as: Pick<TestAuthServer, 'authorizationUrl' | 'tokenUrl' | 'issuer'>, name = 'test-oidc', scopes = ['openid', 'email']): string {
    return `${name}:
  display_name: ${name}
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  token_request_auth_method: basic
  default_scopes: [${scopes.join(', ')}]
  proxy:
    base_url: ${as.issuer}
`;
}

export async function startAuthServer(opts: StartAuthServerOptions = {}): Promise<TestAuthServer> {
    const accessTokenTtl = opts.accessTokenTtlSeconds ?? 3600;
    const refreshTokenTtl = opts.refreshTokenTtlSeconds;
    if (refreshTokenTtl !== undefined && !isPositiveInteger(refreshTokenTtl)) {
        throw new TypeError('refreshTokenTtlSeconds must be a positive integer');
    }
    if (!isPositiveInteger(accessTokenTtl)) {
        throw new TypeError('accessTokenTtlSeconds must be a positive integer');
    }
    const redirectUris = opts.redirectUri === undefined ? [DEFAULT_REDIRECT_URI] : Array.isArray(opts.redirectUri) ? [...opts.redirectUri] : [opts.redirectUri];
    const clientId = opts.clientId ?? 'switchboard-test-client';
    let clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');

    const { Provider, errors, memoryAdapterFactory } = await loadOidcProvider();

    // The issuer must contain the port, so bind first and attach the provider afterwards.
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
        });
    });
    const { port } = server.address() as AddressInfo;
    const issuer = `http://127.0.0.1:${port}`;

    const clientMetadata = (id = clientId): Record<string, unknown> => ({
        client_id: id,
        client_secret: clientSecret,
        client_name: 'Switchboard test client',
        application_type: 'web',
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic'
    });

    // Clients come from this adapter (re-read on every lookup), everything else from
    // oidc-provider's own in-memory adapter.
    const registeredClients = new Map<string, Record<string, unknown>>();
    const clientAdapter = {
        async find(id: string): Promise<Record<string, unknown> | undefined> {
            const registered = registeredClients.get(id);
            if (registered) return registered;
            return id === clientId || opts.acceptClientId?.(id) ? clientMetadata(id) : undefined;
        },
        // Only dynamic registration writes clients (the static one above is never stored).
        async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
            registeredClients.set(id, payload);
        },
        async destroy(): Promise<void> {},
        async consume(): Promise<void> {},
        async findByUid(): Promise<undefined> {
            return undefined;
        },
        async findByUserCode(): Promise<undefined> {
            return undefined;
        },
        async revokeByGrantId(): Promise<void> {}
    };
    const memory = memoryAdapterFactory();
    const adapter = (modelName: string): unknown => (modelName === 'Client' ? clientAdapter : memory(modelName));

    const configuration: Record<string, unknown> = {
        adapter,
        clients: [],
        jwks: { keys: [getSigningJwk()] },
        cookies: { keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')] },
        clockTolerance: 0,
        pkce: { required: () => opts.pkceRequired ?? true },
        rotateRefreshToken: true,
        issueRefreshToken: async (_ctx: unknown, client: ClientLike) => client.grantTypeAllowed('refresh_token'),
        expiresWithSession: async () => false,
        scopes: [...new Set(['openid', 'offline_access', 'email', 'profile', ...(opts.extraScopes ?? [])])],
        claims: {
            openid: ['sub'],
            email: ['email', 'email_verified'],
            profile: ['name', 'preferred_username']
        },
        findAccount: async (_ctx: unknown, sub: string) => ({
            accountId: sub,
            async claims() {
                return {
                    sub,
                    email: `${sub}@example.test`,
                    email_verified: true,
                    name: `Test User ${sub}`,
                    preferred_username: sub
                };
            }
        }),
        ttl: {
            AccessToken: () => accessTokenTtl,
            AuthorizationCode: 60,
            IdToken: 3600,
            RefreshToken: refreshTokenTtl ?? FOURTEEN_DAYS,
            Grant: FOURTEEN_DAYS,
            Session: FOURTEEN_DAYS,
            Interaction: 3600
        },
        features: {
            devInteractions: { enabled: opts.devInteractions ?? true },
            introspection: { enabled: true, allowedPolicy: async () => true },
            revocation: {
                enabled: true,
                allowedPolicy: async (_ctx: unknown, client: ClientLike, token: StoredTokenLike) => token.clientId === client.clientId
            },
            registration: opts.dynamicRegistration
                ? { enabled: true, initialAccessToken: opts.dynamicRegistration.initialAccessToken ?? false }
                : { enabled: false },
            // Without a resource indicator: plain opaque tokens for the userinfo endpoint, no resource-server audiences.
            resourceIndicators: opts.resourceIndicator
                ? {
                      enabled: true,
                      defaultResource: async () => undefined,
                      useGrantedResource: async () => true,
                      getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
                          if (indicator !== opts.resourceIndicator!.indicator) throw new errors.InvalidTarget();
                          return { scope: opts.resourceIndicator!.scope, audience: indicator, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'opaque' };
                      }
                  }
                : { enabled: false },
            userinfo: { enabled: true }
        },
        clientBasedCORS: () => true,
        renderError: async (ctx: KoaContextLike, out: Record<string, unknown>) => {
            ctx.type = 'html';
            ctx.body = `<!DOCTYPE html><html><head><title>error</title></head><body>${Object.entries(out)
                .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</pre>`)
                .join('')}</body></html>`;
        }
    };

    // The dev-interactions feature prints an unconditional warning while the provider is built;
    // swallow exactly that line (and nothing else) for the duration of the constructor.
    let provider: ProviderLike;
    const originalWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        if (typeof args[0] === 'string' && args[0].includes('devInteractions')) return;
        originalWarn.apply(console, args);
    };
    try {
        provider = new Provider(issuer, configuration);
    } catch (err) {
        server.close();
        throw err;
    } finally {
        console.warn = originalWarn;
    }

    // --- counters & events ---------------------------------------------------------------------
    const counts: TestAuthCounts = {
        refresh: 0,
        authorizationCode: 0,
        revocation: 0,
        failedRefresh: 0,
        failedAuthorizationCode: 0,
        failedRevocation: 0,
        tokenRequests: 0,
        grantRevoked: 0,
        registrationRequests: 0,
        registered: 0
    };
    const events: TestAuthEvent[] = [];
    const errorDetails = new WeakMap<object, OidcErrorLike>();

    const rememberError = (ctx: unknown, err: unknown): void => {
        if (ctx && typeof ctx === 'object' && err && typeof err === 'object') {
            errorDetails.set(ctx, err as OidcErrorLike);
        }
    };
    provider.on('grant.error', rememberError);
    provider.on('revocation.error', rememberError);
    provider.on('server_error', (ctx: unknown, err: unknown) => {
        rememberError(ctx, err);
        const e = (err ?? {}) as OidcErrorLike;
        events.push({ kind: 'server_error', at: Date.now(), detail: e.message ?? String(err) });
    });
    provider.on('grant.revoked', (_ctx: unknown, grantId: unknown) => {
        counts.grantRevoked += 1;
        events.push({ kind: 'grant_revoked', at: Date.now(), detail: String(grantId) });
    });

    const tokenPath = new URL(`${issuer}/token`).pathname;
    provider.use(async (ctx, next) => {
        const isRegistration = ctx.method === 'POST' && ctx.path === '/reg';
        if (isRegistration) counts.registrationRequests += 1;
        await next();
        if (isRegistration && ctx.status === 201) counts.registered += 1;
    });
    const revocationPath = new URL(`${issuer}/token/revocation`).pathname;

    const clientAuthOf = (ctx: KoaContextLike, params: OidcParams | undefined): TestAuthEvent['clientAuth'] => {
        const authorization = ctx.headers.authorization;
        if (typeof authorization === 'string' && authorization.toLowerCase().startsWith('basic ')) {
            return 'client_secret_basic';
        }
        if (params && typeof params.client_secret === 'string' && params.client_secret !== '') {
            return 'client_secret_post';
        }
        return 'none';
    };

    const record = (ctx: KoaContextLike, thrown: unknown): void => {
        const isToken = ctx.path === tokenPath;
        if (!isToken && ctx.path !== revocationPath) return;

        let params: OidcParams | undefined;
        try {
            params = ctx.oidc?.params;
        } catch {
            params = undefined;
        }
        const status = thrown === undefined ? ctx.status : 500;
        const ok = status === 200;
        const bodyError = ctx.body && typeof ctx.body === 'object' ? (ctx.body as OidcErrorLike).error : undefined;
        const err = errorDetails.get(ctx) ?? (thrown && typeof thrown === 'object' ? (thrown as OidcErrorLike) : undefined);
        const errorCode = ok ? undefined : (bodyError ?? err?.error ?? 'server_error');
        const clientAuth = clientAuthOf(ctx, params);
        const detail = ok ? clientAuth : `${errorCode}: ${err?.error_detail ?? err?.error_description ?? err?.message ?? `HTTP ${status}`}`;

        const event: TestAuthEvent = { kind: 'token_other', at: Date.now(), status, clientAuth, detail };
        if (errorCode !== undefined) event.error = errorCode;

        if (isToken) {
            counts.tokenRequests += 1;
            const grantType = typeof params?.grant_type === 'string' ? params.grant_type : undefined;
            if (grantType !== undefined) event.grantType = grantType;
            if (grantType === 'refresh_token') {
                event.kind = ok ? 'refresh' : 'refresh_failed';
                if (ok) counts.refresh += 1;
                else counts.failedRefresh += 1;
            } else if (grantType === 'authorization_code') {
                event.kind = ok ? 'authorization_code' : 'authorization_code_failed';
                if (ok) counts.authorizationCode += 1;
                else counts.failedAuthorizationCode += 1;
            } else {
                event.kind = ok ? 'token_other' : 'token_other_failed';
            }
        } else {
            event.kind = ok ? 'revocation' : 'revocation_failed';
            if (ok) counts.revocation += 1;
            else counts.failedRevocation += 1;
        }
        events.push(event);
    };

    provider.use(async (ctx, next) => {
        if (ctx.method !== 'POST') {
            await next();
            return;
        }
        let thrown: unknown;
        try {
            await next();
        } catch (err) {
            thrown = err ?? new Error('unknown error');
            throw err;
        } finally {
            record(ctx, thrown);
        }
    });

    if (refreshTokenTtl !== undefined) {
        provider.use(async (ctx, next) => {
            await next();
            const body = ctx.body as Record<string, unknown> | undefined;
            if (ctx.path === tokenPath && ctx.status === 200 && body && typeof body === 'object' && typeof body.refresh_token === 'string') {
                ctx.body = { ...body, refresh_token_expires_in: refreshTokenTtl };
            }
        });
    }

    const shape = opts.shapeTokenResponse;
    if (shape) {
        provider.use(async (ctx, next) => {
            await next();
            const body = ctx.body as Record<string, unknown> | undefined;
            if (ctx.path === tokenPath && ctx.status === 200 && body && typeof body === 'object') ctx.body = shape(body, ctx.req);
        });
    }

    const handle = provider.callback();
    const before = opts.beforeRequest;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        if (!before) return handle(req, res);
        Promise.resolve(before(req)).then(
            () => handle(req, res),
            (err: unknown) => {
                res.statusCode = 500;
                res.end(String(err));
            }
        );
    });

    // --- token helpers -------------------------------------------------------------------------
    const grantAlive = async (token: StoredTokenLike): Promise<boolean> => {
        if (!token.grantId) return true;
        const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
        return !!grant && !grant.isExpired && grant.clientId === token.clientId && grant.accountId === token.accountId;
    };

    const isActive = async (model: TokenModel, value: string): Promise<boolean> => {
        const token = await model.find(value);
        if (!token?.isValid) return false;
        return grantAlive(token);
    };

    let closed: Promise<void> | undefined;

    const api: TestAuthServer = {
        issuer,
        tokenUrl: `${issuer}/token`,
        authorizationUrl: `${issuer}/auth`,
        revocationUrl: `${issuer}/token/revocation`,
        introspectionUrl: `${issuer}/token/introspection`,
        userinfoUrl: `${issuer}/me`,
        discoveryUrl: `${issuer}/.well-known/openid-configuration`,
        registrationUrl: `${issuer}/reg`,
        get registeredClients() {
            return [...registeredClients.values()];
        },
        redirectUris,
        clientId,
        get clientSecret(): string {
            return clientSecret;
        },
        counts,
        events,

        async mintGrant(mintOpts: MintGrantOptions = {}): Promise<MintedGrant> {
            const accountId = mintOpts.accountId ?? 'user-1';
            const scope = mintOpts.scope ?? DEFAULT_SCOPE;
            const ttl = mintOpts.accessTokenTtl ?? accessTokenTtl;
            if (!isPositiveInteger(ttl)) {
                throw new TypeError('accessTokenTtl must be a positive integer (seconds)');
            }
            const client = await provider.Client.find(clientId);
            if (!client) throw new Error('test client not found');

            const grant = new provider.Grant({ accountId, clientId });
            grant.addOIDCScope(scope);
            const grantId = await grant.save();

            const authTime = Math.floor(Date.now() / 1000);
            const at = new provider.AccessToken({
                accountId,
                client,
                grantId,
                scope,
                gty: 'authorization_code',
                authTime,
                expiresIn: ttl
            });
            const accessToken = await at.save();
            const rt = new provider.RefreshToken({
                accountId,
                client,
                grantId,
                scope,
                gty: 'authorization_code',
                authTime
            });
            const refreshToken = await rt.save();
            return { accessToken, refreshToken, expiresIn: at.expiration, grantId, scope };
        },

        isRefreshTokenActive(rt: string): Promise<boolean> {
            return isActive(provider.RefreshToken, rt);
        },

        isAccessTokenActive(at: string): Promise<boolean> {
            return isActive(provider.AccessToken, at);
        },

        async revokeGrant(grantId: string): Promise<void> {
            await Promise.all([provider.AccessToken.adapter.revokeByGrantId(grantId), provider.RefreshToken.adapter.revokeByGrantId(grantId)]);
            const grant = await provider.Grant.find(grantId, { ignoreExpiration: true });
            await grant?.destroy();
        },

        setClientSecret(secret: string): void {
            if (typeof secret !== 'string' || secret === '') {
                throw new TypeError('client secret must be a non-empty string');
            }
            clientSecret = secret;
        },

        close(): Promise<void> {
            closed ??= new Promise<void>((resolve, reject) => {
                server.close((err) => (err ? reject(err) : resolve()));
                server.closeAllConnections();
            });
            return closed;
        }
    };
    return api;
}
