import { z } from 'zod';

const endUser = z
    .object({
        id: z.string().min(1).max(255),
        email: z.email().min(5).optional(),
        display_name: z.string().max(255).optional(),
        tags: z.record(z.string(), z.string()).optional()
    })
    .strict();
const organization = z.object({ id: z.string().max(255), display_name: z.string().max(255).optional() }).strict();
const configDefaults = z
    .object({
        user_scopes: z.string().optional(),
        authorization_params: z.record(z.string(), z.string()).optional(),
        connection_config: z.object({ oauth_scopes_override: z.string().optional() }).catchall(z.unknown()).optional()
    })
    .strict();

const common = {
    end_user: endUser.optional(),
    organization: organization.optional(),
    integrations_config_defaults: z.record(z.string(), configDefaults).optional(),
    overrides: z.record(z.string(), z.object({ docs_connect: z.string().optional() }).strict()).optional(),
    webhook_url_override: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]).optional(),
    tags: z.record(z.string().max(64), z.string().max(255)).optional()
};

/** POST /connect/sessions (docs/compatibility.md, "Connect sessions"): strict; an end user is required unless tags are given. */
export const createSessionBody = z
    .object({ ...common, allowed_integrations: z.array(z.string().min(1).max(255)).optional() })
    .strict()
    .refine((b) => b.end_user !== undefined || b.tags !== undefined, { message: 'end_user is required unless tags are given', path: ['end_user'] });

export const reconnectSessionBody = z.object({ ...common, connection_id: z.string().min(1).max(255), integration_id: z.string().min(1).max(255) }).strict();

export type CreateSessionBody = z.infer<typeof createSessionBody>;
export type EndUserInput = z.infer<typeof endUser>;
export type OrganizationInput = z.infer<typeof organization>;
