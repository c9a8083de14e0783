import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { defineRoute, issuesOf } from '../http/route.ts';
import { ApiError, fail } from '../errors.ts';
import { TokenError } from '../oauth/token-request.ts';
import { assertConnectionConfig } from '../oauth/provider-endpoints.ts';
import type { Services } from '../services.ts';
import { defaultsFor, flowQuery, providerConfigKeyParams, resolveFlow, type FlowContext } from './flow-context.ts';
import { authorizationRequest, authorizationUrl, exchangeCode, issuerMatches, pkcePair } from './oauth2-flow.ts';
import { finishOAuth1, startOAuth1 } from './oauth1-flow.ts';
import { bindingCookieName, newKeys, randomToken, sha256, TRANSACTION_TTL_MS, type OAuthTransaction } from './transactions.ts';
import { callbackUrlOf, defaultCallbackPath } from './callback-url.ts';
import { sendCallbackPage } from './callback-page.ts';
import { reportFailure, saveConnection } from './save.ts';
import { FlowError } from './flow-error.ts';
import { appCallbackPath, appInstallUrl, finishAppInstall } from './app-flow.ts';
import { assertPublicKeyAuthEnabled, publicKeySession } from './public-key.ts';
import { mcpProvider, withMcpClient } from '../auth-modes/mcp-oauth2.ts';

export { FlowError };

// Nango's WebSocket error types for the API error codes a flow can hit (docs/compatibility.md, "Browser flows"); others pass through.
const wsTypes: Partial<Record<string, string>> = {
    unknown_provider_config: 'unknown_config_key',
    unknown_provider: 'provider_config_err',
    missing_client_credentials: 'provider_config_err',
    missing_connection_config: 'url_param_err',
    invalid_auth_mode: 'auth_mode_err'
};

function toFlowError(err: unknown, s: Services): FlowError {
    if (err instanceof FlowError) return err;
    if (err instanceof ApiError) return new FlowError(wsTypes[err.code] ?? err.code, err.message);
    if (err instanceof TokenError)
        return new FlowError('token_err', `The provider refused the authorization: ${err.error}${err.description ? ` (${err.description})` : ''}`);
    s.log.error({ err }, 'browser auth flow failed');
    return new FlowError('unknown_err', 'Something went wrong while connecting; please try again');
}

const callbackPath = defaultCallbackPath;
/** Query parameter of the bounce through a callback on another host (see startFlow). */
const startParam = 'switchboard_start';
const connectUiOrigin = (s: Services) => new URL(s.config.serverUrl).origin;

// GitHub App installs come back on their own path (the app's Setup URL); the binding cookie goes only there.
const callbackPathFor = (mode: OAuthTransaction['authMode']) => (mode === 'APP' ? appCallbackPath : callbackPath);

/** The binding cookie, scoped to the host and path of the callback the provider redirects to (`redirectUri`). */
function bindingCookie(stateHash: string, value: string, maxAgeSeconds: number, redirectUri: string): string {
    const callback = new URL(redirectUri);
    // Lax: sent on the provider's top-level redirect back to the callback, never on cross-site subrequests.
    return serializeCookie(bindingCookieName(stateHash), value, {
        httpOnly: true,
        sameSite: 'lax',
        secure: callback.protocol === 'https:',
        path: callback.pathname,
        maxAge: maxAgeSeconds
    });
}

async function failFlow(
    s: Services,
    reply: FastifyReply,
    err: unknown,
    wsClientId: string | null | undefined,
    providerConfigKey?: string,
    connectionId?: string
) {
    const e = toFlowError(err, s);
    await s.ws.send(wsClientId, {
        message_type: 'error',
        provider_config_key: providerConfigKey,
        connection_id: connectionId,
        error_type: e.type,
        error_desc: e.message
    });
    return sendCallbackPage(reply, { error: { type: e.type, message: e.message } }, connectUiOrigin(s));
}

