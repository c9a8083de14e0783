import { parse } from 'yaml';
import * as z from 'zod';
import { CliError } from '../errors.ts';
import { toolAnnotationsSchema } from '../tool-annotations.ts';

const stringOrList = z.union([z.string(), z.array(z.string())]);
const endpointObject = z.object({ method: z.string().optional(), path: z.string(), group: z.string().optional() });
const endpoint = z.union([z.string(), endpointObject, z.array(z.union([z.string(), endpointObject]))]);

/** nango.yaml v2 (docs/scripts-compatibility.md, "Entry points"). Unknown keys are ignored like the official parser does. */
const syncSchema = z.object({
    runs: z.string(),
    output: stringOrList,
    endpoint: endpoint.optional(),
    description: z.string().optional(),
    sync_type: z.enum(['full', 'incremental']).optional(),
    track_deletes: z.boolean().optional(),
    auto_start: z.boolean().optional(),
    scopes: stringOrList.optional(),
    input: z.string().optional(),
    'webhook-subscriptions': stringOrList.optional(),
    version: z.union([z.string(), z.number()]).optional()
});
const actionSchema = z.object({
    endpoint: endpoint.optional(),
    input: z.string().optional(),
    output: stringOrList.optional(),
    description: z.string().optional(),
    scopes: stringOrList.optional(),
    version: z.union([z.string(), z.number()]).optional(),
    annotations: toolAnnotationsSchema.optional()
});
const onEvents = z.object({
    'post-connection-creation': z.array(z.string()).optional(),
    'pre-connection-deletion': z.array(z.string()).optional(),
    'validate-connection': z.array(z.string()).optional()
});
const integrationSchema = z
    .object({
        syncs: z.record(z.string(), syncSchema).nullish(),
        actions: z.record(z.string(), actionSchema).nullish(),
        'on-events': onEvents.nullish(),
        'post-connection-scripts': z.array(z.string()).nullish()
    })
    .refine((i) => !(i['on-events'] && i['post-connection-scripts']), { message: 'use either on-events or post-connection-scripts, not both' });
const yamlSchema = z.object({
    integrations: z.record(z.string(), integrationSchema),
    models: z.record(z.string(), z.record(z.string(), z.unknown())).nullish()
});

export type NangoYaml = z.infer<typeof yamlSchema>;
export type YamlSync = z.infer<typeof syncSchema>;
export type YamlAction = z.infer<typeof actionSchema>;
export type YamlEndpoint = z.infer<typeof endpoint>;

/** Parses and validates nango.yaml text; errors name the key path. */
export function parseNangoYaml(text: string): NangoYaml {
    let raw: unknown;
    try {
        raw = parse(text);
    } catch (err) {
        throw new CliError('INVALID_YAML', `nango.yaml: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const parsed = yamlSchema.safeParse(raw);
    if (!parsed.success) {
        throw new CliError('INVALID_YAML', `nango.yaml: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
}

export function toList(v: string | string[] | undefined): string[] {
    if (v === undefined) return [];
    return Array.isArray(v)
        ? v
        : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
}
