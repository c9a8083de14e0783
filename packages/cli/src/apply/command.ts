import {
    apply,
    BrokerClient,
    BrokerError,
    ConfigFileError,
    destructiveActions,
    formatPlan,
    loadConfigFile,
    plan,
    readCurrent,
    formatIssue,
    PlanOutdated,
    WrongEnvironment,
    type BrokerAuth,
    type LoadedConfig
} from '@switchboard/apply';
import { CliError, CliErrors } from '../errors.ts';
import { CLI_USER_AGENT } from '../server-client.ts';

/** `switchboard plan|apply -f <file>`: the config file (docs/config-file.md) against a running broker. */
export interface ApplyCommand {
    mode: 'plan' | 'apply';
    file: string;
    prune: boolean;
    yes: boolean;
    host: string;
    /** The admin key (every environment the file names) or one environment's secret key. */
    auth: BrokerAuth;
    /** The environment variables `{ fromEnv }` values read. */
    env: Record<string, string | undefined>;
}

/** Asks the operator a question on the terminal; undefined when there is none (no TTY, tests). */
export type Ask = (question: string) => Promise<string>;

function load(cmd: ApplyCommand): LoadedConfig {
    try {
        return loadConfigFile(cmd.file, { env: cmd.env });
    } catch (err) {
        if (err instanceof ConfigFileError) throw new CliErrors(err.issues.map((i) => new CliError('INVALID_CONFIG', formatIssue(i))));
        throw err;
    }
}

function brokerFailure(loaded: LoadedConfig, err: unknown): Error {
    if (err instanceof WrongEnvironment) return new CliError('WRONG_ENVIRONMENT', `${loaded.file}: ${err.message}`);
    if (err instanceof PlanOutdated) return new CliError('PLAN_OUTDATED', err.message);
    if (err instanceof BrokerError) {
        const message = `the broker refused (${err.code}): ${err.message}`;
        if (err.path) return new CliError('SERVER_ERROR', formatIssue(loaded.issueAt(err.path, message)));
        return new CliError('SERVER_ERROR', message);
    }
    if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError'))
        return new CliError('SERVER_UNREACHABLE', `cannot reach the broker: ${err.message}`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
}

/** Plans, prints the plan (never a secret), and with `apply` carries it out; destructive changes need consent. */
export async function applyCommand(cmd: ApplyCommand, out: (s: string) => void, ask?: Ask): Promise<void> {
    const loaded = load(cmd);
    const envs = Object.keys(loaded.desired.environments);
    if (cmd.auth.kind === 'secret' && envs.length !== 1)
        throw new CliError(
            'MISSING_ADMIN_KEY',
            `${cmd.file} names ${envs.length} environments; a secret key reaches only its own: set SWITCHBOARD_ADMIN_KEY to manage several`
        );
    const broker = new BrokerClient({ baseUrl: cmd.host, auth: cmd.auth, userAgent: CLI_USER_AGENT });
    try {
        const p = plan(loaded.desired, await readCurrent(broker, loaded.desired), { prune: cmd.prune });
        for (const line of formatPlan(p, { pruneHint: '--prune deletes them' })) out(line);
        if (cmd.mode === 'plan' || !p.actions.length) return;
        const destructive = destructiveActions(p);
        if (destructive.length && !cmd.yes) {
            const answer = ask
                ? await ask(`This deletes or replaces ${destructive.length} integration(s) and their connections. Type "yes" to go on: `)
                : undefined;
            if (answer?.trim() !== 'yes')
                throw new CliError(
                    'DESTRUCTIVE_REFUSED',
                    'nothing applied: the plan deletes or replaces integrations (listed above); confirm, or re-run with --yes'
                );
        }
        let done = 0;
        await apply(broker, p, { allowDestructive: true, onApplied: () => done++ });
        out(`Applied ${done} change(s).`);
    } catch (err) {
        throw brokerFailure(loaded, err);
    }
}
