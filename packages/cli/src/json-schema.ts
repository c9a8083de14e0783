import * as z from 'zod';
import type { JsonSchema } from './types.ts';

/**
 * zod → JSON schema as the official CLI deploys it (docs/scripts-compatibility.md, "Entry points"): draft-07, dates as date-time strings,
 * void as null, anything unrepresentable as "any"; no top-level `$schema`.
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
    const out = z.toJSONSchema(schema, {
        target: 'draft-7',
        unrepresentable: 'any',
        override: (ctx) => {
            const def = (ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def;
            if (def.type === 'date') {
                ctx.jsonSchema['type'] = 'string';
                ctx.jsonSchema['format'] = 'date-time';
            } else if (def.type === 'void' || def.type === 'undefined') {
                ctx.jsonSchema['type'] = 'null';
            }
        }
    }) as JsonSchema;
    delete out['$schema'];
    return out;
}

/** True when an object schema declares an `id` property (required for record models). */
export function hasIdProperty(schema: JsonSchema): boolean {
    const props = schema['properties'];
    return typeof props === 'object' && props !== null && 'id' in props;
}
