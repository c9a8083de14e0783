import { compileProject } from '../compile.ts';
import { CliError } from '../errors.ts';
import { deployBody, type DeploySelection } from './payload.ts';
import { formatConfirmation, isDestructive, parseConfirmation } from './client.ts';
import { callServer } from '../server-client.ts';

export interface DeployOptions extends DeploySelection {
    dir: string;
    allowDestructive: boolean;
    /** The server and the environment's secret key. */
    target: { host: string; secretKey: string };
    out: (line: string) => void;
}

/** compile → POST /sync/deploy/confirmation → (refuse destructive unless allowed) → POST /sync/deploy. */
export async function deploy(opts: DeployOptions): Promise<unknown> {
    const result = await compileProject(opts.dir);
    const bodies = deployBody(result, opts);
    const flows = bodies.deploy['flowConfigs'] as unknown[];
    const onEvents = bodies.deploy['onEventScriptsByProvider'] as unknown[];
    if (flows.length === 0 && onEvents.length === 0) throw new CliError('NOTHING_TO_DEPLOY', 'no script matches the given --integration/--sync/--action');
    const target = { host: opts.target.host, auth: { kind: 'secret', key: opts.target.secretKey } } as const;
    const confirmation = parseConfirmation(await callServer(target, 'POST', '/sync/deploy/confirmation', bodies.confirmation));
    opts.out(formatConfirmation(confirmation));
    if (isDestructive(confirmation) && !opts.allowDestructive) {
        throw new CliError(
            'DESTRUCTIVE_REFUSED',
            'this deploy deletes scripts or models (listed above); re-run with --allow-destructive or NANGO_DEPLOY_AUTO_CONFIRM=true'
        );
    }
    const deployed = await callServer(target, 'POST', '/sync/deploy', bodies.deploy);
    opts.out(`Deployed ${flows.length} script(s)${onEvents.length > 0 ? ' and on-event scripts' : ''} to ${opts.target.host}`);
    return deployed;
}
