import { parseArgs } from 'node:util';
import * as z from 'zod';
import { CliError } from './errors.ts';
import type { EnvCommand } from './env/command.ts';
import type { ApplyCommand } from './apply/command.ts';

/**
 * CLI arguments with node:util parseArgs (no dependency; three commands with a handful of flags) validated by zod.
 * The environment is passed in, so this module is the only place that reads configuration.
 */
export const USAGE = `usage:
  switchboard compile [--dir <project>]
  switchboard deploy [env] [--dir <project>] [--integration <key>] [--sync <name> | --action <name>]
                     [--allow-destructive] [--version <v>] [--host <url>] [--debug]
  switchboard dryrun <name> <connection_id> [--dir <project>] [--integration <key>] [--input <json|@file>]
                     [--metadata <json|@file>] [--checkpoint <json|@file>] [-e <env>] [--host <url>]
  switchboard env list | create <name> | rename <name> <new-name> | delete <name> [--json] [--host <url>]
  switchboard plan -f <file> [--prune] [--host <url>]
  switchboard apply -f <file> [--prune] [--yes] [--host <url>]      (docs/config-file.md)
  switchboard env keys <name> | key-add <name> [--label <l>] [--expires-in <s>]
                     | key-rotate <name> [--overlap <s>] [--label <l>] | key-revoke <name> <key-id>
env: SWITCHBOARD_HOST | NANGO_HOSTPORT (default http://localhost:3003);
     SWITCHBOARD_SECRET_KEY | NANGO_SECRET_KEY_<ENV> | NANGO_SECRET_KEY; NANGO_DEPLOY_AUTO_CONFIRM=true;
     SWITCHBOARD_ADMIN_KEY (env commands; plan/apply, else a secret key for a one-environment file)`;

const options = {
    dir: { type: 'string', default: '.' },
    integration: { type: 'string' },
    sync: { type: 'string' },
    action: { type: 'string' },
    'allow-destructive': { type: 'boolean', default: false },
    version: { type: 'string' },
    host: { type: 'string' },
    debug: { type: 'boolean', default: false },
    input: { type: 'string', short: 'i' },
    metadata: { type: 'string', short: 'm' },
    checkpoint: { type: 'string', short: 'c' },
    environment: { type: 'string', short: 'e' },
    label: { type: 'string' },
    'expires-in': { type: 'string' },
    overlap: { type: 'string' },
    json: { type: 'boolean', default: false },
    file: { type: 'string', short: 'f' },
    prune: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    help: { type: 'boolean', short: 'h', default: false }
} as const;

const envSchema = z.object({
    SWITCHBOARD_HOST: z.url().optional(),
    NANGO_HOSTPORT: z.url().optional(),
    SWITCHBOARD_SECRET_KEY: z.string().min(1).optional(),
    NANGO_SECRET_KEY: z.string().min(1).optional(),
    SWITCHBOARD_ADMIN_KEY: z.string().min(1).optional(),
    NANGO_DEPLOY_AUTO_CONFIRM: z.string().optional()
});

export type Command =
    | { command: 'help' }
    | ({ command: 'env' } & EnvCommand)
    | ({ command: 'config' } & ApplyCommand)
    | { command: 'compile'; dir: string }
    | {
          command: 'deploy';
          dir: string;
          env: string;
          integration?: string | undefined;
          sync?: string | undefined;
          action?: string | undefined;
          version?: string | undefined;
          allowDestructive: boolean;
          debug: boolean;
          host: string;
          secretKey: string;
      }
    | {
          command: 'dryrun';
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
      };

