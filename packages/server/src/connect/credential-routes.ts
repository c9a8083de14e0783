import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../http/errors.ts';
import type { Services } from '../services.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { requestToken, TokenError, expiryOf } from '../oauth/token-request.ts';
import { resolveTokenUrl, clientAuthFor } from '../oauth/provider-endpoints.ts';
import { flowQuery, providerConfigKeyParams, resolveFlow, type FlowContext } from './flow-context.ts';
import { verifyCredentials } from './verify.ts';
import { saveConnection } from './save.ts';

const bearerOf = (header: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];

function requireMode(ctx: FlowContext, mode: string): void {
    if (ctx.provider.auth_mode !== mode) {
        throw fail('invalid_auth_mode', { message: `Integration "${ctx.integration.uniqueKey}" uses ${ctx.provider.auth_mode}, not ${mode}` });
    }
}

async function finish(s: Services, ctx: FlowContext, credentials: StoredCredentials) {
    await saveConnection(s, ctx, credentials);
    return { connectionId: ctx.connectionId, providerConfigKey: ctx.integration.uniqueKey };
}

/** OAuth2 client credentials: the first token is fetched now, which also proves the credentials work. */
async function clientCredentials(s: Services, ctx: FlowContext, body: { client_id: string; client_secret: string }): Promise<StoredCredentials> {
    const def = ctx.provider;
    try {
        const tokens = await requestToken(
            s.egress,
            resolveTokenUrl(def, 'OAUTH2_CC', ctx.connectionConfig, 'code'),
            { grant_type: 'client_credentials', ...(def.token_params ?? {}) },
            { clientId: body.client_id, clientSecret: body.client_secret, method: clientAuthFor(def) },
            def.body_format === 'json' ? 'json' : 'form'
        );
        return { type: 'OAUTH2_CC', token: tokens.access_token, expires_at: expiryOf(tokens, new Date()), client_id: body.client_id, client_secret: body.client_secret, raw: tokens };
    } catch (err) {
        if (err instanceof TokenError) throw fail('connection_test_failed', { message: `The provider refused these client credentials: ${err.error}${err.description ? ` (${err.description})` : ''}` });
        throw err;
    }
}

/** Non-popup browser auth (nango-api.md §2.5): the frontend SDK POSTs the credentials the end user typed. */
export const credentialRoutes = [
    defineRoute({
        method: 'POST',
        url: '/api-auth/api-key/:providerConfigKey',
        auth: 'public',
        params: providerConfigKeyParams,
        query: flowQuery,
        body: z.object({ apiKey: z.string().min(1).max(8192) }).strict(),
        handler: async ({ params, query, body, req }, s) => {
            const ctx = await resolveFlow(s, params.providerConfigKey, query, bearerOf(req.headers.authorization));
            requireMode(ctx, 'API_KEY');
            const credentials: StoredCredentials = { type: 'API_KEY', apiKey: body.apiKey };
            await verifyCredentials(s, ctx.provider, ctx.integration, credentials, ctx.connectionConfig);
            return finish(s, ctx, credentials);
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/api-auth/basic/:providerConfigKey',
        auth: 'public',
        params: providerConfigKeyParams,
        query: flowQuery,
        body: z.object({ username: z.string().max(1024).default(''), password: z.string().max(8192).default('') }).strict().refine((b) => b.username || b.password, { message: 'username or password is required', path: ['username'] }),
        handler: async ({ params, query, body, req }, s) => {
            const ctx = await resolveFlow(s, params.providerConfigKey, query, bearerOf(req.headers.authorization));
            requireMode(ctx, 'BASIC');
            const credentials: StoredCredentials = { type: 'BASIC', username: body.username, password: body.password };
            await verifyCredentials(s, ctx.provider, ctx.integration, credentials, ctx.connectionConfig);
            return finish(s, ctx, credentials);
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/oauth2/auth/:providerConfigKey',
        auth: 'public',
        params: providerConfigKeyParams,
        query: flowQuery,
        body: z
            .object({ client_id: z.string().min(1).max(2048), client_secret: z.string().min(1).max(8192), client_certificate: z.string().optional(), client_private_key: z.string().optional() })
            .strict(),
        handler: async ({ params, query, body, req }, s) => {
            const ctx = await resolveFlow(s, params.providerConfigKey, query, bearerOf(req.headers.authorization));
            requireMode(ctx, 'OAUTH2_CC');
            if (body.client_certificate || body.client_private_key) throw fail('invalid_body', { message: 'Client certificates and private keys are not supported yet; use client_secret' });
            return finish(s, ctx, await clientCredentials(s, ctx, body));
        }
    })
];
