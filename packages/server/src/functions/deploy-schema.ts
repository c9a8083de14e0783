import { z } from 'zod';

/**
 * The body of `POST /sync/deploy` and `/sync/deploy/confirmation` as the official `nango` CLI and our own
 * `switchboard deploy` send it (docs/scripts-compatibility.md, "Deploy"). Objects are loose where CLIs add fields over time:
 * an unknown field must not break a deploy, while every field we act on is checked.
 */
const name = z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, "_" and "-" only')
    .max(255);
const endpoint = z.union([z.string(), z.looseObject({ method: z.string().optional(), path: z.string(), group: z.string().optional() })]);
/**
 * An action's MCP tool hints (docs/mcp.md, "Tool annotations"), carried in `metadata.annotations` of its flow config:
 * the `annotations` property of `createAction` in a zero-YAML project, or of the action in nango.yaml.
 */
export const toolAnnotations = z
    .object({
        title: z.string().max(200).optional(),
        readOnlyHint: z.boolean().optional(),
        destructiveHint: z.boolean().optional(),
        idempotentHint: z.boolean().optional(),
        openWorldHint: z.boolean().optional()
    })
    .strict();
export type ToolAnnotationsInput = z.output<typeof toolAnnotations>;
const fileBody = z.looseObject({ js: z.string().min(1), ts: z.string().optional().default('') });

export const flowConfig = z.looseObject({
    type: z.enum(['sync', 'action']),
    syncName: name,
    providerConfigKey: z.string().min(1),
    models: z.array(z.string().min(1).max(255)).default([]),
    input: z.string().min(1).max(255).nullish(),
    runs: z.string().nullish(),
    auto_start: z.boolean().optional(),
    track_deletes: z.boolean().optional(),
    sync_type: z.enum(['full', 'incremental', 'FULL', 'INCREMENTAL']).nullish(),
    webhookSubscriptions: z.array(z.string()).nullish(),
    endpoints: z.array(endpoint).nullish(),
    metadata: z
        .looseObject({ description: z.string().max(2000).optional(), scopes: z.array(z.string()).optional(), annotations: toolAnnotations.optional() })
        .nullish(),
    attributes: z.record(z.string(), z.unknown()).nullish(),
    version: z.string().nullish(),
    fileBody,
    models_json_schema: z.looseObject({ definitions: z.record(z.string(), z.unknown()) }).nullish(),
    features: z.array(z.string()).nullish()
});
export type FlowConfig = z.output<typeof flowConfig>;

const onEventScript = z.looseObject({
    name,
    event: z.enum(['post-connection-creation', 'pre-connection-deletion', 'validate-connection']),
    fileBody,
    version: z.string().nullish()
});

export const deployBody = z.looseObject({
    flowConfigs: z.array(flowConfig).default([]),
    onEventScriptsByProvider: z.array(z.looseObject({ providerConfigKey: z.string().min(1), scripts: z.array(onEventScript) })).nullish(),
    nangoYamlBody: z.string().nullish(),
    reconcile: z.boolean().default(false),
    deployMode: z.enum(['all', 'integration', 'single']).optional(),
    debug: z.boolean().optional(),
    sdkVersion: z.string().nullish(),
    source: z.string().nullish(),
    jsonSchema: z.unknown().optional(),
    singleDeployMode: z.boolean().optional()
});
export type DeployBody = z.output<typeof deployBody>;
