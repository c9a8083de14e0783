import { z } from 'zod';
import { parseCursor } from './cursor.ts';
import { MAX_LIMIT } from './reads.ts';

// Nango's model name rule (docs/compatibility.md, "Records"): an uppercase first letter, at least two characters.
const model = z
    .string()
    .regex(/^[A-Z][a-zA-Z0-9_-]+$/, 'must start with an uppercase letter and contain only letters, digits, "_" or "-"')
    .max(255);
const variant = z.string().min(1).max(255).optional();
// pipe: the cursor is only decoded once its length is valid, so one bad value gives one issue.
const cursor = z
    .string()
    .min(1)
    .max(1000)
    .pipe(z.string().refine((c) => parseCursor(c) !== undefined, 'is not a cursor returned by GET /records'));
const isoDate = z.iso
    .datetime({ offset: true })
    .or(z.iso.date())
    .transform((v) => new Date(v));
const kinds = ['added', 'updated', 'deleted'] as const;

export const recordsHeaders = z.object({
    'connection-id': z.string().min(1).max(255),
    'provider-config-key': z.string().min(1).max(255)
});

/** The stored model key: `Model::variant` unless the variant is absent or `base`. */
export function modelKey(name: string, variantName: string | undefined): string {
    return variantName && variantName !== 'base' ? `${name}::${variantName}` : name;
}

export const listRecordsQuery = z
    .object({
        model,
        variant,
        modified_after: isoDate.optional(),
        /** Deprecated alias of modified_after that older SDKs send. */
        delta: isoDate.optional(),
        limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
        filter: z
            .string()
            .max(100)
            .transform((v, ctx) => {
                const parts = v
                    .split(',')
                    .map((p) => p.trim().toLowerCase())
                    .filter(Boolean);
                const bad = parts.filter((p) => !(kinds as readonly string[]).includes(p));
                if (parts.length === 0 || bad.length > 0) {
                    ctx.addIssue({ code: 'custom', message: `must be a comma list of ${kinds.join(', ')}` });
                    return z.NEVER;
                }
                return parts as Array<(typeof kinds)[number]>;
            })
            .optional(),
        cursor: cursor.optional(),
        // A single `ids=x` arrives as a string, repeated ones as an array.
        ids: z
            .union([z.string().max(256), z.array(z.string().max(256)).max(100)])
            .transform((v) => (Array.isArray(v) ? v : [v]))
            .optional()
    })
    .strict();

export const pruneRecordsBody = z
    .object({
        model,
        variant,
        until_cursor: cursor,
        limit: z.number().int().min(1).max(MAX_LIMIT).optional()
    })
    .strict();
