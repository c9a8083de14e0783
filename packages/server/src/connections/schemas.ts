import { z } from 'zod';
import { importCredentialsSchema } from './credentials.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
export const connectionIdSchema = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9,.;:=+~[\]|@${}"'\\/_ -]+$/, 'contains characters that are not allowed in a connection id');
const providerConfigKey = z.string().min(1).max(255);

const endUserSchema = z
    .object({
        id: z.string().min(1).max(255),
        email: z.email().min(5).optional(),
        display_name: z.string().max(255).optional(),
        tags: z.record(z.string(), z.string()).optional(),
        organization: z
            .object({ id: z.string().max(255), display_name: z.string().max(255).optional() })
            .strict()
            .optional()
    })
    .strict();
export type EndUser = z.infer<typeof endUserSchema>;

const tags = z.record(z.string().max(64), z.string().max(255));
const webhookUrlOverride = z.union([z.url({ protocol: /^https?$/ }), z.literal('')]);

export const listConnectionsQuery = z
    .object({
        connectionId: z.string().max(255).optional(),
        search: z.string().max(255).optional(),
        endUserId: z.string().max(255).optional(),
        endUserOrganizationId: z.string().max(255).optional(),
        integrationId: z.string().max(2048).optional(),
        tags: z.record(z.string(), z.string()).optional(),
        limit: z.coerce.number().int().min(1).max(2000).optional(),
        page: z.coerce.number().int().min(0).optional()
    })
    .strict();

export const connectionParams = z.object({ connectionId: connectionIdSchema }).strict();

export const getConnectionQuery = z
    .object({
        provider_config_key: providerConfigKey,
        force_refresh: bool.optional(),
        refresh_token: bool.optional(),
        refresh_github_app_jwt_token: bool.optional()
    })
    .strict();

export const keyQuery = z.object({ provider_config_key: providerConfigKey }).strict();

export const patchConnectionBody = z
    .object({ end_user: endUserSchema.optional(), tags: tags.optional(), webhook_url_override: webhookUrlOverride.optional() })
    .strict();

export const metadataBody = z
    .object({
        connection_id: z.union([connectionIdSchema, z.array(connectionIdSchema).min(1).max(100)]),
        provider_config_key: providerConfigKey,
        metadata: z.record(z.string(), z.unknown())
    })
    .strict();

export const createConnectionBody = z
    .object({
        provider_config_key: providerConfigKey,
        connection_id: connectionIdSchema.optional(),
        credentials: importCredentialsSchema,
        metadata: z.record(z.string(), z.unknown()).optional(),
        connection_config: z.record(z.string(), z.unknown()).optional(),
        webhook_url_override: webhookUrlOverride.optional(),
        end_user: endUserSchema.optional(),
        tags: tags.optional()
    })
    .strict();
