// `switchboard dryrun` (packages/cli, run as a child process) against a real server and a loopback provider API:
// HTTP goes through the server's /proxy, records and the checkpoint are printed and never written, an action's
// output is printed, and a missing script, an unknown connection or a script that throws exit non-zero.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { makeProject, runCli } from './support/cli.ts';
import { startItemsApi, type ItemsApi } from './support/items-api.ts';

const KEY = 'items';
const CONN = 'tenant-1';

const SYNC = `import { createSync } from 'nango';
import * as z from 'zod';

export default createSync({
    description: 'Items from the loopback API, two per page, a checkpoint after each page',
    version: '1.0.0',
    frequency: 'every hour',
    autoStart: false,
    models: { Item: z.object({ id: z.string(), title: z.string(), version: z.number() }) },
    checkpoint: z.object({ cursor: z.string() }),
    exec: async (nango) => {
        const saved = await nango.getCheckpoint();
        let cursor = saved ? saved.cursor : '';
        for (;;) {
            const res = await nango.get({ endpoint: '/items', params: { cursor, limit: 2 } });
            await nango.log('page', { cursor, count: res.data.items.length });
            await nango.batchSave(res.data.items, 'Item');
            if (!res.data.next) break;
            cursor = res.data.next;
            await nango.saveCheckpoint({ cursor });
        }
    }
});
`;

const GET_ITEM = `import { createAction } from 'nango';
import * as z from 'zod';

const Input = z.object({ id: z.string() });
export default createAction({
    description: 'One item by id; an id the API does not know is a not_found ActionError',
    input: Input,
    output: z.object({ id: z.string(), title: z.string() }),
    exec: async (nango, input) => {
        const { id } = Input.parse(input);
        try {
            const res = await nango.get({ endpoint: '/items/' + id });
            return { id: res.data.id, title: res.data.title };
        } catch (err: any) {
            if (err.response?.status === 404) throw new nango.ActionError({ type: 'not_found', id, upstream: err.response.data });
            throw err;
        }
    }
});
`;

// issue #11 item 7: uncontrolledFetch in a dryrun is a plain fetch from the developer's machine.
const FETCH_URL = `import { createAction } from 'nango';
import * as z from 'zod';

export default createAction({
    description: 'Fetches a URL without the connection credentials',
    input: z.object({ url: z.string() }),
    output: z.object({ status: z.number(), type: z.string().nullable() }),
    exec: async (nango, input) => {
        const res = await nango.uncontrolledFetch({ url: new URL(input.url) });
        return { status: res.status, type: res.headers.get('content-type') };
    }
});
`;

const EXPLODE = `import { createAction } from 'nango';
import * as z from 'zod';

export default createAction({
    description: 'Throws before any HTTP call',
    input: z.object({}),
    output: z.object({ ok: z.boolean() }),
    exec: async () => {
        throw new Error('kaboom: the script gave up');
    }
});
`;

