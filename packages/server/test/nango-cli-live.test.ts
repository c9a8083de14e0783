// The official `nango deploy` (the npm package `nango`, installed by .ci/run) run live against Switchboard, where
// nango-cli-compat.test.ts only replays a recording: a wrong key deploys nothing, a zero-YAML project deploys and its
// official bundles run (the sync fills the records cache, the action answers), a second deploy changes nothing, and
// replacing a sync that has connections needs --allow-destructive.
// The CLI gets no network besides loopback (support/loopback-only.ts). Skipped, with the reason, when not installed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Nango } from '@nangohq/node';
import { removeDir, type TestServer } from './support/server.ts';
import { NUMBERS_SYNC, startNumbersServer, waitForRun } from './support/cli.ts';
import { LOOPBACK_ONLY_MARK } from './support/loopback-only.ts';
import { findNangoCli, makeNangoProject, runNangoCli, type NangoCli } from './support/nango-cli.ts';

const KEY = 'numbers';
const CONN = 'conn-1';

const SYNC = NUMBERS_SYNC;

const ECHO = `import { createAction } from 'nango';
import * as z from 'zod';

export default createAction({
    description: 'Echoes a word in capitals',
    input: z.object({ word: z.string() }),
    output: z.object({ echoed: z.string() }),
    exec: async (_nango, input) => {
        return { echoed: input.word.toUpperCase() };
    }
});
`;

const found = findNangoCli(process.env);

