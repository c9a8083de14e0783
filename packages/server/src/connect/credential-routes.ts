import { z } from 'zod';
import { bearerToken, defineRoute } from '../http/route.ts';
import { ApiError, fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { TokenError, expiryOf } from '../oauth/token-request.ts';
import { tokenFailure, tokenGrant } from '../oauth/token-client.ts';
import { flowQuery, providerConfigKeyParams, resolveFlow, type FlowContext } from './flow-context.ts';
import { verifyCredentials } from './verify.ts';
import { runCredentialCheck } from '../providers/hooks/index.ts';
import { reportFailure, saveConnection } from './save.ts';

function requireMode(ctx: FlowContext, mode: string): void {
    if (ctx.provider.auth_mode !== mode) {
        throw fail('invalid_auth_mode', { message: `Integration "${ctx.integration.uniqueKey}" uses ${ctx.provider.auth_mode}, not ${mode}` });
    }
}

/** Checks and stores the credentials; a provider or validation refusal also reaches the app as an `auth` failure webhook. */
async function finish(s: Services, ctx: FlowContext, credentials: () => Promise<StoredCredentials>) {
    try {
        await saveConnection(s, ctx, await credentials());
    } catch (err) {
        if (err instanceof ApiError && (err.code === 'connection_test_failed' || err.code === 'connection_validation_failed'))
            await reportFailure(s, ctx, { type: err.code, description: err.message });
        throw err;
    }
    return { connectionId: ctx.connectionId, providerConfigKey: ctx.integration.uniqueKey };
}

/** OAuth2 client credentials: the first token is fetched now, which also proves the credentials work. */
async function clientCredentials(s: Services, ctx: FlowContext, body: { client_id: string; client_secret: string }): Promise<StoredCredentials> {
    const def = ctx.provider;
    try {
        const tokens = await tokenGrant(
            s.egress,
            def,
            ctx.connectionConfig,
            { type: 'client_credentials' },
            { clientId: body.client_id, clientSecret: body.client_secret }
        );
        return {
            type: 'OAUTH2_CC',
            token: tokens.access_token,
            expires_at: expiryOf(tokens, new Date(), def.expires_in_unit),
            client_id: body.client_id,
            client_secret: body.client_secret,
            raw: tokens
        };
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these client credentials' });
        throw err;
    }
}

/**
 * One non-popup route: resolve the session and integration, require the provider's auth mode, obtain checked
 * credentials from the body, store them.
 */
export function credentialRoute<B extends z.ZodType>(
    url: string,
    mode: string,
    body: B,
    obtain: (s: Services, ctx: FlowContext, body: z.output<B>) => Promise<StoredCredentials>
) {
    return defineRoute({
        method: 'POST',
        url,
        auth: 'public',
        params: providerConfigKeyParams,
        query: flowQuery,
        body,
        handler: async ({ params, query, body: input, req }, s) => {
            const ctx = await resolveFlow(s, params.providerConfigKey, query, bearerToken(req.headers.authorization));
            requireMode(ctx, mode);
            return finish(s, ctx, () => obtain(s, ctx, input as z.output<B>));
        }
    });
}

/** API-key and basic credentials are what the end user typed, checked by the catalogue's verification call. */
const verified = (credentials: StoredCredentials) => async (s: Services, ctx: FlowContext) => {
    await verifyCredentials(s, ctx.provider, ctx.integration, credentials, ctx.connectionConfig);
    await runCredentialCheck(s, ctx.provider, ctx.integration, credentials, ctx.connectionConfig);
    return credentials;
};

/** Non-popup browser auth (docs/compatibility.md, "Browser flows"): the frontend SDK POSTs the credentials the end user typed. */
export const credentialRoutes = [
    credentialRoute('/api-auth/api-key/:providerConfigKey', 'API_KEY', z.object({ apiKey: z.string().min(1).max(8192) }).strict(), (s, ctx, body) =>
        verified({ type: 'API_KEY', apiKey: body.apiKey })(s, ctx)
    ),
    credentialRoute(
        '/api-auth/basic/:providerConfigKey',
        'BASIC',
        z
            .object({ username: z.string().max(1024).default(''), password: z.string().max(8192).default('') })
            .strict()
            .refine((b) => b.username || b.password, { message: 'username or password is required', path: ['username'] }),
        (s, ctx, body) => verified({ type: 'BASIC', username: body.username, password: body.password })(s, ctx)
    ),
    credentialRoute(
        '/oauth2/auth/:providerConfigKey',
        'OAUTH2_CC',
        z
            .object({
                client_id: z.string().min(1).max(2048),
                client_secret: z.string().min(1).max(8192),
                client_certificate: z.string().optional(),
                client_private_key: z.string().optional()
            })
            .strict(),
        async (s, ctx, body) => {
            if (body.client_certificate || body.client_private_key)
                throw fail('invalid_body', { message: 'Client certificates and private keys are not supported yet; use client_secret' });
            return clientCredentials(s, ctx, body);
        }
    )
];
