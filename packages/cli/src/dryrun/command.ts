import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { RunnerPool } from '@switchboard/server/runtime';
import type { ScriptKind } from '@switchboard/server/runtime/types';
import * as z from 'zod';
import { compileProject } from '../compile.ts';
import { CliError } from '../errors.ts';
import { createDryrunHost, requireConnection } from './host.ts';

export interface DryrunOptions {
    dir: string;
    env: string;
    name: string;
    connectionId: string;
    integration?: string | undefined;
    input?: string | undefined;
    metadata?: string | undefined;
    checkpoint?: string | undefined;
    host: string;
    secretKey: string;
    out: (line: string) => void;
}

const checkpointSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const metadataSchema = z.record(z.string(), z.unknown());

/** `--input '{"a":1}'` or `--input @file.json`, checked against `schema`; every problem is a BAD_ARGS naming the flag. */
function jsonArg<T>(flag: string, value: string | undefined, schema: z.ZodType<T>): T | undefined {
    if (value === undefined) return undefined;
    let text = value;
    if (value.startsWith('@')) {
        try {
            text = readFileSync(value.slice(1), 'utf8');
        } catch (err) {
            throw new CliError('BAD_ARGS', `--${flag}: cannot read ${value.slice(1)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new CliError('BAD_ARGS', `--${flag} is not valid JSON`);
    }
    const checked = schema.safeParse(parsed);
    if (!checked.success)
        throw new CliError('BAD_ARGS', `--${flag}: ${checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    return checked.data;
}

/** Compiles, then runs one script through the server's RunnerPool with a host that collects instead of writing. */
export async function dryrun(opts: DryrunOptions): Promise<void> {
    const result = await compileProject(opts.dir);
    const matches = result.scripts.filter((s) => s.name === opts.name && (!opts.integration || s.providerConfigKey === opts.integration));
    if (matches.length !== 1) {
        throw new CliError(
            'SCRIPT_NOT_FOUND',
            matches.length === 0 ? `no script named "${opts.name}"` : `"${opts.name}" exists in several integrations; pass --integration`
        );
    }
    const script = matches[0]!;
    const metadata = jsonArg('metadata', opts.metadata, metadataSchema);
    const checkpoint = jsonArg('checkpoint', opts.checkpoint, checkpointSchema);
    const input = jsonArg('input', opts.input, z.unknown());
    await requireConnection({ host: opts.host, secretKey: opts.secretKey, providerConfigKey: script.providerConfigKey, connectionId: opts.connectionId });
    const { host, collected } = createDryrunHost({
        host: opts.host,
        secretKey: opts.secretKey,
        providerConfigKey: script.providerConfigKey,
        connectionId: opts.connectionId,
        metadata,
        checkpoint,
        out: opts.out
    });
    const pool = new RunnerPool({ size: 1 });
    try {
        const kind: ScriptKind = script.type;
        const res = await pool.run(
            {
                runId: randomUUID(),
                kind,
                code: readFileSync(script.bundlePath, 'utf8'),
                input,
                timeoutMs: 5 * 60_000,
                props: {
                    scriptType: kind,
                    connectionId: opts.connectionId,
                    providerConfigKey: script.providerConfigKey,
                    provider: script.providerConfigKey,
                    environmentId: 0,
                    environmentName: opts.env,
                    nangoConnectionId: 0,
                    activityLogId: 'dryrun',
                    scriptName: script.name,
                    logLevel: 'debug',
                    ...(kind === 'sync'
                        ? {
                              syncName: script.name,
                              syncId: 'dryrun',
                              syncJobId: 0,
                              models: script.output,
                              track_deletes: script.trackDeletes,
                              lastSyncDate: null
                          }
                        : {})
                }
            },
            host
        );
        for (const [model, byId] of collected.saved) opts.out(`${model} (${byId.size} record(s)):\n${JSON.stringify([...byId.values()], null, 2)}`);
        for (const [model, recs] of collected.updated) opts.out(`${model} updates:\n${JSON.stringify(recs, null, 2)}`);
        for (const [model, recs] of collected.deleted) opts.out(`${model} deletes:\n${JSON.stringify(recs, null, 2)}`);
        if (collected.checkpoint) opts.out(`checkpoint: ${JSON.stringify(collected.checkpoint)}`);
        if (!res.ok)
            throw new CliError(
                'DRYRUN_FAILED',
                `${script.name} failed: [${res.error.type}] ${res.error.message}${res.error.payload === undefined ? '' : ` ${JSON.stringify(res.error.payload)}`}`
            );
        if (kind === 'action') opts.out(`output:\n${JSON.stringify(res.output, null, 2)}`);
    } finally {
        await pool.close();
    }
}
