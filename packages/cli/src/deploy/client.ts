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

const errorEnvelope = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }).loose() });

export interface ServerTarget {
    host: string;
    secretKey: string;
}

/** POSTs JSON with the secret key; a non-2xx answer becomes a SERVER_ERROR quoting the server's error envelope. */
export async function postJson(target: ServerTarget, path: string, body: unknown): Promise<unknown> {
    const url = new URL(path, target.host.endsWith('/') ? target.host : `${target.host}/`);
    let res: Response;
    try {
        res = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${target.secretKey}`, 'content-type': 'application/json', 'user-agent': 'switchboard-cli' },
            body: JSON.stringify(body)
        });
    } catch (err) {
        throw new CliError(
            'SERVER_UNREACHABLE',
            `POST ${url.href} failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
            { cause: err }
        );
    }
    const text = await res.text();
    let data: unknown = text;
    try {
        data = text ? JSON.parse(text) : null;
    } catch {
        // Not JSON: keep the text for the error message.
    }
    if (!res.ok) throw new CliError('SERVER_ERROR', `POST ${url.pathname} answered ${res.status}: ${describeError(data)}`);
    return data;
}

/** The server's `{ error: { code, message } }` envelope as one line (or the raw answer, cut). */
export function describeError(data: unknown): string {
    const env = errorEnvelope.safeParse(data);
    if (env.success) {
        const { code, message, ...rest } = env.data.error;
        const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
        return `[${code ?? 'unknown'}] ${message ?? ''}${extra}`.trim();
    }
    return typeof data === 'string' ? data.slice(0, 2000) : JSON.stringify(data).slice(0, 2000);
}

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
