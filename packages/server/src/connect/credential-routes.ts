import { z } from 'zod';
import { bearerToken, defineRoute } from '../http/route.ts';
import { ApiError, fail } from '../errors.ts';
import type { Services } from '../services.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { TokenError, expiryOf } from '../oauth/token-request.ts';
import { tokenFailure, tokenGrant } from '../oauth/token-client.ts';
import { flowQuery, providerConfigKeyParams, resolveFlow, type FlowContext } from './flow-context.ts';
import { verifyCredentials } from './verify.ts';
import { twoStepToken } from '../auth-modes/two-step.ts';
import { mintJwt } from '../auth-modes/jwt.ts';
import { mintSignature } from '../auth-modes/signature.ts';
import { billLogin } from '../auth-modes/bill.ts';
import { assumeRole, ROLE_ARN, roleSessionName, stsConfigOf } from '../auth-modes/aws-sts.ts';
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

/** The end user's inputs for TWO_STEP and JWT: the provider's credential fields, as strings (Nango's SDK may add an assertionOption object). */
const inputsBody = z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.union([z.string().max(16_384), z.record(z.string(), z.unknown())]))
    .refine((b) => Object.keys(b).length <= 32, 'too many fields')
    .transform((b) => Object.fromEntries(Object.entries(b).filter((e): e is [string, string] => typeof e[1] === 'string')));

