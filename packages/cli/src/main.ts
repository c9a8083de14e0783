#!/usr/bin/env node
import { parseCommand, USAGE } from './args.ts';
import { compileProject } from './compile.ts';
import { deploy } from './deploy/command.ts';
import { dryrun } from './dryrun/command.ts';
import { envCommand } from './env/command.ts';
import { applyCommand, type Ask } from './apply/command.ts';
import { CliError, CliErrors } from './errors.ts';

/** Runs one CLI invocation; returns the exit code. Output goes through `out`/`err` so tests can capture it. */
export async function run(
    argv: string[],
    env: Record<string, string | undefined>,
    out: (s: string) => void,
    err: (s: string) => void,
    ask?: Ask
): Promise<number> {
    try {
        const cmd = parseCommand(argv, env);
        if (cmd.command === 'help') {
            out(USAGE);
        } else if (cmd.command === 'compile') {
            const result = await compileProject(cmd.dir);
            for (const s of result.scripts) out(`✓ ${s.providerConfigKey} ${s.type} ${s.name} → ${s.bundlePath}`);
            out(`Compiled ${result.scripts.length} script(s) (${result.format}); definitions in .nango/nango.json`);
        } else if (cmd.command === 'config') {
            await applyCommand(cmd, out, ask);
        } else if (cmd.command === 'env') {
            await envCommand(cmd, out);
        } else if (cmd.command === 'deploy') {
            await deploy({ ...cmd, target: { host: cmd.host, secretKey: cmd.secretKey }, out });
        } else {
            await dryrun({ ...cmd, out });
        }
        return 0;
    } catch (e) {
        if (e instanceof CliErrors) for (const x of e.errors) err(`error [${x.code}] ${x.message}`);
        else if (e instanceof CliError) err(`error [${e.code}] ${e.message}`);
        else err(`error ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return 1;
    }
}

/** A question on the terminal, when there is one (`apply` asks before deleting; without a TTY it needs --yes). */
async function askOnTerminal(question: string): Promise<string> {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
        return await rl.question(question);
    } finally {
        rl.close();
    }
}

if (import.meta.main) {
    process.exitCode = await run(
        process.argv.slice(2),
        process.env,
        (s) => console.log(s),
        (s) => console.error(s),
        process.stdin.isTTY ? askOnTerminal : undefined
    );
}
