import { z } from 'zod';

/**
 * The desired state of a broker, after every `{ fromEnv }` / `{ fromFile }` reference is resolved (file.ts): the
 * shape the CLI, the server's SWITCHBOARD_CONFIG and the Kubernetes operator all hand to plan() and apply().
 * Checks here catch what a file author gets wrong; the broker still validates every request (provider names,
 * credential types per auth mode, PEM keys) and its refusals are mapped back to the same paths.
 */

// The broker's own rules (packages/server/src/integrations/schemas.ts, environments/admin-routes.ts), repeated
// so a file error names its line before any request is sent. Not imported: the server depends on this package
// (SWITCHBOARD_CONFIG), so importing back would be a cycle, and the operator would pull the server's runtime in.
// packages/server/test/apply-rules-agree.test.ts fails when the two copies disagree.
export const uniqueKeySchema = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9~:.@ _-]+$/, 'only letters, digits and ~:.@ _- are allowed');
export const environmentNameSchema = z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _, starting with a letter or digit, at most 63');
const providerName = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9_-]+$/, 'only letters, digits, _ and - are allowed');
const scopeList = /^[0-9a-zA-Z:/_.*-]+(,[0-9a-zA-Z:/_.*-]+)*$/;
/** Scopes as the API takes them (comma-separated), or a list the model joins. */
const scopes = z
    .union([z.string(), z.array(z.string().min(1))])
    .transform((s) => (Array.isArray(s) ? s.join(',') : s))
    .refine((s) => s === '' || scopeList.test(s), 'a comma-separated list (or a YAML list) of scopes without spaces');
const secret = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });

const oauthCredentials = z
    .object({
        type: z.enum(['OAUTH1', 'OAUTH2', 'TBA']),
        client_id: z.string().min(1).max(2048),
        client_secret: secret.max(4096),
        scopes: scopes.optional(),
        webhook_secret: secret.max(4096).optional()
    })
    .strict();
const appCredentials = z
    .object({
        type: z.literal('APP'),
        app_id: z.string().min(1),
        app_link: z.string().min(1),
        private_key: secret,
        webhook_secret: secret.max(4096).optional()
    })
    .strict();
const customCredentials = z
    .object({
        type: z.literal('CUSTOM'),
        client_id: z.string().min(1),
        client_secret: secret,
        app_id: z.string().min(1),
        app_link: z.string().min(1),
        private_key: secret,
        webhook_secret: secret.max(4096).optional()
    })
    .strict();

export const credentialsSchema = z.discriminatedUnion('type', [oauthCredentials, appCredentials, customCredentials]);
export type Credentials = z.output<typeof credentialsSchema>;

/** Credential fields never printed, logged, or kept in a plan: only a keyed fingerprint of them is compared. */
export const SECRET_CREDENTIAL_FIELDS = ['client_secret', 'private_key', 'webhook_secret'] as const;

const stringMap = z.record(z.string().min(1), z.string().max(8192));

/**
 * One integration. A field left out is not managed (whatever the broker holds stays); a field given is made so,
 * `integration_config` and `custom` as whole maps. `base_url_allowlist` is stored in the broker as
 * `integration_config.base_url_allowlist` (comma-separated), which it then must not also name.
 */
export const integrationSchema = z
    .object({
        provider: providerName,
        display_name: z.string().min(1).max(255).optional(),
        credentials: credentialsSchema.optional(),
        forward_webhooks: z.boolean().optional(),
        base_url_allowlist: z
            .array(
                z
                    .string()
                    .min(1)
                    .regex(/^[^,\s]+$/, 'one URL prefix or host pattern, without commas or spaces')
            )
            .optional(),
        integration_config: stringMap.optional(),
        custom: stringMap.optional()
    })
    .strict()
    .refine((i) => !(i.base_url_allowlist && i.integration_config && 'base_url_allowlist' in i.integration_config), {
        message: 'give base_url_allowlist once: as the list, not also inside integration_config',
        path: ['integration_config', 'base_url_allowlist']
    });
export type DesiredIntegration = z.output<typeof integrationSchema>;

/** The environment's outbound webhook settings (PATCH /admin/webhooks/settings). null clears a URL. */
export const webhooksSchema = z
    .object({
        url: httpUrl.nullable().optional(),
        secondary_url: httpUrl.nullable().optional(),
        secret: z
            .string()
            .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'whsec_ followed by base64')
            .optional()
    })
    .strict();

const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'letters, digits and underscores, not starting with a digit, at most 255');

/**
 * One environment. `integrations` are keyed by unique key; `variables` (script variables), when given, are the
 * environment's whole set.
 */
export const environmentSchema = z
    .object({
        integrations: z.record(uniqueKeySchema, integrationSchema).optional(),
        webhooks: webhooksSchema.optional(),
        variables: z.record(variableName, z.string().max(64 * 1024)).optional()
    })
    .strict();
export type DesiredEnvironment = z.output<typeof environmentSchema>;

export const desiredStateSchema = z
    .object({
        version: z.literal(1).optional(),
        environments: z.record(environmentNameSchema, environmentSchema)
    })
    .strict();
export type DesiredState = z.output<typeof desiredStateSchema>;

/** A location in the desired state (for errors): keys and indices from the document root. */
export type StatePath = ReadonlyArray<string | number>;
