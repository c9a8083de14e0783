import * as z from 'zod';
import { CliError } from '../errors.ts';

const nameList = z.array(z.unknown());
/** The arrays the official CLI reads from `POST /sync/deploy/confirmation` (docs/scripts-compatibility.md, "Deploy"). */
export const confirmationSchema = z.object({
    newSyncs: nameList,
    updatedSyncs: nameList,
    deletedSyncs: nameList,
    newActions: nameList,
    updatedActions: nameList,
    deletedActions: nameList,
    newOnEventScripts: nameList,
    updatedOnEventScripts: nameList,
    deletedOnEventScripts: nameList,
    deletedModels: nameList
});
export type Confirmation = z.infer<typeof confirmationSchema>;

/** Parses the confirmation answer strictly: a server that omits an array is a server bug we name. */
export function parseConfirmation(data: unknown): Confirmation {
    const parsed = confirmationSchema.safeParse(data);
    if (!parsed.success)
        throw new CliError(
            'SERVER_ERROR',
            `unexpected /sync/deploy/confirmation answer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`
        );
    return parsed.data;
}

export function isDestructive(c: Confirmation): boolean {
    return c.deletedSyncs.length + c.deletedActions.length + c.deletedOnEventScripts.length + c.deletedModels.length > 0;
}

/** Human summary of the plan, one line per non-empty array. */
export function formatConfirmation(c: Confirmation): string {
    const label = (v: unknown): string => {
        if (typeof v === 'string') return v;
        if (v && typeof v === 'object') {
            const o = v as Record<string, unknown>;
            const name = o['name'] ?? o['syncName'];
            const key = o['providerConfigKey'];
            if (typeof name === 'string') return typeof key === 'string' ? `${key}/${name}` : name;
        }
        return JSON.stringify(v);
    };
    const lines = (Object.keys(c) as Array<keyof Confirmation>).filter((k) => c[k].length > 0).map((k) => `  ${k}: ${c[k].map(label).join(', ')}`);
    return lines.length > 0 ? `Deploy plan:\n${lines.join('\n')}` : 'Deploy plan: no changes to existing scripts';
}
