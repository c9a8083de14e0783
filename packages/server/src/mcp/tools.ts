import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { DeployedFunction } from '../functions/store.ts';

/** The argument a destructive tool is repeated with after the caller confirmed (docs/mcp.md, "Confirmation"). */
export const CONFIRMATION_ARGUMENT = 'confirmationToken';

/** Read tools for cached models are named after the model; an action of the same name wins. */
export const RECORDS_TOOL_PREFIX = 'list_records_';

/** One tool of a connection: a deployed action, or the read tool of a model a sync caches. */
export type ToolTarget = { kind: 'action'; fn: DeployedFunction; annotations: ToolAnnotations } | { kind: 'records'; model: string; syncs: string[] };

/**
 * Hints an action's endpoint method implies when the deploy carried no annotations (scripts deployed by Nango's
 * CLI have an endpoint but no annotations): GET reads, DELETE destroys (and is idempotent), PUT is idempotent.
 */
function fromEndpoints(endpoints: unknown[] | undefined): ToolAnnotations {
    const first = endpoints?.[0];
    const method = typeof first === 'string' ? first.split(' ')[0] : typeof first === 'object' && first ? (first as { method?: unknown }).method : undefined;
    switch (typeof method === 'string' ? method.toUpperCase() : '') {
        case 'GET':
            return { readOnlyHint: true };
        case 'DELETE':
            return { readOnlyHint: false, destructiveHint: true, idempotentHint: true };
        case 'PUT':
            return { readOnlyHint: false, idempotentHint: true };
        default:
            return {};
    }
}

/** The action's annotations: the deployed ones, completed by what its endpoint method implies. */
export function annotationsOf(fn: DeployedFunction): ToolAnnotations {
    return { ...fromEndpoints(fn.config.endpoints), ...(fn.config.annotations ?? {}) };
}

/**
 * Whether a call needs the caller's confirmation first. MCP's defaults apply (a tool is not read-only and, when
 * not read-only, destructive, unless it says otherwise), so an action without annotations is confirmed: safe by
 * default, and an additive action opts out with `destructiveHint: false`.
 */
export function needsConfirmation(a: ToolAnnotations): boolean {
    return a.readOnlyHint !== true && a.destructiveHint !== false;
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The action's input JSON schema from the deploy, as an MCP tool input schema (always `type: object`). */
function inputSchemaOf(fn: DeployedFunction): Tool['inputSchema'] | undefined {
    const name = fn.config.input;
    const schema = name ? fn.config.jsonSchema?.['definitions'] : undefined;
    const input = isObject(schema) && name ? schema[name] : undefined;
    if (!isObject(input) || input['type'] === 'null') return { type: 'object', properties: {} };
    // A tool's arguments are an object (MCP); an action taking a string or an array cannot be offered as a tool.
    if (input['type'] !== 'object') return undefined;
    const { $schema: _s, definitions: _d, ...rest } = input;
    // zod's JSON schema lists fields with a default as required (the output side); a caller may leave them out.
    const properties = isObject(rest['properties']) ? rest['properties'] : {};
    const required = Array.isArray(rest['required'])
        ? rest['required'].filter((k): k is string => typeof k === 'string' && !(isObject(properties[k]) && 'default' in properties[k]))
        : undefined;
    return { ...rest, type: 'object', ...(required ? { required } : {}) } as Tool['inputSchema'];
}

function withConfirmationArgument(schema: Tool['inputSchema']): Tool['inputSchema'] {
    return {
        ...schema,
        properties: {
            ...(schema.properties ?? {}),
            [CONFIRMATION_ARGUMENT]: {
                type: 'string',
                description: 'Only when repeating this call after the user confirmed it: the confirmationToken the first call returned. Never invent one.'
            }
        }
    };
}

export function actionTool(fn: DeployedFunction): Tool | undefined {
    const schema = inputSchemaOf(fn);
    if (!schema) return undefined;
    const annotations = annotationsOf(fn);
    const description = fn.config.description || fn.name;
    return {
        name: fn.name,
        description: needsConfirmation(annotations)
            ? `${description}. Destructive: the user must confirm each call (the client asks them, or the first call returns a confirmationToken to repeat the call with once they agreed).`
            : description,
        inputSchema: needsConfirmation(annotations) ? withConfirmationArgument(schema) : schema,
        annotations
    };
}

export function recordsTool(model: string, syncs: DeployedFunction[]): Tool {
    const about = syncs.map((s) => `"${s.name}"${s.config.description ? ` (${s.config.description})` : ''}`).join(', ');
    return {
        name: `${RECORDS_TOOL_PREFIX}${model}`,
        description: `Lists ${model} records from Switchboard's cache, kept up to date by the sync ${about}; no call to the provider. Newest changes last; page with next_cursor.`,
        inputSchema: {
            type: 'object',
            properties: {
                cursor: { type: 'string', description: 'next_cursor of the previous page' },
                limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
                filter: { type: 'string', enum: ['added', 'updated', 'deleted'], description: 'Only records whose last change was of this kind' },
                modified_after: { type: 'string', format: 'date-time', description: 'Only records changed after this time (RFC 3339)' },
                ids: { type: 'array', items: { type: 'string' }, maxItems: 100, description: 'Only these record ids' }
            },
            additionalProperties: false
        },
        annotations: { title: `List cached ${model}`, readOnlyHint: true, idempotentHint: true, openWorldHint: false }
    };
}

/** Every tool of an integration's deployed scripts, by name. */
export function toolsOf(functions: DeployedFunction[]): Map<string, { tool: Tool; target: ToolTarget }> {
    const out = new Map<string, { tool: Tool; target: ToolTarget }>();
    for (const fn of functions) {
        if (fn.type !== 'action') continue;
        const tool = actionTool(fn);
        if (tool) out.set(tool.name, { tool, target: { kind: 'action', fn, annotations: tool.annotations ?? {} } });
    }
    const syncsByModel = new Map<string, DeployedFunction[]>();
    for (const fn of functions) {
        if (fn.type !== 'sync') continue;
        for (const model of fn.config.models ?? []) syncsByModel.set(model, [...(syncsByModel.get(model) ?? []), fn]);
    }
    for (const [model, syncs] of syncsByModel) {
        const tool = recordsTool(model, syncs);
        if (!out.has(tool.name)) out.set(tool.name, { tool, target: { kind: 'records', model, syncs: syncs.map((s) => s.name) } });
    }
    return out;
}
