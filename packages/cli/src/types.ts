import type { ToolAnnotations } from './tool-annotations.ts';

/** What compile produces for each script; deploy and dryrun read only this. */
export type ScriptType = 'sync' | 'action' | 'on-event';
export type OnEventName = 'post-connection-creation' | 'pre-connection-deletion' | 'validate-connection';
export type ProjectFormat = 'zero-yaml' | 'legacy';

export interface Endpoint {
    method: string;
    path: string;
    group?: string;
}

export type JsonSchema = Record<string, unknown>;

export interface CompiledScript {
    type: ScriptType;
    name: string;
    providerConfigKey: string;
    description: string;
    /** Frequency string for syncs, null otherwise. */
    runs: string | null;
    autoStart: boolean;
    trackDeletes: boolean;
    syncType: 'full' | 'incremental';
    /** Output model names (sync models, or the single action output model). */
    output: string[];
    /** Sync metadata model or action input model. */
    input: string | null;
    endpoints: Endpoint[];
    scopes: string[];
    /** An action's MCP tool hints (docs/mcp.md, "Tool annotations"); undefined when the script declares none. */
    annotations?: ToolAnnotations | undefined;
    version: string;
    webhookSubscriptions: string[];
    event: OnEventName | null;
    features: string[];
    jsonSchema: { definitions: Record<string, JsonSchema> };
    /** Absolute paths of the bundle and the entry source. */
    bundlePath: string;
    entryPath: string;
}

export interface CompileResult {
    format: ProjectFormat;
    projectDir: string;
    scripts: CompiledScript[];
    /** nango.yaml text for legacy projects, '' for zero-YAML. */
    yamlText: string;
}
