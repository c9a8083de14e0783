import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cli, copyFixture } from './helpers.ts';

interface Recorded {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: any;
}
const EMPTY = {
    newSyncs: [],
    updatedSyncs: [],
    deletedSyncs: [],
    newActions: [],
    updatedActions: [],
    deletedActions: [],
    newOnEventScripts: [],
    updatedOnEventScripts: [],
    deletedOnEventScripts: [],
    deletedModels: []
};

/** A loopback stand-in for the server: records every request and answers from `reply`. */
async function recorder(reply: (path: string) => { status: number; body: unknown }): Promise<{ url: string; requests: Recorded[]; close: () => void }> {
    const requests: Recorded[] = [];
    const server = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
            requests.push({ method: req.method!, path: req.url!, headers: req.headers, body: text ? JSON.parse(text) : null });
            const r = reply(req.url!);
            res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

test('deploy: confirmation then deploy, with the §3.2 body field by field', async () => {
    const rec = await recorder((path) => ({ status: 200, body: path === '/sync/deploy/confirmation' ? EMPTY : [] }));
    try {
        const dir = copyFixture('zero-yaml');
        const res = await cli(['deploy', 'dev', '--dir', dir], { NANGO_HOSTPORT: rec.url, NANGO_SECRET_KEY_DEV: 'sk-dev-123' });
        assert.equal(res.code, 0, res.err);
        assert.doesNotMatch(res.out + res.err, /sk-dev-123/);
        assert.deepEqual(
            rec.requests.map((r) => `${r.method} ${r.path}`),
            ['POST /sync/deploy/confirmation', 'POST /sync/deploy']
        );
        const [confirm, deploy] = rec.requests as [Recorded, Recorded];
        assert.equal(deploy.headers.authorization, 'Bearer sk-dev-123');
        assert.equal(confirm.body.reconcile, false);
        assert.equal('nangoYamlBody' in confirm.body, false);
        const body = deploy.body;
        assert.deepEqual(Object.keys(body).sort(), [
            'debug',
            'deployMode',
            'flowConfigs',
            'nangoYamlBody',
            'onEventScriptsByProvider',
            'reconcile',
            'sdkVersion',
            'source'
        ]);
        assert.equal(body.reconcile, true);
        assert.equal(body.deployMode, 'all');
        assert.equal(body.debug, false);
        assert.equal(body.nangoYamlBody, '');
        assert.equal(body.sdkVersion, '0.1.0-zero');
        assert.equal(body.source, 'repo');
        const [sync, action] = body.flowConfigs;
        assert.equal(sync.type, 'sync');
        assert.equal(sync.syncName, 'events');
        assert.equal(sync.providerConfigKey, 'google-calendar');
        assert.deepEqual(sync.models, ['CalendarEvent']);
        assert.equal(sync.input, 'SyncMetadata_google_calendar_events');
        assert.equal(sync.runs, 'every 5 minutes');
        assert.equal(sync.auto_start, true);
        assert.equal(sync.track_deletes, false);
        assert.equal(sync.sync_type, 'full');
        assert.deepEqual(sync.webhookSubscriptions, []);
        assert.deepEqual(sync.endpoints, []);
        assert.deepEqual(sync.metadata, { description: 'Events of the connected calendar', scopes: ['https://www.googleapis.com/auth/calendar.readonly'] });
        assert.deepEqual(sync.attributes, {});
        assert.equal(sync.version, '1.0.0');
        assert.match(sync.fileBody.js, /module\.exports/);
        assert.match(sync.fileBody.ts, /createSync/);
        assert.deepEqual(Object.keys(sync.models_json_schema.definitions).sort(), ['CalendarEvent', 'SyncMetadata_google_calendar_events']);
        assert.deepEqual(sync.features, ['checkpoints']);
        assert.equal(action.type, 'action');
        assert.equal(action.runs, null);
        assert.deepEqual(action.models, ['ActionOutput_google_calendar_createevent']);
        assert.equal(action.input, 'ActionInput_google_calendar_createevent');
        assert.deepEqual(action.endpoints, [{ method: 'POST', path: '/events', group: 'Events' }]);
        assert.equal(action.track_deletes, false);
        assert.equal(action.version, '');
        assert.deepEqual(
            body.onEventScriptsByProvider.map((p: any) => [p.providerConfigKey, p.scripts.map((s: any) => [s.name, s.event])]),
            [['google-calendar', [['setup', 'post-connection-creation']]]]
        );
        // The fixture the server side tests against (bundle text trimmed).
        const trimmed = structuredClone(body);
        for (const f of [...trimmed.flowConfigs, ...trimmed.onEventScriptsByProvider.flatMap((p: any) => p.scripts)])
            f.fileBody = { js: `${f.fileBody.js.slice(0, 200)}…`, ts: `${f.fileBody.ts.slice(0, 200)}…` };
        if (process.env['UPDATE_FIXTURES'] === '1')
            writeFileSync(new URL('./fixtures/deploy-body.json', import.meta.url), `${JSON.stringify(trimmed, null, 2)}\n`);
    } finally {
        rec.close();
    }
});

test('deploy --sync --version: single mode, one flow, no on-events', async () => {
    const rec = await recorder((path) => ({ status: 200, body: path === '/sync/deploy/confirmation' ? EMPTY : [] }));
    try {
        const res = await cli(['deploy', '--dir', copyFixture('zero-yaml'), '--sync', 'events', '--version', '2.0.0', '--host', rec.url], {
            SWITCHBOARD_SECRET_KEY: 'k'
        });
        assert.equal(res.code, 0, res.err);
        const body = rec.requests[1]!.body;
        assert.equal(body.deployMode, 'single');
        assert.deepEqual(
            body.flowConfigs.map((f: any) => [f.syncName, f.version]),
            [['events', '2.0.0']]
        );
        assert.deepEqual(body.onEventScriptsByProvider, []);
    } finally {
        rec.close();
    }
});

test('deploy refuses destructive changes without --allow-destructive', async () => {
    const rec = await recorder((path) => ({
        status: 200,
        body:
            path === '/sync/deploy/confirmation'
                ? { ...EMPTY, deletedSyncs: [{ name: 'old', providerConfigKey: 'google-calendar' }], deletedModels: ['OldModel'] }
                : []
    }));
    try {
        const dir = copyFixture('zero-yaml');
        const refused = await cli(['deploy', '--dir', dir, '--host', rec.url], { NANGO_SECRET_KEY: 'k' });
        assert.equal(refused.code, 1);
        assert.match(refused.out, /deletedSyncs: google-calendar\/old/);
        assert.match(refused.out, /deletedModels: OldModel/);
        assert.match(refused.err, /\[DESTRUCTIVE_REFUSED\]/);
        assert.deepEqual(
            rec.requests.map((r) => r.path),
            ['/sync/deploy/confirmation']
        );
        const allowed = await cli(['deploy', '--dir', dir, '--host', rec.url], { NANGO_SECRET_KEY: 'k', NANGO_DEPLOY_AUTO_CONFIRM: 'true' });
        assert.equal(allowed.code, 0, allowed.err);
        assert.equal(rec.requests.at(-1)!.path, '/sync/deploy');
    } finally {
        rec.close();
    }
});

test('deploy prints the server error envelope', async () => {
    const rec = await recorder((path) =>
        path === '/sync/deploy/confirmation'
            ? { status: 200, body: EMPTY }
            : { status: 400, body: { error: { code: 'invalid_body', message: 'flowConfigs.0.runs: bad frequency' } } }
    );
    try {
        const res = await cli(['deploy', '--dir', copyFixture('zero-yaml'), '--host', rec.url], { NANGO_SECRET_KEY: 'k' });
        assert.equal(res.code, 1);
        assert.match(res.err, /error \[SERVER_ERROR\] POST \/sync\/deploy answered 400: \[invalid_body\] flowConfigs\.0\.runs: bad frequency/);
    } finally {
        rec.close();
    }
});

test('deploy without a secret key names the variables', async () => {
    const res = await cli(['deploy', 'prod', '--dir', '.'], {});
    assert.equal(res.code, 1);
    assert.match(res.err, /\[MISSING_SECRET_KEY\].*NANGO_SECRET_KEY_PROD/);
});
