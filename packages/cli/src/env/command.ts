import * as z from 'zod';
import { CliError } from '../errors.ts';
import { callServer } from '../server-client.ts';

/** `switchboard env …`: environments and their secret keys, through the server's operator routes (admin key). */
export interface EnvCommand {
    action: 'list' | 'create' | 'rename' | 'delete' | 'keys' | 'key-add' | 'key-rotate' | 'key-revoke';
    args: string[];
    label?: string | undefined;
    seconds?: number | undefined;
    json: boolean;
    host: string;
    adminKey: string;
}

const envView = z.object({ name: z.string(), uuid: z.string(), created_at: z.string().optional(), secret_key: z.string().optional() }).loose();
const keyView = z
    .object({
        id: z.string(),
        label: z.string().nullable(),
        source: z.string(),
        created_at: z.string(),
        expires_at: z.string().nullable(),
        revoked_at: z.string().nullable(),
        secret_key: z.string().optional()
    })
    .loose();

const call = (cmd: EnvCommand, method: string, path: string, body?: unknown): Promise<unknown> =>
    callServer({ host: cmd.host, auth: { kind: 'admin', key: cmd.adminKey } }, method, path, body);

function parse<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
    const inner = (data as { data?: unknown } | null)?.data;
    const res = schema.safeParse(inner);
    if (!res.success) throw new CliError('SERVER_ERROR', `unexpected answer: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return res.data as z.output<S>;
}

const seg = (s: string) => encodeURIComponent(s);
const keyLine = (k: z.output<typeof keyView>) => {
    const state = k.revoked_at ? `revoked ${k.revoked_at}` : k.expires_at ? `expires ${k.expires_at}` : 'active';
    return `${k.id}  ${k.source.padEnd(6)}  ${state}  ${k.label ?? ''}`.trimEnd();
};
const shownOnce = (key: string) => `secret key (shown once; store it now): ${key}`;

export async function envCommand(cmd: EnvCommand, out: (s: string) => void): Promise<void> {
    const [name, other] = cmd.args;
    const print = (value: unknown, lines: () => string[]) => {
        if (cmd.json) out(JSON.stringify(value, null, 2));
        else for (const l of lines()) out(l);
    };
    switch (cmd.action) {
        case 'list': {
            const envs = parse(z.array(envView), await call(cmd, 'GET', '/admin/environments'));
            print(envs, () => envs.map((e) => `${e.name}  ${e.uuid}  ${e.created_at ?? ''}`.trimEnd()));
            return;
        }
        case 'create': {
            const env = parse(envView, await call(cmd, 'POST', '/admin/environments', { name }));
            print(env, () => [`created environment ${env.name} (${env.uuid})`, shownOnce(env.secret_key ?? '')]);
            return;
        }
        case 'rename': {
            const env = parse(envView, await call(cmd, 'PATCH', `/admin/environments/${seg(name!)}`, { name: other }));
            print(env, () => [`renamed environment ${name} to ${env.name}`]);
            return;
        }
        case 'delete': {
            await call(cmd, 'DELETE', `/admin/environments/${seg(name!)}`);
            print({ deleted: name }, () => [`deleted environment ${name} and everything in it`]);
            return;
        }
        case 'keys': {
            const keys = parse(z.array(keyView), await call(cmd, 'GET', `/admin/environments/${seg(name!)}/keys`));
            print(keys, () => keys.map(keyLine));
            return;
        }
        case 'key-add': {
            const body = { ...(cmd.label ? { label: cmd.label } : {}), ...(cmd.seconds !== undefined ? { expires_in_seconds: cmd.seconds } : {}) };
            const key = parse(keyView, await call(cmd, 'POST', `/admin/environments/${seg(name!)}/keys`, body));
            print(key, () => [`added key ${key.id} to ${name}`, shownOnce(key.secret_key ?? '')]);
            return;
        }
        case 'key-rotate': {
            const body = { ...(cmd.label ? { label: cmd.label } : {}), ...(cmd.seconds !== undefined ? { overlap_seconds: cmd.seconds } : {}) };
            const key = parse(keyView.extend({ retired: z.array(keyView) }), await call(cmd, 'POST', `/admin/environments/${seg(name!)}/keys/rotate`, body));
            print(key, () => [
                `new key ${key.id} for ${name}`,
                shownOnce(key.secret_key ?? ''),
                ...key.retired.map((k) => `previous key ${k.id} ${k.expires_at ? `keeps working until ${k.expires_at}` : 'still active'}`)
            ]);
            return;
        }
        case 'key-revoke': {
            const key = parse(keyView, await call(cmd, 'DELETE', `/admin/environments/${seg(name!)}/keys/${seg(other!)}`));
            print(key, () => [`revoked key ${key.id} of ${name}`]);
            return;
        }
    }
}
