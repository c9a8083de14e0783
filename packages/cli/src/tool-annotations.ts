import * as z from 'zod';

/**
 * MCP tool hints an action declares (`annotations` of createAction, or of the action in nango.yaml; docs/mcp.md,
 * "Tool annotations"). Strict, so a misspelt hint fails the compile instead of being dropped.
 */
export const toolAnnotationsSchema = z
    .object({
        title: z.string().max(200).optional(),
        readOnlyHint: z.boolean().optional(),
        destructiveHint: z.boolean().optional(),
        idempotentHint: z.boolean().optional(),
        openWorldHint: z.boolean().optional()
    })
    .strict();

export type ToolAnnotations = z.output<typeof toolAnnotationsSchema>;
