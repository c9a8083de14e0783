import { z } from 'zod';

const syncRef = z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), variant: z.string().min(1) })]);

export const syncCommandBody = z.strictObject({
    syncs: z.array(syncRef).default([]),
    provider_config_key: z.string().min(1).optional(),
    connection_id: z.string().min(1).max(255).optional()
});

export const syncTriggerBody = syncCommandBody.extend({
    opts: z.strictObject({ reset: z.boolean().optional(), emptyCache: z.boolean().optional() }).optional(),
    sync_mode: z.enum(['incremental', 'full_refresh', 'full_refresh_and_clear_cache']).optional(),
    full_resync: z.boolean().optional()
});

export const providerKeyHeader = z.looseObject({ 'provider-config-key': z.string().min(1).optional() });

export const syncStatusQuery = z.strictObject({
    syncs: z.string().min(1),
    provider_config_key: z.string().min(1),
    connection_id: z.string().min(1).max(255).optional()
});

export const frequencyBody = z.strictObject({
    sync_name: z.string().min(1),
    sync_variant: z.string().min(1).optional(),
    provider_config_key: z.string().min(1),
    connection_id: z.string().min(1).max(255),
    frequency: z.string().min(1).nullable()
});

export const actionHeaders = z.looseObject({
    'connection-id': z.string().min(1).max(255),
    'provider-config-key': z.string().min(1).max(255),
    'x-async': z.enum(['true', 'false']).optional(),
    'x-max-retries': z.coerce.number().int().min(0).max(5).optional()
});

export const actionBody = z.strictObject({ action_name: z.string().min(1).max(255), input: z.unknown().optional() });

export const actionIdParams = z.strictObject({ id: z.uuid() });

export const scriptsConfigQuery = z.strictObject({ format: z.enum(['nango', 'openai']).optional() });

/** A sync named `name` or `name::variant`, as /sync/status takes them. */
export function parseSyncRef(ref: string | { name: string; variant: string }): { name: string; variant: string } {
    if (typeof ref !== 'string') return ref;
    const [name, variant] = ref.split('::');
    return { name: name!, variant: variant || 'base' };
}

// Nango's rule for sync and variant names in these paths (server helpers/validation.ts, syncNameSchema and
// variantSchema): a name that fails it is a 400 `invalid_uri_params`, as there.
const pathName = z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, "_" and "-" only')
    .max(255);

export const syncVariantParams = z.strictObject({ name: pathName, variant: pathName });

export const syncVariantBody = z.strictObject({
    provider_config_key: z.string().min(1).max(255),
    connection_id: z.string().min(1).max(255)
});

export const emptyQuery = z.strictObject({});
