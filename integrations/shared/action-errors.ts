/**
 * How actions report failures: always `nango.ActionError` with a stable `type`, so callers get the payload
 * (docs/scripts-compatibility.md, "Errors": ActionError → action_script_runtime_error with the payload returned as is).
 */
import type { NangoAction } from 'nango';
import type { z } from 'zod';
import { googleFailure } from './google-error.js';

/** Validates action input with zod; on failure throws an ActionError listing every issue by path. */
export function parseInput<T>(nango: NangoAction, schema: z.ZodType<T>, input: unknown): T {
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data;
    throw new nango.ActionError({
        type: 'invalid_input',
        message: 'Invalid input provided',
        issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
    });
}

/**
 * Turns a failed provider call into an ActionError `{type: 'provider_error', operation, status, reason, message}`.
 * ActionErrors thrown deeper are passed through unchanged.
 */
export function providerError(nango: NangoAction, err: unknown, operation: string): Error {
    if (err instanceof nango.ActionError) return err;
    const f = googleFailure(err);
    return new nango.ActionError({ type: 'provider_error', operation, ...f });
}
