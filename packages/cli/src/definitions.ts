import * as z from 'zod';
import { CliError } from './errors.ts';
import { parseFrequency } from './frequency.ts';
import { hasIdProperty, toJsonSchema } from './json-schema.ts';
import type { CompiledScript, Endpoint, JsonSchema } from './types.ts';
import { toolAnnotationsSchema } from './tool-annotations.ts';

const zodSchema = z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: 'expected a zod schema' });
const endpointSchema = z.object({ method: z.string().optional(), path: z.string().startsWith('/'), group: z.string().optional() });
const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'expected a function' });
const common = {
    description: z.string().min(1).max(2000),
    version: z.string().optional(),
    scopes: z.array(z.string()).optional(),
    metadata: zodSchema.optional(),
    checkpoint: zodSchema.optional(),
    exec: fn
};

/** The plain object a bundle default-exports (the nango shim adds `type`); §1.2 property tables. */
const definitionSchema = z.discriminatedUnion('type', [
    z.object({
        type: z.literal('sync'),
        ...common,
        frequency: z.string(),
        models: z.record(z.string(), zodSchema),
        autoStart: z.boolean().optional(),
        syncType: z.enum(['full', 'incremental']).optional(),
        trackDeletes: z.boolean().optional(),
        endpoints: z.array(endpointSchema).optional(),
        webhookSubscriptions: z.array(z.string()).optional(),
        onWebhook: fn.optional()
    }),
    z.object({
        type: z.literal('action'),
        ...common,
        input: zodSchema,
        output: zodSchema,
        endpoint: endpointSchema.optional(),
        annotations: toolAnnotationsSchema.optional()
    }),
    z.object({ type: z.literal('onEvent'), ...common, event: z.enum(['post-connection-creation', 'pre-connection-deletion', 'validate-connection']) })
]);

const MODEL_NAME = /^[A-Z][a-zA-Z0-9_]+$/;
const CHECKPOINT_CALL = /\.(getCheckpoint|saveCheckpoint|clearCheckpoint)\s*\(/;

export interface DefinitionSource {
    file: string;
    providerConfigKey: string;
    name: string;
    code: string;
    bundlePath: string;
}

/** Turns a bundle's `module.exports` into a CompiledScript, or throws a CliError naming the file. */
export function readDefinition(exports: Record<string, unknown>, src: DefinitionSource): CompiledScript {
    const named = Object.keys(exports).filter((k) => k !== 'default' && k !== '__esModule');
    if (named.length > 0) throw new CliError('NAMED_EXPORT', `${src.file}: only a default export is allowed (found named export ${named.join(', ')})`);
    const parsed = definitionSchema.safeParse(exports['default']);
    if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(default export)'}: ${i.message}`).join('; ');
        throw new CliError('INVALID_DEFINITION', `${src.file}: the default export must be createSync/createAction/createOnEvent({...}): ${issues}`);
    }
    const def = parsed.data;
    const integrationPart = src.providerConfigKey.replace(/[^a-zA-Z0-9]/g, '_');
    const namePart = src.name.replace(/[^a-zA-Z0-9]/g, '');
    const definitions: Record<string, JsonSchema> = {};
    const base: CompiledScript = {
        type: 'sync',
        name: src.name,
        providerConfigKey: src.providerConfigKey,
        description: def.description,
        runs: null,
        autoStart: false,
        trackDeletes: false,
        syncType: 'full',
        output: [],
        input: null,
        endpoints: [],
        scopes: def.scopes ?? [],
        version: def.version ?? '',
        webhookSubscriptions: [],
        event: null,
        features: CHECKPOINT_CALL.test(src.code) ? ['checkpoints'] : [],
        jsonSchema: { definitions },
        bundlePath: src.bundlePath,
        entryPath: src.file
    };
    if (def.type === 'sync') {
        parseFrequency(def.frequency, src.file);
        if (def.syncType === 'incremental' && def.trackDeletes)
            throw new CliError('INVALID_DEFINITION', `${src.file}: syncType "incremental" cannot be combined with trackDeletes`);
        const names = Object.keys(def.models);
        if (names.length === 0) throw new CliError('INVALID_MODEL', `${src.file}: a sync needs at least one model`);
        for (const [modelName, schema] of Object.entries(def.models)) {
            if (!MODEL_NAME.test(modelName)) throw new CliError('INVALID_MODEL', `${src.file}: model name "${modelName}" must match ${MODEL_NAME.source}`);
            const json = toJsonSchema(schema);
            if (!hasIdProperty(json)) throw new CliError('INVALID_MODEL', `${src.file}: model "${modelName}" must have an "id" field`);
            definitions[modelName] = json;
        }
        if (def.endpoints && def.endpoints.length !== names.length)
            throw new CliError('INVALID_DEFINITION', `${src.file}: endpoints must list one endpoint per model`);
        let input: string | null = null;
        if (def.metadata) {
            input = `SyncMetadata_${integrationPart}_${namePart}`;
            definitions[input] = toJsonSchema(def.metadata);
        }
        return {
            ...base,
            runs: def.frequency,
            // §1.2: the official CLI deploys auto_start true only when explicitly true.
            autoStart: def.autoStart === true,
            trackDeletes: def.trackDeletes === true,
            syncType: def.syncType ?? 'full',
            output: names,
            input,
            endpoints: (def.endpoints ?? []).map((e) => withMethod(e, 'GET')),
            webhookSubscriptions: def.webhookSubscriptions ?? []
        };
    }
    if (def.type === 'action') {
        const input = `ActionInput_${integrationPart}_${namePart}`;
        const output = `ActionOutput_${integrationPart}_${namePart}`;
        definitions[input] = toJsonSchema(def.input);
        definitions[output] = toJsonSchema(def.output);
        const endpoints = def.endpoint ? [withMethod(def.endpoint, 'POST')] : [];
        return { ...base, type: 'action', output: [output], input, endpoints, annotations: def.annotations };
    }
    return { ...base, type: 'on-event', event: def.event };
}

function withMethod(e: { method?: string | undefined; path: string; group?: string | undefined }, method: string): Endpoint {
    return e.group === undefined ? { method: e.method ?? method, path: e.path } : { method: e.method ?? method, path: e.path, group: e.group };
}