/** Every credential field the provider declares and does not mark optional must be there. */
function requireDeclared(ctx: FlowContext, inputs: Record<string, string>): void {
    const missing = Object.entries(ctx.provider.credentials ?? {})
        .filter(([name, f]) => !f.optional && !inputs[name])
        .map(([name]) => name);
    if (missing.length > 0) {
        throw fail('invalid_body', {
            message: `Missing credential field(s): ${missing.join(', ')}`,
            errors: missing.map((name) => ({ code: 'invalid_type', message: 'Required', path: [name] }))
        });
    }
}

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
    ),
    // TWO_STEP: the provider's token endpoint is asked with the inputs now, which also checks them.
    credentialRoute('/auth/two-step/:providerConfigKey', 'TWO_STEP', inputsBody, async (s, ctx, inputs) => {
        requireDeclared(ctx, inputs);
        try {
            return await twoStepToken(s.egress, ctx.provider, ctx.connectionConfig, inputs);
        } catch (err) {
            if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
            throw err;
        }
    }),
    // JWT: a token is signed now; a key that cannot sign is refused before anything is stored.
    credentialRoute('/auth/jwt/:providerConfigKey', 'JWT', inputsBody, async (_s, ctx, inputs) => {
        requireDeclared(ctx, inputs);
        return mintJwt(ctx.provider, ctx.connectionConfig, inputs);
    }),
    // AWS_SIGV4 with an access key; then the catalogue's verification call, signed, checks it.
    credentialRoute(
        '/auth/aws-sigv4/:providerConfigKey',
        'AWS_SIGV4',
        z
            .object({
                access_key_id: z.string().min(16).max(128).optional(),
                secret_access_key: z.string().min(1).max(256).optional(),
                session_token: z.string().min(1).max(4096).optional(),
                region: z
                    .string()
                    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1')
                    .optional(),
                service: z
                    .string()
                    .regex(/^[a-z0-9-]+$/)
                    .optional(),
                role_arn: z.string().optional(),
                external_id: z.string().optional()
            })
            .strict(),
        async (s, ctx, body) => {
            // Nango's SDK sends a role as {role_arn, region}: the service (and a default region) are the integration's.
            const custom = s.integrations.customOf(ctx.integration) ?? {};
            const service = body.service ?? (typeof ctx.connectionConfig['service'] === 'string' ? ctx.connectionConfig['service'] : custom['aws_service']);
            if (!service || !/^[a-z0-9-]+$/.test(service))
                throw fail('invalid_body', {
                    message: 'service is required (the AWS service the requests are signed for), or custom.aws_service on the integration'
                });
            const region = body.region ?? custom['aws_region'];
            if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
                throw fail('invalid_body', { message: 'region is required (an AWS region such as eu-west-1), or custom.aws_region on the integration' });
            // role_arn: the integration's own AWS key assumes the end user's role; the temporary key is checked
            // with the verification call, then renewed before it expires. The external id is the integration's
            // (custom.aws_external_id), never the browser's: one the end user could choose would not stop a
            // confused deputy (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
            if (body.role_arn && !body.access_key_id) {
                if (!ROLE_ARN.test(body.role_arn))
                    throw fail('invalid_body', { message: 'role_arn is not an IAM role ARN (arn:aws:iam::123456789012:role/Name)' });
                if (body.external_id !== undefined)
                    throw fail('invalid_body', { message: 'external_id is set by the integration (custom.aws_external_id), not sent with the connection' });
                let assumed: StoredCredentials;
                try {
                    assumed = await assumeRole(s.egress, stsConfigOf(s.integrations, ctx.integration), {
                        role_arn: body.role_arn,
                        region,
                        service,
                        session_name: roleSessionName(ctx.connectionId)
                    });
                } catch (err) {
                    if (err instanceof TokenError) throw tokenFailure(err, { connect: 'to let this role be assumed' });
                    throw err;
                }
                return verified(assumed)(s, ctx);
            }
            if (!body.access_key_id || !body.secret_access_key)
                throw fail('invalid_body', { message: 'access_key_id and secret_access_key, or role_arn, are required' });
            const credentials: StoredCredentials = {
                type: 'AWS_SIGV4',
                access_key_id: body.access_key_id,
                secret_access_key: body.secret_access_key,
                session_token: body.session_token,
                region,
                service
            };
            return verified(credentials)(s, ctx);
        }
    ),
    // TBA (NetSuite): the end user's token id and secret, signed with the integration's consumer key (or the
    // override sent here); the catalogue's verification call, signed, checks them before anything is stored.
    credentialRoute(
        '/auth/tba/:providerConfigKey',
        'TBA',
        z
            .object({
                token_id: z.string().min(1).max(512),
                token_secret: z.string().min(1).max(512),
                oauth_client_id_override: z.string().min(1).max(512).optional(),
                oauth_client_secret_override: z.string().min(1).max(512).optional()
            })
            .strict(),
        async (s, ctx, body) => {
            const accountId = ctx.connectionConfig['accountId'];
            if (typeof accountId !== 'string' || !accountId)
                throw fail('missing_connection_config', { message: 'connection_config.accountId (the NetSuite account id) is required for TBA' });
            const override =
                body.oauth_client_id_override || body.oauth_client_secret_override
                    ? { client_id: body.oauth_client_id_override, client_secret: body.oauth_client_secret_override }
                    : undefined;
            return verified({ type: 'TBA', token_id: body.token_id, token_secret: body.token_secret, config_override: override })(s, ctx);
        }
    ),
    // SIGNATURE (WSSE): a token is made now; the verification call, with its own token, checks the secret.
    credentialRoute(
        '/auth/signature/:providerConfigKey',
        'SIGNATURE',
        z.object({ type: z.literal('SIGNATURE').optional(), username: z.string().min(1).max(1024), password: z.string().min(1).max(8192) }).strict(),
        (s, ctx, body) => verified(mintSignature(ctx.provider, body.username, body.password))(s, ctx)
    ),
    // BILL: the login is made now, which also checks the four values.
    credentialRoute(
        '/auth/bill/:providerConfigKey',
        'BILL',
        z
            .object({
                username: z.string().min(1).max(1024),
                password: z.string().min(1).max(8192),
                organization_id: z.string().min(1).max(256),
                dev_key: z.string().min(1).max(1024)
            })
            .strict(),
        async (s, ctx, body) => {
            try {
                return await billLogin(s.egress, ctx.provider, ctx.connectionConfig, body);
            } catch (err) {
                if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
                throw err;
            }
        }
    )
];
