// The requests the official `nango deploy dev` (nango@0.71.10) sent, recorded once (packages/cli/test/fixtures),
// replayed in order against Switchboard: every answer must be what that CLI needs to exit 0, and the scripts land.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, removeDir, type TestServer } from './support/server.ts';
import { api, type Json } from './support/webhooks.ts';

const recording = JSON.parse(readFileSync(new URL('../../cli/test/fixtures/nango-cli-deploy-body.json', import.meta.url), 'utf8')) as {
    requests: Array<{ method: string; path: string; body: Json }>;
};

describe('official nango CLI deploy, replayed', () => {
    let server: TestServer;

    before(async () => {
        server = await startServer();
        const keys = new Set<string>();
        for (const r of recording.requests) for (const f of r.body?.flowConfigs ?? []) keys.add(f.providerConfigKey);
        for (const key of keys) {
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: key, provider: 'openai' })).status, 200);
            const conn = await api(server, 'POST', '/connections', {
                provider_config_key: key,
                connection_id: 'c1',
                credentials: { type: 'API_KEY', apiKey: 'sk' }
            });
            assert.equal(conn.status, 201, JSON.stringify(conn.body));
        }
    });

    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('answers telemetry, confirmation and deploy the way the CLI expects', async () => {
        const [telemetry, confirmation, deploy] = recording.requests;
        assert.equal(telemetry!.path, '/cli/telemetry');
        // The CLI ignores the telemetry answer; we have no such route.
        const t = await fetch(`${server.url}/cli/telemetry`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(telemetry!.body)
        });
        assert.equal(t.status, 404);

        const c = await api(server, 'POST', confirmation!.path, confirmation!.body, { 'user-agent': 'nango-cli/0.71.10' });
        assert.equal(c.status, 200, JSON.stringify(c.body));
        for (const k of [
            'newSyncs',
            'updatedSyncs',
            'deletedSyncs',
            'newActions',
            'updatedActions',
            'deletedActions',
            'newOnEventScripts',
            'updatedOnEventScripts',
            'deletedOnEventScripts',
            'deletedModels'
        ]) {
            assert.ok(Array.isArray(c.body[k]), `${k} is an array`);
        }
        const names = (confirmation!.body.flowConfigs as Json[]).map((f) => f.syncName).sort();
        assert.deepEqual([...c.body.newSyncs, ...c.body.newActions].map((x: Json) => x.name).sort(), names);
        // Sync items are SlimSyncs: the CLI prints `connections` and asks before deleting a sync that has some.
        assert.deepEqual(c.body.newSyncs, [{ name: 'events', providerConfigKey: 'demo', auto_start: true, connections: 1 }]);
        assert.deepEqual(c.body.newActions, [{ name: 'create-event', providerConfigKey: 'demo' }]);

        const d = await api(server, 'POST', deploy!.path, deploy!.body, { 'user-agent': 'nango-cli/0.71.10' });
        assert.equal(d.status, 200, JSON.stringify(d.body));
        assert.deepEqual((d.body as Json[]).map((x) => x.name).sort(), names);
        const config = (await api(server, 'GET', '/scripts/config')).body as Json[];
        assert.deepEqual(config.flatMap((e) => [...e.syncs, ...e.actions].map((x: Json) => x.name)).sort(), names);
        const sync = config.flatMap((e) => e.syncs)[0];
        assert.equal(sync.runs, 'every hour');
        assert.equal(sync.auto_start, true);

        // A second identical deploy reports updates, not additions.
        const again = await api(server, 'POST', confirmation!.path, confirmation!.body);
        assert.equal(again.body.newSyncs.length + again.body.newActions.length, 0);
    });
});
