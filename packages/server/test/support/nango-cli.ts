// The official `nango` CLI, installed by .ci/run outside the workspaces (about 220 MB, so not a devDependency),
// run as a child process against a test server with no network besides loopback.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProject, type CliResult } from './cli.ts';

/** Where .ci/run installs it (`npm install --prefix .ci/nango-cli nango@<version>`). */
const defaultPrefix = new URL('../../../../.ci/nango-cli', import.meta.url).pathname;
const loopbackOnly = new URL('./loopback-only.ts', import.meta.url).pathname;

export interface NangoCli {
    /** The install prefix: `<prefix>/node_modules/nango` is the CLI. */
    prefix: string;
    version: string;
}

/**
 * The CLI under SWITCHBOARD_TEST_NANGO_CLI (an install prefix; .ci/run sets it, so CI fails rather than skips
 * when the install is missing) or the default prefix; otherwise the reason a test should be skipped.
 */
export function findNangoCli(env: Record<string, string | undefined>): NangoCli | { missing: string } {
    const explicit = env['SWITCHBOARD_TEST_NANGO_CLI'];
    const prefix = explicit ?? defaultPrefix;
    const pkg = join(prefix, 'node_modules', 'nango', 'package.json');
    if (!existsSync(pkg)) {
        if (explicit) throw new Error(`SWITCHBOARD_TEST_NANGO_CLI=${explicit} but ${pkg} does not exist`);
        return { missing: `the official nango CLI is not installed in ${prefix} (.ci/run installs it; see docs/functions.md)` };
    }
    return { prefix, version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version };
}

/**
 * A zero-YAML project as `nango init` lays it out, its dependencies the CLI's own install (symlinked, so the
 * CLI's typecheck resolves `nango` and `zod` and its package.json check finds nothing to install).
 */
export function makeNangoProject(cli: NangoCli, scripts: Record<string, string>): string {
    const dir = makeProject(scripts);
    const example = JSON.parse(readFileSync(join(cli.prefix, 'node_modules', 'nango', 'example', 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>;
    };
    const pkg = { name: 'nango-integrations', private: true, type: 'module', devDependencies: { nango: cli.version, zod: example.devDependencies['zod'] } };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    symlinkSync(join(cli.prefix, 'node_modules'), join(dir, 'node_modules'), 'dir');
    return dir;
}

/**
 * Runs `nango <args>` in `cwd` with this Node and only the given variables: no telemetry, no upgrade check
 * against registry.npmjs.org, no `npm install` in the project, no prompt (the switches are in the CLI's --help
 * text and dist/index.js), a throwaway HOME for its state file, any non-loopback connection refused
 * (support/loopback-only.ts), killed after `timeoutMs`.
 */
export function runNangoCli(cli: NangoCli, cwd: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<CliResult> {
    const home = mkdtempSync(join(tmpdir(), 'sb-nango-home-'));
    const bin = join(cli.prefix, 'node_modules', 'nango', 'dist', 'index.js');
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [bin, ...args, '--no-interactive', '--no-dependency-update'],
            {
                cwd,
                encoding: 'utf8',
                timeout: timeoutMs,
                env: {
                    PATH: process.env['PATH'] ?? '',
                    HOME: home,
                    XDG_CONFIG_HOME: join(home, '.config'),
                    // In NODE_OPTIONS rather than argv, so a Node child the CLI might start is guarded too.
                    NODE_OPTIONS: `--import=${loopbackOnly}`,
                    NO_COLOR: '1',
                    // CI: a prompt (e.g. before a destructive deploy) becomes an error instead of waiting on stdin,
                    // and the upgrade check is skipped altogether (utils.js upgradeAction).
                    CI: 'true',
                    NANGO_CLI_TELEMETRY: 'false',
                    NANGO_CLI_UPGRADE_MODE: 'ignore',
                    NANGO_CLI_DEPENDENCY_UPDATE: 'false',
                    ...env
                }
            },
            (err, stdout, stderr) => {
                rmSync(home, { recursive: true, force: true });
                const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
                resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n[killed after ${timeoutMs} ms]` : stderr });
            }
        );
    });
}