/** Parses argv (without node and script) and the environment into one validated command. */
export function parseCommand(argv: string[], env: Record<string, string | undefined>): Command {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (err) {
        throw new CliError('BAD_ARGS', `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    }
    const { values: v, positionals } = parsed;
    const [command, ...rest] = positionals;
    if (v.help || !command) return { command: 'help' };
    const e = envSchema.safeParse(env);
    if (!e.success) throw new CliError('BAD_ARGS', `invalid environment: ${e.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const host = v.host ?? e.data.SWITCHBOARD_HOST ?? e.data.NANGO_HOSTPORT ?? 'http://localhost:3003';
    const secretFor = (envName: string): string => {
        const key = e.data.SWITCHBOARD_SECRET_KEY ?? env[`NANGO_SECRET_KEY_${envName.toUpperCase()}`] ?? e.data.NANGO_SECRET_KEY;
        if (!key)
            throw new CliError(
                'MISSING_SECRET_KEY',
                `no secret key: set SWITCHBOARD_SECRET_KEY, NANGO_SECRET_KEY_${envName.toUpperCase()} or NANGO_SECRET_KEY`
            );
        return key;
    };
    if (command === 'compile') {
        if (rest.length > 0) throw new CliError('BAD_ARGS', `compile takes no positional arguments\n${USAGE}`);
        return { command, dir: v.dir };
    }
    if (command === 'deploy') {
        if (rest.length > 1) throw new CliError('BAD_ARGS', `deploy takes at most one positional argument (the environment)\n${USAGE}`);
        if (v.sync && v.action) throw new CliError('BAD_ARGS', '--sync and --action cannot be combined');
        const envName = rest[0] ?? v.environment ?? 'dev';
        const allowDestructive = v['allow-destructive'] || e.data.NANGO_DEPLOY_AUTO_CONFIRM === 'true';
        return {
            command,
            dir: v.dir,
            env: envName,
            integration: v.integration,
            sync: v.sync,
            action: v.action,
            version: v.version,
            allowDestructive,
            debug: v.debug,
            host,
            secretKey: secretFor(envName)
        };
    }
    if (command === 'dryrun') {
        const [name, connectionId] = rest;
        if (!name || !connectionId || rest.length > 2) throw new CliError('BAD_ARGS', `dryrun needs <name> <connection_id>\n${USAGE}`);
        const envName = v.environment ?? 'dev';
        return {
            command,
            dir: v.dir,
            env: envName,
            name,
            connectionId,
            integration: v.integration,
            input: v.input,
            metadata: v.metadata,
            checkpoint: v.checkpoint,
            host,
            secretKey: secretFor(envName)
        };
    }
    if (command === 'plan' || command === 'apply') {
        if (rest.length > 0) throw new CliError('BAD_ARGS', `${command} takes no positional arguments (the file goes in -f)\n${USAGE}`);
        if (!v.file) throw new CliError('BAD_ARGS', `${command} needs -f <file>\n${USAGE}`);
        const adminKey = e.data.SWITCHBOARD_ADMIN_KEY;
        const secretKey = e.data.SWITCHBOARD_SECRET_KEY ?? e.data.NANGO_SECRET_KEY;
        if (!adminKey && !secretKey)
            throw new CliError(
                'MISSING_ADMIN_KEY',
                'no key: set SWITCHBOARD_ADMIN_KEY (any environment), or SWITCHBOARD_SECRET_KEY for a file naming one environment'
            );
        return {
            command: 'config',
            mode: command,
            file: v.file,
            prune: v.prune,
            yes: v.yes,
            host,
            auth: adminKey ? { kind: 'admin', key: adminKey } : { kind: 'secret', key: secretKey! },
            env
        };
    }
    if (command === 'env') return envCommandOf(rest, v, host, e.data.SWITCHBOARD_ADMIN_KEY);
    throw new CliError('BAD_ARGS', `unknown command "${command}"\n${USAGE}`);
}

// How many positional arguments each `env` action takes after the action itself.
const envArity: Record<EnvCommand['action'], number> = {
    list: 0,
    create: 1,
    rename: 2,
    delete: 1,
    keys: 1,
    'key-add': 1,
    'key-rotate': 1,
    'key-revoke': 2
};

const seconds = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d{1,9}$/.test(value)) throw new CliError('BAD_ARGS', `--${flag} must be a whole number of seconds`);
    return Number(value);
};

function envCommandOf(
    rest: string[],
    v: { label?: string | undefined; 'expires-in'?: string | undefined; overlap?: string | undefined; json: boolean },
    host: string,
    adminKey: string | undefined
): { command: 'env' } & EnvCommand {
    const [action, ...args] = rest;
    if (!action || !(action in envArity)) throw new CliError('BAD_ARGS', `env needs an action: ${Object.keys(envArity).join(', ')}\n${USAGE}`);
    const act = action as EnvCommand['action'];
    if (args.length !== envArity[act]) throw new CliError('BAD_ARGS', `env ${act} takes ${envArity[act]} argument(s)\n${USAGE}`);
    if (!adminKey) throw new CliError('MISSING_ADMIN_KEY', "no admin key: set SWITCHBOARD_ADMIN_KEY (printed once at the server's first start)");
    return {
        command: 'env',
        action: act,
        args,
        label: v.label,
        seconds: act === 'key-add' ? seconds('expires-in', v['expires-in']) : seconds('overlap', v.overlap),
        json: v.json,
        host,
        adminKey
    };
}