describe('switchboard dryrun → server', () => {
    let server: TestServer;
    let items: ItemsApi;
    let nango: Nango;
    let dir: string;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    const dryrun = (args: string[]) => runCli(['dryrun', ...args, '--dir', dir, '--host', server.url], { SWITCHBOARD_SECRET_KEY: server.secretKey });
    /** The `<model> (<n> record(s)):` block dryrun prints, parsed back. */
    const printed = (stdout: string, model: string): Array<Record<string, unknown>> => {
        const m = new RegExp(`^${model} \\((\\d+) record\\(s\\)\\):\\n(\\[[\\s\\S]*?\\n\\])$`, 'm').exec(stdout);
        assert.ok(m, `no ${model} block in:\n${stdout}`);
        const records = JSON.parse(m[2]!) as Array<Record<string, unknown>>;
        assert.equal(records.length, Number(m[1]));
        return records;
    };
    const itemPages = () => items.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/items?'));

    before(async () => {
        items = await startItemsApi(apiKey);
        items.setCount(5);
        const providers = writeProvidersFile(
            `items-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${items.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
        );
        server = await startServer({ SWITCHBOARD_PROVIDERS: providers });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'items-api', unique_key: KEY });
        const imported = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: KEY, connection_id: CONN, credentials: { type: 'API_KEY', apiKey } })
        });
        assert.equal(imported.status, 201);
        dir = makeProject({
            'items/syncs/items.ts': SYNC,
            'items/actions/get-item.ts': GET_ITEM,
            'items/actions/explode.ts': EXPLODE,
            'items/actions/fetch-url.ts': FETCH_URL
        });
    });
    after(async () => {
        await server?.stop();
        await items?.close();
        if (server) removeDir(server.dataDir);
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('runs a sync through the server proxy, prints its records and checkpoint, writes nothing', async () => {
        const res = await dryrun(['items', CONN]);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.deepEqual(
            printed(res.stdout, 'Item').map((r) => r['id']),
            ['item-0', 'item-1', 'item-2', 'item-3', 'item-4']
        );
        assert.deepEqual(printed(res.stdout, 'Item')[0], { id: 'item-0', title: 'Item 0', version: 1 });
        assert.match(res.stdout, /^\[info\] page \{"cursor":"","count":2\}$/m, 'script logs are printed');
        assert.match(res.stdout, /^checkpoint: \{"cursor":"4"\}$/m, 'the last checkpoint saved');
        assert.equal(res.stderr, '');

        // Each page went through /proxy: the upstream saw the connection's key, never the server's secret key.
        assert.deepEqual(
            itemPages().map((r) => new URL(r.url, 'http://x').searchParams.get('cursor')),
            ['', '2', '4']
        );
        for (const r of itemPages()) assert.equal(r.headers.authorization, `Bearer ${apiKey}`);

        const cached = await nango.listRecords({ providerConfigKey: KEY, connectionId: CONN, model: 'Item' });
        assert.deepEqual(cached.records, [], 'a dryrun writes nothing to the records cache');
    });

    it('--checkpoint seeds the checkpoint the sync resumes from', async () => {
        const before = itemPages().length;
        const res = await dryrun(['items', CONN, '--checkpoint', '{"cursor":"3"}']);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.deepEqual(
            printed(res.stdout, 'Item').map((r) => r['id']),
            ['item-3', 'item-4']
        );
        assert.deepEqual(
            itemPages()
                .slice(before)
                .map((r) => new URL(r.url, 'http://x').searchParams.get('cursor')),
            ['3']
        );
        assert.match(res.stdout, /^checkpoint: \{"cursor":"3"\}$/m, 'a one-page run leaves the seeded checkpoint');

        const notJson = await dryrun(['items', CONN, '--checkpoint', '{"cursor":']);
        assert.equal(notJson.code, 1);
        assert.match(notJson.stderr, /^error \[BAD_ARGS\] --checkpoint is not valid JSON$/m);
        // Checkpoint values are flat (string, number, boolean), as on the server.
        const nested = await dryrun(['items', CONN, '--checkpoint', '{"cursor":{"page":3}}']);
        assert.equal(nested.code, 1);
        assert.match(nested.stderr, /^error \[BAD_ARGS\] --checkpoint: cursor: /m);
    });

    it('runs an action with --input (inline or @file) and prints its output', async () => {
        const res = await dryrun(['get-item', CONN, '--input', '{"id":"item-2"}']);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        assert.equal(res.stdout, `output:\n${JSON.stringify({ id: 'item-2', title: 'Item 2' }, null, 2)}\n`);

        const file = join(dir, 'input.json');
        writeFileSync(file, '{"id":"item-4"}');
        const fromFile = await dryrun(['get-item', CONN, '--input', `@${file}`]);
        assert.equal(fromFile.code, 0, fromFile.stderr);
        assert.match(fromFile.stdout, /"title": "Item 4"/);
        const missing = await dryrun(['get-item', CONN, '--input', `@${join(dir, 'nope.json')}`]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /^error \[BAD_ARGS\] --input: cannot read .*nope\.json \(ENOENT\)$/m);
    });

    it('an upstream 404 reaches the script as an axios error with `response`, as on the server', async () => {
        // Regression: the dryrun host threw on status >= 400, which the runner reports as a network error
        // without `response`, so a script branching on err.response.status behaved differently in a dryrun.
        const res = await dryrun(['get-item', CONN, '--input', '{"id":"item-99"}']);
        assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
        const payload = { type: 'not_found', id: 'item-99', upstream: { error: 'not_found', path: '/items/item-99' } };
        assert.equal(res.stderr, `error [DRYRUN_FAILED] get-item failed: [action_script_runtime_error] Action error ${JSON.stringify(payload)}\n`);
    });

    it('uncontrolledFetch answers a fetch Response and sends none of the connection credentials (issue #11 item 7)', async () => {
        const before = items.requests.length;
        const res = await dryrun(['fetch-url', CONN, '--input', JSON.stringify({ url: `${items.url}/items/item-1` })]);
        assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
        const output = JSON.parse(res.stdout.replace(/^output:\n/, '')) as { status: number };
        assert.equal(items.requests.length, before + 1);
        assert.equal(items.requests.at(-1)?.headers.authorization, undefined, 'no connection credential was sent');
        assert.equal(output.status, 401, 'the items API refuses a request without the key');
    });

    it('an unknown script name exits 1 naming it, before anything runs', async () => {
        const before = items.requests.length;
        const res = await dryrun(['no-such-script', CONN]);
        assert.equal(res.code, 1);
        assert.equal(res.stdout, '');
        assert.match(res.stderr, /^error \[SCRIPT_NOT_FOUND\] no script named "no-such-script"$/m);
        assert.equal(items.requests.length, before);
    });

    it('an unknown connection id (or a wrong key, or no server) exits 1 before the script runs', async () => {
        const before = items.requests.length;
        for (const name of ['items', 'explode']) {
            const res = await dryrun([name, 'no-such-connection']);
            assert.equal(res.code, 1, `${name}: ${res.stdout}\n${res.stderr}`);
            assert.equal(res.stdout, '');
            assert.match(
                res.stderr,
                /^error \[CONNECTION_NOT_FOUND\] no connection "no-such-connection" for integration "items" on http:\/\/127\.0\.0\.1:\d+$/m
            );
        }
        assert.equal(items.requests.length, before);

        const badKey = await runCli(['dryrun', 'explode', CONN, '--dir', dir, '--host', server.url], { SWITCHBOARD_SECRET_KEY: 'not-the-key' });
        assert.equal(badKey.code, 1);
        assert.match(badKey.stderr, /^error \[SERVER_ERROR\] GET \/connection\/tenant-1 answered 401: \[unknown_account\] /m);
        const down = await runCli(['dryrun', 'explode', CONN, '--dir', dir, '--host', 'http://127.0.0.1:9'], { SWITCHBOARD_SECRET_KEY: server.secretKey });
        assert.equal(down.code, 1);
        assert.match(down.stderr, /^error \[SERVER_UNREACHABLE\] GET http:\/\/127\.0\.0\.1:9\/connection\/tenant-1 failed: /m);
    });

    it('a script that throws exits 1 with its error', async () => {
        const res = await dryrun(['explode', CONN]);
        assert.equal(res.code, 1);
        assert.equal(res.stdout, '');
        assert.match(
            res.stderr,
            /^error \[DRYRUN_FAILED\] explode failed: \[script_internal_error\] Error: kaboom: the script gave up \{"name":"Error","message":"kaboom: the script gave up","stack":\["at Object\.exec \(explode\.cjs:\d+:\d+\)"\]\}$/m
        );
    });
});