/** Starts a popup flow: stores a transaction and redirects to the provider (docs/compatibility.md, "Browser flows"). */
async function startFlow(s: Services, providerConfigKey: string, rawQuery: unknown, reply: FastifyReply) {
    const parsed = flowQuery.safeParse(rawQuery ?? {});
    if (!parsed.success) throw fail('invalid_query_params', { errors: issuesOf(parsed.error) });
    const query = parsed.data;
    let ctx = await resolveFlow(s, providerConfigKey, query);
    const authMode = ctx.provider.auth_mode;
    // GitHub App installs return to the app's Setup URL, which is always ours.
    const redirectUri = authMode === 'APP' ? `${s.config.serverUrl}${appCallbackPath}` : await callbackUrlOf(s, ctx.env.id);
    // An MCP server's integration registers its OAuth client on first use, for this callback URL.
    if (authMode === 'MCP_OAUTH2') ctx = await withMcpClient(s, ctx, redirectUri);
    // A callback on another host (a callback proxy on the app's domain) never sees a cookie set here: the browser
    // first bounces through that callback, whose answer sets the binding cookie on the callback's own host
    // (docs/security.md, item 1). Only that answer reveals the state.
    const bounce = redirectUri !== `${s.config.serverUrl}${authMode === 'APP' ? appCallbackPath : callbackPath}`;
    const keys = { ...newKeys(), startToken: bounce ? randomToken() : undefined };
    const base = {
        environmentId: ctx.env.id,
        integrationId: ctx.integration.id,
        connectSessionId: ctx.via === 'connect_session' ? ctx.session.id : null,
        connectionId: ctx.connectionId,
        connectionConfig: ctx.connectionConfig,
        wsClientId: query.ws_client_id ?? null,
        redirectUri
    };
    let location: string;
    if (authMode === 'OAUTH2' || authMode === 'MCP_OAUTH2') {
        const request = authorizationRequest(s, ctx, query, redirectUri);
        const pkce = request.usesPkce ? pkcePair() : undefined;
        location = authorizationUrl(request, keys.state, pkce?.challenge);
        await s.oauthTransactions.create(
            {
                ...base,
                authMode: 'OAUTH2',
                expectedIssuer: request.expectedIssuer,
                secrets: { codeVerifier: pkce?.verifier, authorizationUrl: bounce ? location : undefined }
            },
            keys
        );
    } else if (ctx.provider.auth_mode === 'OAUTH1') {
        const callback = new URL(redirectUri);
        callback.searchParams.set('state', keys.state);
        const started = await startOAuth1(s, ctx, callback.toString());
        await s.oauthTransactions.create(
            {
                ...base,
                authMode: 'OAUTH1',
                expectedIssuer: null,
                secrets: {
                    requestToken: started.requestToken,
                    requestTokenSecret: started.requestTokenSecret,
                    authorizationUrl: bounce ? started.redirect : undefined
                }
            },
            keys
        );
        location = started.redirect;
    } else if (ctx.provider.auth_mode === 'APP') {
        location = appInstallUrl(s, ctx, keys.state);
        await s.oauthTransactions.create({ ...base, authMode: 'APP', expectedIssuer: null, secrets: {} }, keys);
    } else {
        throw fail('invalid_auth_mode', {
            message: `Integration "${providerConfigKey}" uses ${ctx.provider.auth_mode}: send its credentials with nango.auth(key, { credentials }) instead of a popup`
        });
    }
    if (keys.startToken) {
        const start = new URL(redirectUri);
        start.searchParams.set(startParam, keys.startToken);
        return reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').redirect(start.toString(), 302);
    }
    return reply
        .header('set-cookie', bindingCookie(sha256(keys.state), keys.browserBinding, TRANSACTION_TTL_MS / 1000, redirectUri))
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .redirect(location, 302);
}

