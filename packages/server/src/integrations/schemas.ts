import { z } from 'zod';
import { parseRsaPrivateKey } from '../app-auth/jwt.ts';

export const uniqueKeySchema = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9~:.@ _-]+$/, 'only letters, digits and ~:.@ _- are allowed');
export const providerNameSchema = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9_-]+$/, 'only letters, digits, _ and - are allowed');
const scopes = z.string().regex(/^$|^[0-9a-zA-Z:/_.*-]+(,[0-9a-zA-Z:/_.*-]+)*$/, 'a comma-separated list of scopes');

const oauthCredentials = z
    .object({
        type: z.enum(['OAUTH1', 'OAUTH2', 'TBA']),
        client_id: z.string().min(1).max(2048),
        client_secret: z.string().min(1).max(4096),
        scopes: scopes.optional(),
        webhook_secret: z.string().max(4096).optional()
    })
    .strict();
// GitHub App keys are PKCS#1 PEM; one that does not parse would only fail later, at the first install.
const privateKey = z
    .string()
    .startsWith('-----BEGIN RSA PRIVATE KEY----')
    .superRefine((pem, ctx) => {
        const parsed = parseRsaPrivateKey(pem);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `private_key is not usable: ${parsed.reason}` });
    });
const appCredentials = z
    .object({
        type: z.literal('APP'),
        app_id: z.string().min(1),
        app_link: z.string().min(1),
        private_key: privateKey,
        webhook_secret: z.string().max(4096).optional()
    })
    .strict();
const customCredentials = z
    .object({
        type: z.literal('CUSTOM'),
        client_id: z.string().min(1),
        client_secret: z.string().min(1),
        app_id: z.string().min(1),
        app_link: z.string().min(1),
        private_key: privateKey,
        webhook_secret: z.string().max(4096).optional()
    })
    .strict();

export const integrationCredentialsSchema = z.discriminatedUnion('type', [oauthCredentials, appCredentials, customCredentials]);
export type IntegrationCredentials = z.infer<typeof integrationCredentialsSchema>;

/**
 * The OAuth client an MCP_OAUTH2 integration registered for itself (RFC 7591) and the endpoints it was registered
 * at. The server writes it (auth-modes/mcp-oauth2.ts); the API never accepts it. An empty client_secret is a public
 * client (token_endpoint_auth_method `none`).
 */
export interface McpRegisteredClient {
    type: 'MCP_OAUTH2';
    client_id: string;
    client_secret: string;
    token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
    /** Unix seconds; 0 or absent: the secret does not expire (RFC 7591 §3.2.1). */
    client_secret_expires_at?: number | undefined;
    /** The callback URL registered; a different callback registers again. */
    redirect_uri: string;
    /** The authorization server's issuer identifier ('' when the catalogue entry named the endpoints itself). */
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    revocation_endpoint?: string | undefined;
    /** RFC 8707 resource indicator: the MCP server's canonical URL from its RFC 9728 metadata, sent with every grant. */
    resource?: string | undefined;
    /** Discovered scopes, comma-separated like an integration's `scopes`. */
    scopes?: string | undefined;
}

/** What an integration's credentials column holds: what the API accepts, or a client the server registered. */
export type StoredIntegrationCredentials = IntegrationCredentials | McpRegisteredClient;

const stringMap = (max: number) => z.record(z.string(), z.string().max(max));

export const createIntegrationBody = z
    .object({
        provider: providerNameSchema,
        unique_key: uniqueKeySchema,
        display_name: z.string().min(1).max(255).optional(),
        forward_webhooks: z.boolean().optional(),
        integration_config: stringMap(8192).optional(),
        custom: stringMap(8192).optional(),
        credentials: integrationCredentialsSchema.optional()
    })
    .strict();

/** POST /admin/integrations/:uniqueKey/replace: a whole new integration under the key in the path. */
export const replaceIntegrationBody = createIntegrationBody.omit({ unique_key: true }).strict();

export const patchIntegrationBody = createIntegrationBody.omit({ provider: true }).partial().strict();

export const uniqueKeyParams = z.object({ uniqueKey: uniqueKeySchema }).strict();

// `config` is ours (integration_config and custom): what `switchboard plan` compares a config file against.
const include = z.enum(['webhook', 'credentials', 'config']);
export const getIntegrationQuery = z
    .object({ include: z.union([include, z.array(include)]).optional() })
    .strict()
    .transform((q) => new Set(q.include === undefined ? [] : Array.isArray(q.include) ? q.include : [q.include]));

export const emptyQuery = z.object({}).strict();
