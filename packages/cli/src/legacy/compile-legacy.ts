import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleScript } from '../bundle.ts';
import { CliError, CliErrors } from '../errors.ts';
import { parseFrequency } from '../frequency.ts';
import { hasIdProperty } from '../json-schema.ts';
import { loadBundle } from '../load.ts';
import type { CompiledScript, Endpoint, JsonSchema, OnEventName } from '../types.ts';
import { ModelConverter } from './model-types.ts';
import { parseNangoYaml, toList, type YamlEndpoint } from './yaml-config.ts';

const MODEL_NAME = /^[a-zA-Z0-9_]+$/;
const CHECKPOINT_CALL = /\.(getCheckpoint|saveCheckpoint|clearCheckpoint)\s*\(/;
const FOLDERS = { sync: 'syncs', action: 'actions', 'on-event': 'on-events' } as const;

interface Job {
    base: Omit<CompiledScript, 'bundlePath' | 'entryPath' | 'features'>;
}

/** Compiles a legacy nango.yaml project: every script bundled to build/, YAML models converted to JSON schema. */
export async function compileLegacy(projectDir: string, yamlText: string): Promise<CompiledScript[]> {
    const yaml = parseNangoYaml(yamlText);
    const models = yaml.models ?? {};
    for (const name of Object.keys(models)) {
        if (!MODEL_NAME.test(name)) throw new CliError('INVALID_MODEL', `nango.yaml: model name "${name}" must match ${MODEL_NAME.source}`);
    }
    const converter = new ModelConverter(models);
    const jobs = planJobs(yaml, converter);
    mkdirSync(join(projectDir, 'build'), { recursive: true });
    const scripts: CompiledScript[] = [];
    const errors: CliError[] = [];
    for (const { base } of jobs) {
        try {
            const entryPath = findScript(projectDir, base.providerConfigKey, FOLDERS[base.type], base.name);
            const bundlePath = join(projectDir, 'build', `${base.providerConfigKey}_${FOLDERS[base.type]}_${base.name}.cjs`);
            const code = await bundleScript(projectDir, entryPath, bundlePath);
            const exports = loadBundle(code, entryPath);
            if (typeof exports['default'] !== 'function')
                throw new CliError('INVALID_DEFINITION', `${entryPath}: a nango.yaml script must default-export a function`);
            const named = Object.keys(exports).filter((k) => !['default', '__esModule', 'onWebhookPayloadReceived'].includes(k));
            if (named.length > 0)
                throw new CliError(
                    'NAMED_EXPORT',
                    `${entryPath}: only the default export and onWebhookPayloadReceived are allowed (found ${named.join(', ')})`
                );
            scripts.push({ ...base, bundlePath, entryPath, features: CHECKPOINT_CALL.test(code) ? ['checkpoints'] : [] });
        } catch (err) {
            if (err instanceof CliError) errors.push(err);
            else throw err;
        }
    }
    if (errors.length > 0) throw new CliErrors(errors);
    return scripts;
}

function planJobs(yaml: ReturnType<typeof parseNangoYaml>, converter: ModelConverter): Job[] {
    const jobs: Job[] = [];
    for (const [key, integration] of Object.entries(yaml.integrations)) {
        const common = {
            providerConfigKey: key,
            autoStart: false,
            trackDeletes: false,
            syncType: 'full' as const,
            runs: null,
            webhookSubscriptions: [],
            event: null
        };
        for (const [name, s] of Object.entries(integration.syncs ?? {})) {
            parseFrequency(s.runs, `nango.yaml integrations.${key}.syncs.${name}.runs`);
            if (s.sync_type === 'incremental' && s.track_deletes)
                throw new CliError(
                    'INVALID_DEFINITION',
                    `nango.yaml integrations.${key}.syncs.${name}: incremental sync_type cannot be combined with track_deletes`
                );
            const output = toList(s.output);
            for (const m of output) {
                if (!hasIdProperty(converter.model(m)))
                    throw new CliError('INVALID_MODEL', `nango.yaml integrations.${key}.syncs.${name}: output model "${m}" must have an "id" field`);
            }
            jobs.push({
                base: {
                    ...common,
                    type: 'sync',
                    name,
                    description: s.description?.trim() ?? '',
                    runs: s.runs,
                    autoStart: s.auto_start ?? true,
                    trackDeletes: s.track_deletes ?? false,
                    syncType: s.sync_type ?? 'full',
                    output,
                    input: s.input ?? null,
                    endpoints: endpoints(s.endpoint, 'GET'),
                    scopes: toList(s.scopes),
                    version: s.version === undefined ? '' : String(s.version),
                    webhookSubscriptions: toList(s['webhook-subscriptions']),
                    jsonSchema: { definitions: definitionsFor(converter, [...output, ...(s.input ? [s.input] : [])]) }
                }
            });
        }
        for (const [name, a] of Object.entries(integration.actions ?? {})) {
            const input = a.input ? namedOrAnonymous(converter, a.input, `Anonymous_${key}_action_${name}_input`) : null;
            const output = toList(a.output).map((o, i) => namedOrAnonymous(converter, o, `Anonymous_${key}_action_${name}_output${i === 0 ? '' : `_${i}`}`));
            jobs.push({
                base: {
                    ...common,
                    type: 'action',
                    name,
                    description: a.description?.trim() ?? '',
                    output,
                    input,
                    endpoints: endpoints(a.endpoint, 'POST').slice(0, 1),
                    scopes: toList(a.scopes),
                    annotations: a.annotations,
                    version: a.version === undefined ? '' : String(a.version),
                    jsonSchema: { definitions: definitionsFor(converter, [...output, ...(input ? [input] : [])]) }
                }
            });
        }
        const events: Array<[OnEventName, string[]]> = [
            [
                'post-connection-creation',
                [...(integration['on-events']?.['post-connection-creation'] ?? []), ...(integration['post-connection-scripts'] ?? [])]
            ],
            ['pre-connection-deletion', integration['on-events']?.['pre-connection-deletion'] ?? []],
            ['validate-connection', integration['on-events']?.['validate-connection'] ?? []]
        ];
        for (const [event, names] of events) {
            for (const name of names) {
                jobs.push({
                    base: {
                        ...common,
                        type: 'on-event',
                        name,
                        description: '',
                        output: [],
                        input: null,
                        endpoints: [],
                        scopes: [],
                        version: '',
                        event,
                        jsonSchema: { definitions: {} }
                    }
                });
            }
        }
    }
    return jobs;
}

/** An action's input/output may be an inline type instead of a model name; it then becomes an anonymous model. */
function namedOrAnonymous(converter: ModelConverter, type: string, anonymousName: string): string {
    if (converter.models[type]) return type;
    converter.models[anonymousName] = { __value: type };
    return anonymousName;
}

function definitionsFor(converter: ModelConverter, names: string[]): Record<string, JsonSchema> {
    const definitions: Record<string, JsonSchema> = {};
    const queue = [...names];
    while (queue.length > 0) {
        const name = queue.shift()!;
        if (definitions[name]) continue;
        converter.referenced.clear();
        const fields = converter.models[name];
        definitions[name] = fields && '__value' in fields ? converter.value(fields['__value'], `models.${name}`) : converter.model(name);
        queue.push(...converter.referenced);
    }
    return definitions;
}

function endpoints(value: YamlEndpoint | undefined, defaultMethod: string): Endpoint[] {
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((e) => {
        if (typeof e !== 'string')
            return e.group === undefined
                ? { method: e.method ?? defaultMethod, path: e.path }
                : { method: e.method ?? defaultMethod, path: e.path, group: e.group };
        const parts = e.trim().split(/\s+/);
        return parts.length > 1 ? { method: parts[0]!.toUpperCase(), path: parts[1]! } : { method: defaultMethod, path: parts[0]! };
    });
}

/** Nested layout `<key>/<folder>/<name>.ts` first, then the flat `<name>.ts` at the root (§1.1). */
function findScript(projectDir: string, key: string, folder: string, name: string): string {
    const candidates = [
        join(projectDir, key, folder, `${name}.ts`),
        ...(folder === 'on-events' ? [join(projectDir, key, 'post-connection-scripts', `${name}.ts`)] : []),
        join(projectDir, `${name}.ts`)
    ];
    const found = candidates.find((c) => existsSync(c));
    if (!found) throw new CliError('SCRIPT_NOT_FOUND', `nango.yaml lists ${folder}/${name} of ${key} but none of ${candidates.join(', ')} exists`);
    return found;
}