/**
 * The bounce through a callback on another host: binds the browser that brought the single-use start token by a
 * cookie set on this answer, which the callback proxy relays from the callback's host, then sends it on to the
 * provider. A used, unknown or expired start token ends the flow.
 */
async function bindBrowser(s: Services, startToken: string, reply: FastifyReply) {
    const bound = await s.oauthTransactions.bindStart(startToken);
    if (!bound) return failFlow(s, reply, new FlowError('state_err', 'This authorization link was already used or expired; start again from the app'), null);
    return reply
        .header('set-cookie', bindingCookie(bound.stateHash, bound.browserBinding, TRANSACTION_TTL_MS / 1000, bound.redirectUri))
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .redirect(bound.authorizationUrl, 302);
}

/**
 * Rebuilds the flow context a transaction was started with. A public-key transaction (no connect session) completes
 * only while its environment still allows public keys.
 */
async function contextOf(s: Services, tx: OAuthTransaction): Promise<FlowContext> {
    const [env, session, integration] = await Promise.all([
        s.environments.byId(tx.environmentId),
        tx.connectSessionId === null ? undefined : s.connectSessions.byId(tx.connectSessionId),
        s.integrations.getById(tx.integrationId)
    ]);
    const viaPublicKey = tx.connectSessionId === null;
    if (!env || (!viaPublicKey && !session) || !integration)
        throw new FlowError('state_err', 'The connect session or integration of this authorization no longer exists');
    if (viaPublicKey) await assertPublicKeyAuthEnabled(s, env.id);
    const catalogued = s.catalogue.get(integration.provider);
    if (!catalogued) throw fail('unknown_provider');
    // MCP_OAUTH2: the code is redeemed at the endpoints the integration's client was registered at.
    const provider = mcpProvider(catalogued, s.integrations.credentials(integration));
    const flowSession = session ?? publicKeySession(env);
    const existing = viaPublicKey ? await s.connections.get(env.id, integration.uniqueKey, tx.connectionId) : undefined;
    return {
        env,
        session: flowSession,
        integration,
        provider,
        connectionId: tx.connectionId,
        isReconnect: viaPublicKey ? !!existing : !!flowSession.reconnectConnectionUuid,
        connectionConfig: tx.connectionConfig,
        defaults: viaPublicKey ? {} : defaultsFor(flowSession, integration.uniqueKey),
        via: viaPublicKey ? 'public_key' : 'connect_session'
    };
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const providerErrorKeys = ['error', 'error_description', 'error_reason', 'error_uri', 'error_message'];

/**
 * Finishes a flow: single-use state bound to this browser, then one code exchange or installation token
 * (docs/compatibility.md, "Browser flows"). `path` is the callback the browser came back on; a transaction only completes on its own.
 */
async function finishFlow(s: Services, q: Record<string, unknown>, cookieHeader: string | undefined, reply: FastifyReply, path: string) {
    const state = str(q['state']);
    const startToken = str(q[startParam]);
    if (!state && startToken && path === callbackPath) return bindBrowser(s, startToken, reply);
    if (!state) return failFlow(s, reply, new FlowError('state_err', 'The provider redirected back without a state parameter'), null);
    const stateHash = sha256(state);
    const result = await s.oauthTransactions.consume(state, parseCookies(cookieHeader ?? '')[bindingCookieName(stateHash)]);
    reply.header('set-cookie', bindingCookie(stateHash, '', 0, result.transaction?.redirectUri ?? `${s.config.serverUrl}${path}`));
    if (!result.transaction)
        return failFlow(s, reply, new FlowError('state_err', 'This authorization is unknown or was already used; start again from the app'), null);
    const tx = result.transaction;
    let ctx: FlowContext | undefined;
    try {
        if (callbackPathFor(tx.authMode) !== path)
            throw new FlowError('state_err', 'This authorization was returned to the wrong callback; start again from the app');
        if (!result.ok && result.reason === 'expired')
            throw new FlowError('state_err', 'This authorization took too long and expired; start again from the app');
        if (!result.ok) throw new FlowError('state_cookie_err', 'This authorization was started in another browser; start again from the app');
        ctx = await contextOf(s, tx);
        const providerError = providerErrorKeys.map((k) => str(q[k])).filter(Boolean);
        if (providerError.length) throw new FlowError('callback_err', `The provider did not authorize the connection: ${providerError.join(' - ')}`);
        if (!issuerMatches(str(q['iss']), tx.expectedIssuer))
            throw new FlowError('issuer_mismatch', 'The authorization response came from another server than the one it was sent to');
        let saved;
        if (tx.authMode === 'OAUTH2') {
            // authorization_code_param_in_callback: providers that return the code under another name.
            const code = str(q[ctx.provider.authorization_code_param_in_callback ?? 'code']);
            if (!code) throw new FlowError('callback_err', 'The provider redirected back without an authorization code');
            // Values the redirect carries into connection config pass the declared fields' patterns before the code is redeemed.
            const fromRedirect = Object.fromEntries((ctx.provider.redirect_uri_metadata ?? []).filter((k) => str(q[k])).map((k) => [k, q[k]]));
            assertConnectionConfig(ctx.provider, fromRedirect, 'app');
            const { credentials, metadata } = await exchangeCode(s, ctx, code, tx.redirectUri, tx.secrets.codeVerifier);
            saved = await saveConnection(s, ctx, credentials, { ...metadata, ...fromRedirect });
        } else if (tx.authMode === 'APP') {
            saved = await finishAppInstall(s, ctx, q);
        } else {
            const token = str(q['oauth_token']);
            const verifier = str(q['oauth_verifier']);
            if (!token || !verifier || token !== tx.secrets.requestToken)
                throw new FlowError('callback_err', 'The provider redirected back without a matching oauth_token and oauth_verifier');
            saved = await saveConnection(s, ctx, await finishOAuth1(s, ctx, token, tx.secrets.requestTokenSecret!, verifier));
        }
        await s.ws.send(tx.wsClientId, {
            message_type: 'success',
            provider_config_key: ctx.integration.uniqueKey,
            connection_id: saved.connection.connectionId,
            is_pending: false
        });
        return sendCallbackPage(reply, {}, connectUiOrigin(s));
    } catch (err) {
        if (ctx) {
            const e = toFlowError(err, s);
            await reportFailure(s, ctx, { type: e.type, description: e.message });
        }
        return failFlow(s, reply, err, tx.wsClientId, ctx?.integration.uniqueKey, tx.connectionId);
    }
}

export const oauthRoutes = [
    defineRoute({
        method: 'GET',
        url: '/oauth/connect/:providerConfigKey',
        auth: 'public',
        params: providerConfigKeyParams,
        // Parsed by the flow itself, which answers a bad query with a page rather than JSON.
        documentedQuery: flowQuery,
        handler: async ({ params, req, reply }, s) => {
            const raw = (req.query ?? {}) as Record<string, unknown>;
            const wsClientId = z.uuid().safeParse(raw['ws_client_id']).data;
            try {
                return await startFlow(s, params.providerConfigKey, raw, reply);
            } catch (err) {
                return failFlow(s, reply, err, wsClientId, params.providerConfigKey);
            }
        }
    }),
    defineRoute({
        method: 'GET',
        url: callbackPath,
        auth: 'public',
        handler: async ({ req, reply }, s) => finishFlow(s, (req.query ?? {}) as Record<string, unknown>, req.headers.cookie, reply, callbackPath)
    }),
    defineRoute({
        method: 'GET',
        url: appCallbackPath,
        auth: 'public',
        handler: async ({ req, reply }, s) => finishFlow(s, (req.query ?? {}) as Record<string, unknown>, req.headers.cookie, reply, appCallbackPath)
    })
];
