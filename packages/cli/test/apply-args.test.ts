// `switchboard plan|apply -f` before it reaches a server: arguments, keys, and a file with errors (nothing is sent).
// Against a real server: packages/server/test/config-file.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cli, project } from './helpers.ts';

const GOOD = 'environments:\n  dev:\n    integrations:\n      gh:\n        provider: github\n';

test('plan and apply need -f and a key', async () => {
    const noFile = await cli(['plan'], { SWITCHBOARD_ADMIN_KEY: 'admin-key-0123456789' });
    assert.equal(noFile.code, 1);
    assert.match(noFile.err, /\[BAD_ARGS\] plan needs -f <file>/);
    const dir = project({ 'sb.yaml': GOOD });
    const noKey = await cli(['apply', '-f', `${dir}/sb.yaml`], {});
    assert.equal(noKey.code, 1);
    assert.match(noKey.err, /\[MISSING_ADMIN_KEY\] no key: set SWITCHBOARD_ADMIN_KEY/);
});

test('a file with errors names each line and field, and no request is made', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
        requests++;
        res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
        const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const dir = project({
            'sb.yaml': `${GOOD}        display_nam: GitHub\n        credentials: { type: OAUTH2, client_id: a, client_secret: { fromEnv: NOT_SET } }\n`
        });
        const res = await cli(['plan', '-f', `${dir}/sb.yaml`, '--host', host], { SWITCHBOARD_ADMIN_KEY: 'admin-key-0123456789' });
        assert.equal(res.code, 1);
        assert.match(
            res.err,
            /^error \[INVALID_CONFIG\] \S+sb\.yaml:7:\d+: environments\.dev\.integrations\.gh\.credentials\.client_secret: environment variable NOT_SET is not set$/m
        );
        // Both problems in one run, in file order, and nothing more about the value that could not be read.
        assert.match(res.err, /^error \[INVALID_CONFIG\] \S+sb\.yaml:6:9: environments\.dev\.integrations\.gh\.display_nam: unknown field$/m);
        assert.equal(res.err.split('\n').length, 2, res.err);
        assert.ok(res.err.indexOf('display_nam') < res.err.indexOf('NOT_SET'));
        const two = project({ 'sb.yaml': 'environments:\n  dev: {}\n  prod: {}\n' });
        const secretOnly = await cli(['plan', '-f', `${two}/sb.yaml`, '--host', host], { SWITCHBOARD_SECRET_KEY: 'sk-0123456789' });
        assert.match(secretOnly.err, /names 2 environments; a secret key reaches only its own/);
        assert.equal(requests, 0);
    } finally {
        server.close();
    }
});

test('an unreachable broker is SERVER_UNREACHABLE', async () => {
    const dir = project({ 'sb.yaml': GOOD });
    const res = await cli(['plan', '-f', `${dir}/sb.yaml`, '--host', 'http://127.0.0.1:9'], { SWITCHBOARD_ADMIN_KEY: 'admin-key-0123456789' });
    assert.equal(res.code, 1);
    assert.match(res.err, /\[SERVER_UNREACHABLE\] cannot reach the broker/);
});
