import { z } from 'zod';
import { ROLE_ARN } from '../auth-modes/aws-sts.ts';

const raw = z.record(z.string(), z.unknown());
const isoDate = z.union([z.iso.datetime({ offset: true }), z.date()]).transform((d) => new Date(d).toISOString());

/** Credentials an app may import through POST /connections, per type (docs/compatibility.md, "Connections"). */
export const importCredentialsSchema = z.discriminatedUnion('type', [
    z
        .object({
            type: z.literal('OAUTH2'),
            access_token: z.string().min(1),
            refresh_token: z.string().min(1).optional(),
            expires_at: isoDate.optional(),
            no_expiration: z.boolean().optional(),
            raw: raw.optional(),
            config_override: z.object({ client_id: z.string().optional(), client_secret: z.string().optional() }).strict().optional()
        })
        .strict(),
    z.object({ type: z.literal('OAUTH1'), oauth_token: z.string().min(1), oauth_token_secret: z.string().min(1), raw: raw.optional() }).strict(),
    z
        .object({
            type: z.literal('OAUTH2_CC'),
            token: z.string().min(1).optional(),
            expires_at: isoDate.optional(),
            client_id: z.string().min(1),
            client_secret: z.string().min(1),
            client_certificate: z.string().optional(),
            client_private_key: z.string().optional(),
            raw: raw.optional()
        })
        .strict(),
    z.object({ type: z.literal('API_KEY'), apiKey: z.string().min(1) }).strict(),
    z.object({ type: z.literal('BASIC'), username: z.string(), password: z.string() }).strict(),
    // A GitHub App installation: the installation id comes in connection_config; a token may be given (it is
    // renewed from the app's key when it expires) or is minted at once (docs/compatibility.md, "Connections").
    z.object({ type: z.literal('APP'), access_token: z.string().min(1).optional(), expires_at: isoDate.optional(), raw: raw.optional() }).strict(),
    // A provider that needs no credentials (auth mode NONE): the connection only names the end user's account.
    z.object({ type: z.literal('NONE') }).strict(),
    // TWO_STEP: the end user's inputs (the provider's `credentials` fields) next to the token they were exchanged
    // for; without a token, one is obtained at once (docs/providers.md, "Auth modes").
    z
        .object({
            type: z.literal('TWO_STEP'),
            token: z.string().min(1).optional(),
            refresh_token: z.string().min(1).optional(),
            expires_at: isoDate.optional(),
            raw: raw.optional()
        })
        .catchall(z.string().max(16_384)),
    // JWT: the inputs a signed assertion is made from; the token is minted on import.
    z.object({ type: z.literal('JWT'), token: z.string().optional(), expires_at: isoDate.optional() }).catchall(z.string().max(16_384)),
    // AWS_SIGV4: an access key every proxied request is signed with (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).
    // With role_arn instead of a key, the integration's AWS key assumes that role now and again before it expires.
    z
        .object({
            type: z.literal('AWS_SIGV4'),
            access_key_id: z.string().min(16).max(128).optional(),
            secret_access_key: z.string().min(1).max(256).optional(),
            session_token: z.string().min(1).max(4096).optional(),
            role_arn: z.string().regex(ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::123456789012:role/Name').optional(),
            region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
            service: z.string().regex(/^[a-z0-9-]+$/, 'an AWS service name such as execute-api'),
            expires_at: isoDate.optional()
        })
        .strict()
        .refine((c) => c.role_arn || (c.access_key_id && c.secret_access_key), {
            message: 'access_key_id and secret_access_key, or role_arn, are required',
            path: ['access_key_id']
        }),
    // TBA (NetSuite token-based authentication): the end user's token id and secret; the consumer key and secret
    // are the integration's, unless this connection overrides them (docs/providers.md, "Auth modes").
    z
        .object({
            type: z.literal('TBA'),
            token_id: z.string().min(1).max(512),
            token_secret: z.string().min(1).max(512),
            config_override: z
                .object({ client_id: z.string().min(1).max(512).optional(), client_secret: z.string().min(1).max(512).optional() })
                .strict()
                .optional()
        })
        .strict(),
    // SIGNATURE (WSSE UsernameToken): the user and secret each request's digest is made from.
    z
        .object({
            type: z.literal('SIGNATURE'),
            username: z.string().min(1).max(1024),
            password: z.string().min(1).max(8192),
            token: z.string().optional(),
            expires_at: isoDate.optional()
        })
        .strict(),
    // BILL: the four login values; a session id given with them is used until it expires, else one is obtained.
    z
        .object({
            type: z.literal('BILL'),
            username: z.string().min(1).max(1024),
            password: z.string().min(1).max(8192),
            organization_id: z.string().min(1).max(256),
            dev_key: z.string().min(1).max(1024),
            session_id: z.string().min(1).max(4096).optional(),
            user_id: z.string().max(256).optional(),
            expires_at: isoDate.optional()
        })
        .strict()
]);

export type ImportCredentials = z.infer<typeof importCredentialsSchema>;

export type StoredCredentials =
    | {
          type: 'OAUTH2';
          access_token: string;
          refresh_token?: string | undefined;
          expires_at?: string | undefined;
          raw: Record<string, unknown>;
          config_override?: { client_id?: string | undefined; client_secret?: string | undefined } | undefined;
      }
    | { type: 'OAUTH1'; oauth_token: string; oauth_token_secret: string; raw: Record<string, unknown> }
    | {
          type: 'OAUTH2_CC';
          token?: string | undefined;
          expires_at?: string | undefined;
          client_id: string;
          client_secret: string;
          client_certificate?: string | undefined;
          client_private_key?: string | undefined;
          raw: Record<string, unknown>;
      }
    | { type: 'API_KEY'; apiKey: string }
    | { type: 'BASIC'; username: string; password: string }
    | { type: 'APP'; access_token: string; expires_at?: string | undefined; raw: Record<string, unknown> }
    | { type: 'NONE' }
    | TwoStepCredentials
    | JwtCredentials
    | AwsSigV4Credentials
    | TbaCredentials
    | SignatureCredentials
    | BillCredentials;

/** The end user's inputs (kept to obtain the next token) and the token a provider endpoint gave for them. */
export interface TwoStepCredentials {
    type: 'TWO_STEP';
    inputs: Record<string, string>;
    token?: string | undefined;
    refresh_token?: string | undefined;
    expires_at?: string | undefined;
    raw: Record<string, unknown>;
}

/** The inputs a JWT is signed from, and the current one. */
export interface JwtCredentials {
    type: 'JWT';
    inputs: Record<string, string>;
    token?: string | undefined;
    expires_at?: string | undefined;
}

export interface AwsSigV4Credentials {
    type: 'AWS_SIGV4';
    access_key_id: string;
    secret_access_key: string;
    session_token?: string | undefined;
    region: string;
    service: string;
    /** Set when the key is a temporary one from assuming this role; it is renewed before `expires_at`. */
    role_arn?: string | undefined;
    expires_at?: string | undefined;
}

/** NetSuite TBA: the end user's token; the consumer key and secret come from the integration unless overridden. */
export interface TbaCredentials {
    type: 'TBA';
    token_id: string;
    token_secret: string;
    config_override?: { client_id?: string | undefined; client_secret?: string | undefined } | undefined;
}

/** WSSE: the user and secret, and the last UsernameToken made from them (each proxied request gets a new one). */
export interface SignatureCredentials {
    type: 'SIGNATURE';
    username: string;
    password: string;
    token?: string | undefined;
    expires_at?: string | undefined;
}

/** Bill.com: the login values and the session they opened. */
export interface BillCredentials {
    type: 'BILL';
    username: string;
    password: string;
    organization_id: string;
    dev_key: string;
    session_id?: string | undefined;
    user_id?: string | undefined;
    expires_at?: string | undefined;
    raw: Record<string, unknown>;
}

/** TWO_STEP / JWT import bodies: the known keys, and every other string is one of the end user's inputs. */
export function inputsOf(c: Record<string, unknown>, known: readonly string[]): Record<string, string> {
    return Object.fromEntries(Object.entries(c).filter((e): e is [string, string] => !known.includes(e[0]) && typeof e[1] === 'string'));
}

/** Stored credentials for an import; APP, TWO_STEP, JWT, SIGNATURE, BILL and AWS_SIGV4 imports are completed by the caller first. */
export function toStored(c: Exclude<ImportCredentials, { type: 'APP' | 'TWO_STEP' | 'JWT' | 'SIGNATURE' | 'BILL' | 'AWS_SIGV4' }>): StoredCredentials {
    switch (c.type) {
        case 'OAUTH2':
            return {
                type: 'OAUTH2',
                access_token: c.access_token,
                refresh_token: c.refresh_token,
                expires_at: c.no_expiration ? undefined : c.expires_at,
                raw: c.raw ?? {},
                config_override: c.config_override
            };
        case 'OAUTH1':
            return { ...c, raw: c.raw ?? {} };
        case 'OAUTH2_CC':
            return { ...c, raw: c.raw ?? {} };
        default:
            return c;
    }
}

export function expiresAtOf(c: StoredCredentials): Date | null {
    return 'expires_at' in c && c.expires_at ? new Date(c.expires_at) : null;
}

// Matches refresh_token, refreshToken, Refresh-Token…: Nango strips every such key unless asked (docs/compatibility.md, "Connections").
const isRefreshTokenKey = (k: string) => k.toLowerCase().replace(/[^a-z]/g, '') === 'refreshtoken';

/** Removes every refresh-token-like key, recursively (including inside `raw`). */
export function withoutRefreshTokens<T>(value: T): T {
    if (Array.isArray(value)) return value.map((v) => withoutRefreshTokens(v)) as T;
    if (value && typeof value === 'object' && !(value instanceof Date)) {
        return Object.fromEntries(
            Object.entries(value)
                .filter(([k]) => !isRefreshTokenKey(k))
                .map(([k, v]) => [k, withoutRefreshTokens(v)])
        ) as T;
    }
    return value;
}
