// `switchboard deploy` (packages/cli, run as a child process) against a real server: the deployed scripts run
// (an auto-started sync fills the records cache, an action answers), destructive changes need consent, and a
// deploy the server refuses prints the server's error and exits non-zero.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Nango } from '@nangohq/node';
import { removeDir, type TestServer } from './support/server.ts';
import { makeProject, NUMBERS_SYNC, runCli, startNumbersServer, waitForRun } from './support/cli.ts';
import { sdkFailure } from './support/sdk.ts';

const KEY = 'numbers';
const CONN = 'conn-1';

const SYNC = NUMBERS_SYNC;

const ECHO = `import { createAction } from 'nango';
import * as z from 'zod';

const Input = z.object({ word: z.string() });
export default createAction({
    description: 'Echoes a word, or fails with an ActionError for "boom"',
    input: Input,
    output: z.object({ echoed: z.string() }),
    exec: async (nango, input) => {
        const { word } = Input.parse(input);
        if (word === 'boom') throw new nango.ActionError({ type: 'boom', word });
        return { echoed: word.toUpperCase() };
    }
});
`;

describe('switchboard deploy → server', () => {
    let server: TestServer;
    let nango: Nango;
    const projects: string[] = [];
    const project = (scripts: Record<string, string>) => {
        const dir = makeProject(scripts);
        projects.push(dir);
        return dir;
    };
    const deploy = (dir: string, extra: string[] = [], env: Record<string, string> = {}) =>
        runCli(['deploy', 'dev', '--dir', dir, '--host', server.url, ...extra], { SWITCHBOARD_SECRET_KEY: server.secretKey, ...env });
    const scriptNames = async () => {
        const config = (await nango.getScriptsConfig()) as Array<{
            providerConfigKey: string;
            syncs: Array<{ name: string }>;
            actions: Array<{ name: string }>;
        }>;
        const mine = config.find((c) => c.providerConfigKey === KEY);
        return { syncs: mine?.syncs.map((s) => s.name) ?? [], actions: mine?.actions.map((a) => a.name) ?? [] };
    };

    before(async () => {
        ({ server, nango } = await startNumbersServer(KEY, CONN));
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
        for (const p of projects) rmSync(p, { recursive: true, force: true });
    });

    it('deploys a compiled project: the auto-started sync fills the records cache, the action answers', async () => {
        const dir = project({ 'numbers/syncs/numbers.ts': SYNC, 'numbers/actions/echo.ts': ECHO });
        const since = Date.now();
        const res = await deploy(dir);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stdout, /newSyncs: numbers\/numbers/);
        assert.match(res.stdout, /newActions: numbers\/echo/);
        assert.match(res.stdout, /Deployed 2 script\(s\) to http:\/\/127\.0\.0\.1:\d+/);
        assert.doesNotMatch(res.stdout + res.stderr, new RegExp(server.secretKey), 'the key is never printed');
        assert.deepEqual(await scriptNames(), { syncs: ['numbers'], actions: ['echo'] });

        const s = await waitForRun(server, KEY, CONN, 'numbers', since);
        assert.deepEqual(s.latestResult, { Num: { added: 25, updated: 0, deleted: 0 } });
        const records = await nango.listRecords<{ id: string; n: number }>({ providerConfigKey: KEY, connectionId: CONN, model: 'Num', limit: 100 });
        assert.deepEqual(
            records.records.map((r) => r.n).sort((a, b) => a - b),
            Array.from({ length: 25 }, (_, i) => i)
        );

        assert.deepEqual(await nango.triggerAction(KEY, CONN, 'echo', { word: 'hi' }), { echoed: 'HI' });
        const boom = await sdkFailure(nango.triggerAction(KEY, CONN, 'echo', { word: 'boom' }));
        assert.equal(boom.status, 500);
        assert.equal(boom.data.error.code, 'action_script_failure');
        assert.deepEqual(boom.data.error.payload, { type: 'boom', word: 'boom' });

        // Deploying the same project again changes nothing and is not destructive.
        const again = await deploy(dir);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /updatedSyncs: numbers\/numbers|no changes/);
    });

    it('refuses to delete a deployed script without consent, deletes it with NANGO_DEPLOY_AUTO_CONFIRM=true', async () => {
        const syncOnly = project({ 'numbers/syncs/numbers.ts': SYNC });
        const refused = await deploy(syncOnly);
        assert.equal(refused.code, 1, `${refused.stdout}\n${refused.stderr}`);
        assert.match(refused.stdout, /deletedActions: numbers\/echo/);
        assert.match(refused.stderr, /error \[DESTRUCTIVE_REFUSED\]/);
        assert.deepEqual(await scriptNames(), { syncs: ['numbers'], actions: ['echo'] }, 'nothing changed');

        const confirmed = await deploy(syncOnly, [], { NANGO_DEPLOY_AUTO_CONFIRM: 'true' });
        assert.equal(confirmed.code, 0, confirmed.stderr);
        assert.deepEqual(await scriptNames(), { syncs: ['numbers'], actions: [] });
        const gone = await sdkFailure(nango.triggerAction(KEY, CONN, 'echo', { word: 'hi' }));
        assert.equal(gone.status, 404);
    });

    it('a deploy the server refuses prints its error and exits non-zero', async () => {
        // The integration key is the folder name: "ghost" is no integration on this server.
        const unknown = await deploy(project({ 'ghost/actions/echo.ts': ECHO }));
        assert.equal(unknown.code, 1);
        assert.equal(unknown.stdout, '', 'nothing is deployed, no plan is printed');
        assert.match(
            unknown.stderr,
            /^error \[SERVER_ERROR\] POST \/sync\/deploy\/confirmation answered 400: \[unknown_provider_config\] Integration "ghost" does not exist/
        );

        const badKey = await runCli(['deploy', '--dir', project({ 'numbers/actions/echo.ts': ECHO }), '--host', server.url], {
            SWITCHBOARD_SECRET_KEY: 'not-the-key'
        });
        assert.equal(badKey.code, 1);
        assert.match(badKey.stderr, /^error \[SERVER_ERROR\] POST \/sync\/deploy\/confirmation answered 401: \[unknown_account\] Authentication failed/);

        const down = await runCli(['deploy', '--dir', project({ 'numbers/actions/echo.ts': ECHO }), '--host', 'http://127.0.0.1:9'], {
            SWITCHBOARD_SECRET_KEY: server.secretKey
        });
        assert.equal(down.code, 1);
        assert.match(down.stderr, /error \[SERVER_UNREACHABLE\]/);
        assert.deepEqual(await scriptNames(), { syncs: ['numbers'], actions: [] }, 'refused deploys changed nothing');
    });
});