describe('official nango CLI deploy, live', { skip: 'missing' in found ? found.missing : false }, () => {
    const cli = found as NangoCli;
    let server: TestServer;
    let nango: Nango;
    let project: string;
    const deploy = (secretKey: string) =>
        runNangoCli(cli, project, ['deploy', 'dev'], { NANGO_HOSTPORT: server.url, NANGO_SECRET_KEY_DEV: secretKey, NANGO_DEPLOY_AUTO_CONFIRM: 'true' });
    type Script = { name: string; runs?: string | null; auto_start?: boolean; last_deployed?: unknown };
    const scriptsConfig = async () => (await nango.getScriptsConfig()) as Array<{ providerConfigKey: string; syncs: Script[]; actions: Script[] }>;

    before(async () => {
        ({ server, nango } = await startNumbersServer(KEY, CONN));
        project = makeNangoProject(cli, { 'numbers/syncs/numbers.ts': SYNC, 'numbers/actions/echo.ts': ECHO });
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
        if (project) rmSync(project, { recursive: true, force: true });
    });

    it('the loopback guard the CLI runs under refuses the npm registry', () => {
        // Without this, "no refused connection" below would also hold for a guard that catches nothing.
        const probe = `fetch('https://registry.npmjs.org/nango').then(() => process.exit(0), () => process.exit(3));`;
        let out = '';
        let code = 0;
        try {
            execFileSync(process.execPath, ['--import', new URL('./support/loopback-only.ts', import.meta.url).pathname, '-e', probe], {
                encoding: 'utf8',
                stdio: 'pipe',
                timeout: 10_000
            });
        } catch (err) {
            const e = err as { status: number; stderr: string };
            code = e.status;
            out = e.stderr;
        }
        assert.equal(code, 3);
        assert.match(out, new RegExp(`${LOOPBACK_ONLY_MARK} registry\\.npmjs\\.org:443`));
    });

    it("a wrong secret key: exit 11 (DeployError), the server's 401 printed, nothing deployed", async () => {
        const res = await deploy('not-the-key');
        assert.equal(res.code, 11, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, /^Authentication failed: the secret key is unknown \(unknown_account\)$/m);
        assert.equal(res.stderr, '', 'no refused connection, no warning');
        assert.deepEqual(await scriptsConfig(), []);
    });

    it('deploys a zero-YAML project: both scripts listed, the official bundles run on Switchboard', async () => {
        const since = Date.now();
        const res = await deploy(server.secretKey);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, / \+ numbers → numbers +\(1 impacted connections\)$/m);
        assert.match(res.stdout, /^ \+ numbers → echo$/m);
        assert.match(res.stdout, /^✓ Deployed$/m);
        assert.equal(res.stderr, '', 'no refused connection, no warning');

        const config = await scriptsConfig();
        assert.deepEqual(
            config.map((c) => c.providerConfigKey),
            [KEY]
        );
        assert.deepEqual(
            config[0]!.syncs.map((s) => [s.name, s.runs, s.auto_start]),
            [['numbers', 'every hour', true]]
        );
        assert.deepEqual(
            config[0]!.actions.map((a) => a.name),
            ['echo']
        );

        const s = await waitForRun(server, KEY, CONN, 'numbers', since);
        assert.deepEqual(s.latestResult, { Num: { added: 25, updated: 0, deleted: 0 } });
        assert.deepEqual(await nango.triggerAction(KEY, CONN, 'echo', { word: 'hi' }), { echoed: 'HI' });
    });

    it('a second identical deploy exits 0 and changes nothing', async () => {
        // last_deployed moves (as on Nango); everything else must be what the first deploy stored.
        const withoutDeployTime = (config: Awaited<ReturnType<typeof scriptsConfig>>) =>
            config.map((c) => ({
                ...c,
                syncs: c.syncs.map(({ last_deployed: _, ...rest }) => rest),
                actions: c.actions.map(({ last_deployed: _, ...rest }) => rest)
            }));
        const before = withoutDeployTime(await scriptsConfig());
        const res = await deploy(server.secretKey);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, /^ {2}Only updates$/m);
        assert.match(res.stdout, /Syncs +to create \[ 0 \] +to update \[ 1 \] +to delete \[ 0 \]/);
        assert.match(res.stdout, /Actions +to create \[ 0 \] +to update \[ 1 \] +to delete \[ 0 \]/);
        assert.deepEqual(withoutDeployTime(await scriptsConfig()), before);
        const records = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Num', limit: 100 });
        assert.equal(records.records.length, 25);
    });

    it('replacing the sync is refused without --allow-destructive, because it has a connection', async () => {
        // numbers-v2 keeps the model Num, so deletedModels is empty: the CLI stops only because the deleted sync
        // reports connections > 0. Regression: our plan had no `connections`, the CLI printed "undefined impacted
        // connections" and deleted without asking. Under CI=true it refuses instead of asking.
        const replaced = makeNangoProject(cli, { 'numbers/syncs/numbers-v2.ts': SYNC, 'numbers/actions/echo.ts': ECHO });
        const run = (extra: string[]) =>
            runNangoCli(cli, replaced, ['deploy', 'dev', ...extra], {
                NANGO_HOSTPORT: server.url,
                NANGO_SECRET_KEY_DEV: server.secretKey,
                NANGO_DEPLOY_AUTO_CONFIRM: 'true'
            });
        try {
            const refused = await run([]);
            assert.equal(refused.code, 11, `${refused.stdout}\n${refused.stderr}`);
            assert.match(refused.stdout, / - numbers → numbers +\(1 impacted connections\)$/m);
            assert.doesNotMatch(refused.stdout, /models have been removed/);
            assert.match(refused.stdout, /were not deployed/);
            assert.deepEqual(
                (await scriptsConfig())[0]!.syncs.map((s) => s.name),
                ['numbers'],
                'nothing deleted'
            );

            const allowed = await run(['--allow-destructive']);
            assert.equal(allowed.code, 0, `${allowed.stdout}\n${allowed.stderr}`);
            const config = await scriptsConfig();
            assert.deepEqual([config[0]!.syncs.map((s) => s.name), config[0]!.actions.map((a) => a.name)], [['numbers-v2'], ['echo']]);
        } finally {
            rmSync(replaced, { recursive: true, force: true });
        }
    });
});
