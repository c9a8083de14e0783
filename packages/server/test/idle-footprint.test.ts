// The idle embedded default loads only what it runs (issue #13 item 1): the MCP SDK is loaded by the first /mcp
// request and OpenTelemetry's SDK only when traces are exported. The module loads of this process are recorded
// from before the server's code is imported.
import { registerHooks } from 'node:module';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const loaded: string[] = [];
registerHooks({
    load(url, context, next) {
        loaded.push(url);
        return next(url, context);
    }
});
const { loadConfig } = await import('../src/config/config.ts');
const { start } = await import('../src/server.ts');
const { removeDir, writeProvidersFile } = await import('./support/server.ts');
const { collect, keepTickShape, worthCollecting } = await import('../src/runtime/heap.ts');
const { runInNewContext } = await import('node:vm');
const { setFlagsFromString } = await import('node:v8');
const { createHook } = await import('node:async_hooks');

const loadedFrom = (pkg: string) => loaded.filter((u) => u.includes(`/node_modules/${pkg}/`));

describe('idle footprint of the embedded default', () => {
    let running: Awaited<ReturnType<typeof start>>;
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-idle-'));
    const key = randomUUID();

    before(async () => {
        const providers = writeProvidersFile('acme-key:\n  display_name: Acme\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:1\n');
        running = await start(
            loadConfig({
                PORT: '0',
                HOST: '127.0.0.1',
                SWITCHBOARD_DATA_DIR: dataDir,
                SWITCHBOARD_SECRET_KEY: key,
                SWITCHBOARD_PROVIDERS: providers,
                SWITCHBOARD_LOG_LEVEL: 'warn'
            })
        );
    });

    after(async () => {
        await running?.close();
        removeDir(dataDir);
    });

    test('a started server has not loaded the MCP SDK nor OpenTelemetry’s SDK', async () => {
        assert.ok(
            loaded.some((u) => u.endsWith('/src/server.ts')),
            'the hook saw the server load'
        );
        assert.equal((await fetch(`${running.url}/health`)).status, 200);
        assert.deepEqual(loadedFrom('@modelcontextprotocol/sdk'), []);
        assert.deepEqual(loadedFrom('@opentelemetry/sdk-trace'), []);
        assert.deepEqual(loadedFrom('@opentelemetry/exporter-trace-otlp-http'), []);
    });

    test('the first /mcp request loads the MCP SDK and is answered by it', async () => {
        const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
            fetch(`${running.url}${path}`, {
                method: 'POST',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
                body: JSON.stringify(body)
            });
        assert.ok((await post('/integrations', { provider: 'acme-key', unique_key: 'acme' })).status < 300);
        assert.equal(
            (await post('/connections', { provider_config_key: 'acme', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k' } })).status,
            201
        );
        const res = await post(
            '/mcp',
            { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
            { 'connection-id': 'c1', 'provider-config-key': 'acme', accept: 'application/json, text/event-stream' }
        );
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.match(text, /"tools":\[/);
        assert.notDeepEqual(loadedFrom('@modelcontextprotocol/sdk'), []);
    });
});

test('a quiet-time collection runs only when the process is idle and has grown since the last one', () => {
    const mb = 1024 * 1024;
    assert.equal(worthCollecting({ rssBytes: 200 * mb, rssAfterLastBytes: 125 * mb, cpuShare: 0.01 }), true);
    assert.equal(worthCollecting({ rssBytes: 200 * mb, rssAfterLastBytes: 125 * mb, cpuShare: 0.5 }), false, 'busy');
    assert.equal(worthCollecting({ rssBytes: 140 * mb, rssAfterLastBytes: 125 * mb, cpuShare: 0.01 }), false, 'has not grown');
});

test('a collection leaves no `gc` on contexts made afterwards', () => {
    collect();
    collect();
    assert.equal(runInNewContext('typeof gc'), 'undefined');
});

test('nextTick task objects keep their hidden class through memory-reducing collections', () => {
    // V8's %HaveSameMap, compiled while natives syntax is on (only this function gets it).
    setFlagsFromString('--allow-natives-syntax');
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
    setFlagsFromString('--no-allow-natives-syntax');
    const taskObject = () => {
        let made: object | undefined;
        const hook = createHook({
            init(_id, type, _trigger, resource) {
                if (type === 'TickObject') made ??= resource;
            }
        }).enable();
        process.nextTick(() => {});
        hook.disable();
        assert.ok(made, 'the init hook saw a TickObject');
        return made;
    };
    const held = keepTickShape();
    assert.ok(held, 'a task object is held');
    assert.equal(keepTickShape(), held, 'captured once');
    assert.equal(sameMap(held, { callback: null }), false, '%HaveSameMap tells maps apart');
    assert.equal(sameMap(held, taskObject()), true, 'the held object has the map task objects are made with');
    // Each `last-resort` collection is the memory-reducing kind that used to free the task objects' maps.
    collect();
    collect();
    assert.equal(sameMap(held, taskObject()), true, 'task objects made after the collections still get that map');
});
