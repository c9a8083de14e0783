import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RunnerPool } from '../src/functions/runtime/pool.ts';
import type { RunRequest, RunResult, ScriptKind, ScriptProps } from '../src/functions/runtime/types.ts';
import { recordingHost, scriptProps, type RecordingHost } from './support/script-host.ts';
import { json, startUpstream } from './support/upstream.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/scripts/${name}`, import.meta.url), 'utf8');
let seq = 0;

function request(kind: ScriptKind, code: string, extra: Partial<RunRequest> = {}, props: Partial<ScriptProps> = {}): RunRequest {
    return { runId: `run-${++seq}`, kind, code, props: scriptProps(kind, props), timeoutMs: 10_000, ...extra };
}

/** An action whose body is `body` (an async function body receiving `nango` and `input`). */
function action(body: string): string {
    return `module.exports.default = { type: 'action', exec: async (nango, input) => { ${body} } };`;
}

function errorOf(r: RunResult) {
    assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
    return (r as Extract<RunResult, { ok: false }>).error;
}

function outputOf(r: RunResult): unknown {
    assert.equal(r.ok, true, `expected success, got ${JSON.stringify(r)}`);
    return (r as Extract<RunResult, { ok: true }>).output;
}

describe('functions runtime (runner pool)', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let pool: RunnerPool;
    const logs: string[] = [];
    let h: RecordingHost;

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const path = new URL(req.url, 'http://x').pathname;
            if (path === '/users/missing') return json(res, 404, { error: 'user not found' }, { 'x-ratelimit-remaining': '41', 'set-cookie': 'secret=1' });
            if (path.startsWith('/users/')) return json(res, 200, { id: path.slice(7), name: 'Ada' });
            if (path === '/ping') return json(res, 200, { pong: true });
            return json(res, 500, { error: 'unexpected' });
        });
        pool = new RunnerPool({ size: 2, memoryMb: 256, abortGraceMs: 500, logger: (_l, _o, msg) => logs.push(msg) });
    });
    after(async () => {
        await pool.close();
        await upstream.close();
    });
    const host = () => (h = recordingHost(upstream.url)).host;

    it('runs a zero-YAML sync: records reach the host in chunks of at most 1,000, metadata stripped, checkpoint saved', async () => {
        const r = await pool.run(request('sync', fixture('sync-contacts.cjs')), host());
        assert.equal(outputOf(r), true);
        const saves = h.calls.filter((c) => c.method === 'batchSave');
        assert.deepEqual(
            saves.map((c) => (c.args[1] as unknown[]).length),
            [1000, 1000, 500]
        );
        assert.ok(saves.every((c) => c.args[0] === 'Contact'));
        assert.equal('_nango_metadata' in (saves[0]!.args[1] as Array<Record<string, unknown>>)[0]!, false);
        assert.deepEqual(
            h.calls.filter((c) => c.method === 'batchDelete').map((c) => (c.args[1] as unknown[]).length),
            [1000, 1]
        );
        assert.deepEqual(h.checkpoint, { last: '2500', runs: 1, full: true });
        const order = h.calls.map((c) => c.method).filter((m) => m.startsWith('track'));
        assert.deepEqual(order, ['trackDeletesStart', 'trackDeletesEnd']);
    });

    it('refuses writes to a model the sync did not declare, and record writes from actions', async () => {
        const sync = `module.exports.default = { type: 'sync', exec: async (nango) => { await nango.batchSave([{ id: '1' }], 'Other'); } };`;
        const e1 = errorOf(await pool.run(request('sync', sync), host()));
        assert.equal(e1.type, 'invalid_model');
        assert.match(e1.message, /'Other' is not declared/);
        const e2 = errorOf(await pool.run(request('action', action(`await nango.batchSave([{ id: '1' }], 'Contact');`)), host()));
        assert.equal(e2.type, 'invalid_script_call');
        assert.equal(h.calls.filter((c) => c.method === 'batchSave').length, 0);
    });

    it('returns action output and calls the provider through the host proxy', async () => {
        const r = await pool.run(request('action', fixture('action-get-user.cjs'), { input: { id: '42' } }), host());
        assert.deepEqual(outputOf(r), { id: '42', name: 'Ada', status: 200 });
        const proxy = h.calls.find((c) => c.method === 'proxy');
        assert.deepEqual(proxy?.args[0], { method: 'GET', endpoint: '/users/42', params: { expand: 'teams' } });
    });

    it('maps ActionError to action_script_runtime_error with its payload (non-objects wrapped as {message})', async () => {
        const e = errorOf(await pool.run(request('action', fixture('action-get-user.cjs'), { input: { id: 'forbidden' } }), host()));
        assert.equal(e.type, 'action_script_runtime_error');
        assert.deepEqual(e.payload, { message: 'not allowed', id: 'forbidden' });
        const e2 = errorOf(await pool.run(request('action', fixture('action-get-user.cjs'), { input: { id: 'string-payload' } }), host()));
        assert.deepEqual(e2.payload, { message: 'plain string' });
    });

    it('zodValidateInput logs each issue at error level and throws ActionError "Invalid input provided"', async () => {
        const e = errorOf(await pool.run(request('action', fixture('action-get-user.cjs'), { input: { id: 5 } }), host()));
        assert.equal(e.type, 'action_script_runtime_error');
        assert.deepEqual(e.payload, { message: 'Invalid input provided' });
        assert.equal(h.logs.length, 1);
        assert.equal(h.logs[0]?.level, 'error');
        assert.match(h.logs[0]?.message ?? '', /^Invalid input: id: /);
    });

    it('maps an upstream 404 to script_http_error with status, body and rate-limit headers only', async () => {
        const e = errorOf(await pool.run(request('action', fixture('action-get-user.cjs'), { input: { id: 'missing' } }), host()));
        assert.equal(e.type, 'script_http_error');
        assert.equal(e.status, 404);
        assert.deepEqual(e.payload, { error: 'user not found' });
        assert.equal(e.message, 'Request failed with status code 404');
        const upstreamResponse = e.additional_properties?.['upstream_response'] as { status: number; headers: Record<string, string>; body: unknown };
        assert.equal(upstreamResponse.status, 404);
        assert.deepEqual(upstreamResponse.headers, { 'content-type': 'application/json', 'x-ratelimit-remaining': '41' });
    });

    it('gives scripts an axios-shaped error they can catch, and maps host failures to script_network_error', async () => {
        const caught = action(
            `try { await nango.get({ endpoint: '/users/missing' }); } catch (e) { return { axios: e.isAxiosError, status: e.response.status, data: e.response.data, top: e.status }; }`
        );
        assert.deepEqual(outputOf(await pool.run(request('action', caught), host())), {
            axios: true,
            status: 404,
            data: { error: 'user not found' },
            top: 404
        });
        const refused = recordingHost('http://127.0.0.1:1');
        const e = errorOf(await pool.run(request('action', action(`await nango.get({ endpoint: '/x' });`)), refused.host));
        assert.equal(e.type, 'script_network_error');
    });

    it('runs legacy bundles: default functions, onWebhookPayloadReceived, and undefined for an empty-object input', async () => {
        const r = await pool.run(request('sync', fixture('legacy-sync.cjs')), host());
        assert.equal(outputOf(r), true);
        assert.deepEqual(h.calls.find((c) => c.method === 'batchSave')?.args, ['Contact', [{ id: 'legacy', name: 'Ada' }]]);
        const w = await pool.run(request('webhook', fixture('legacy-sync.cjs'), { input: { id: 'w1', name: 'Hook' } }), host());
        assert.deepEqual(outputOf(w), { handled: 'w1' });
        const a = await pool.run(request('action', fixture('legacy-action.cjs'), { input: {} }), host());
        assert.deepEqual(outputOf(a), { gotInput: 'undefined', connectionId: 'conn-1' });
    });

    it('refuses a script whose declared type does not match the run kind', async () => {
        const e = errorOf(await pool.run(request('action', fixture('sync-contacts.cjs')), host()));
        assert.equal(e.type, 'invalid_script');
    });

    it('sandbox: zod works; fs, process, fetch, eval, new Function and the global constructor are not reachable', async () => {
        const probe = action(`
            const { z } = require('zod');
            const parsed = z.object({ a: z.string(), n: z.number().optional() }).safeParse({ a: 'x', n: 1 });
            const bad = z.object({ a: z.string() }).safeParse({ a: 1 });
            const attempt = (f) => { try { return String(f()); } catch (e) { return e.name + ': ' + e.message; } };
            return {
                zodOk: parsed.success, zodBad: bad.success,
                fs: attempt(() => require('fs')),
                child: attempt(() => require('child_process')),
                crypto: typeof require('node:crypto').createHash, url: typeof require('url').URL,
                process: typeof process, fetch: typeof fetch, structuredClone: typeof structuredClone,
                eval: attempt(() => eval('1 + 1')),
                fn: attempt(() => new Function('return 1')()),
                hostFn: attempt(() => z.string().constructor.constructor('return process')()),
                ctor: typeof globalThis.constructor,
                buffer: Buffer.from('hi').toString('base64'),
                dynImport: await import('fs').then(() => 'loaded', (e) => 'refused'),
            };`);
        const out = outputOf(await pool.run(request('action', probe), host())) as Record<string, unknown>;
        assert.equal(out['zodOk'], true);
        assert.equal(out['zodBad'], false);
        assert.equal(out['fs'], "Error: Module 'fs' is not allowed");
        assert.equal(out['child'], "Error: Module 'child_process' is not allowed");
        assert.equal(out['crypto'], 'function');
        assert.equal(out['url'], 'function');
        assert.equal(out['process'], 'undefined');
        assert.equal(out['fetch'], 'undefined');
        assert.equal(out['structuredClone'], 'undefined');
        assert.match(String(out['eval']), /^EvalError/);
        assert.match(String(out['fn']), /^EvalError/);
        assert.match(String(out['hostFn']), /^EvalError/, 'the runner process itself refuses code generation from strings');
        assert.equal(out['ctor'], 'undefined');
        assert.equal(out['buffer'], 'aGk=');
        assert.equal(out['dynImport'], 'refused');
    });

    it('maps other throws to script_internal_error with name, message and script stack frames', async () => {
        const e = errorOf(await pool.run(request('action', action(`const o = null; return o.x;`), {}, { scriptName: 'boom' }), host()));
        assert.equal(e.type, 'script_internal_error');
        const payload = e.payload as { name: string; message: string; stack: string[] };
        assert.equal(payload.name, 'TypeError');
        assert.ok(payload.stack.length >= 1 && payload.stack.length <= 10);
        assert.ok(
            payload.stack.every((l) => l.includes('boom.cjs')),
            JSON.stringify(payload.stack)
        );
    });

    it('stops an infinite loop at the timeout while the server keeps answering, then runs the next script', async () => {
        const started = Date.now();
        const runaway = pool.run(request('action', action('while (true) {}'), { timeoutMs: 1_500 }), host());
        await new Promise((r) => setTimeout(r, 300));
        const t0 = Date.now();
        const res = await fetch(`${upstream.url}/ping`);
        const latency = Date.now() - t0;
        assert.equal(res.status, 200);
        assert.ok(latency < 500, `the server answered in ${latency} ms during the runaway script`);
        const e = errorOf(await runaway);
        assert.equal(e.type, 'execution_timeout');
        assert.match(e.message, /1500 ms/);
        assert.ok(Date.now() - started < 5_000);
        assert.deepEqual(outputOf(await pool.run(request('action', action('return 1;')), host())), 1);
    });

    it('reports a 4 GiB Buffer allocation as script_out_of_memory and keeps working', async () => {
        const e = errorOf(await pool.run(request('action', action('return Buffer.alloc(4 * 1024 ** 3).length;')), host()));
        assert.equal(e.type, 'script_out_of_memory');
        assert.match(e.message, /out of memory/);
        assert.deepEqual(outputOf(await pool.run(request('action', action('return 2;')), host())), 2);
    });

    it('kills a process whose heap grows without bound; the next run gets a fresh process', async () => {
        const grow = action('const a = []; for (;;) a.push({ x: Math.random(), y: [1, 2, 3], s: "s" + a.length });');
        const e = errorOf(await pool.run(request('action', grow, { timeoutMs: 20_000 }), host()));
        assert.equal(e.type, 'script_out_of_memory');
        assert.deepEqual(outputOf(await pool.run(request('action', action('return 3;')), host())), 3);
    });

    it('aborts: the next nango call throws script_aborted', async () => {
        const ac = new AbortController();
        const loop = action(`for (;;) { await nango.log('tick', { level: 'error' }); await new Promise((r) => setTimeout(r, 20)); }`);
        const pending = pool.run(request('action', loop), host(), ac.signal);
        setTimeout(() => ac.abort(), 200);
        const e = errorOf(await pending);
        assert.equal(e.type, 'script_aborted');
        assert.ok(h.logs.length > 0);
    });

    it('aborts a CPU-bound script by killing its process after the grace period', async () => {
        const ac = new AbortController();
        const pending = pool.run(request('action', action('while (true) {}')), host(), ac.signal);
        setTimeout(() => ac.abort(), 200);
        const t0 = Date.now();
        const e = errorOf(await pending);
        assert.equal(e.type, 'script_aborted');
        assert.ok(Date.now() - t0 < 3_000);
        assert.deepEqual(outputOf(await pool.run(request('action', action('return 4;')), host())), 4);
    });

    it('caps action output at 2 MB of JSON', async () => {
        const e = errorOf(await pool.run(request('action', action(`return { blob: 'x'.repeat(2 * 1024 * 1024) };`)), host()));
        assert.equal(e.type, 'action_output_too_large');
        assert.match(e.message, /limit is 2097152 bytes/);
    });

    it('validates checkpoints: flat string/number/boolean values, at most 16 fields, strings up to 4,000 characters', async () => {
        const tryCp = (expr: string) => pool.run(request('action', action(`await nango.saveCheckpoint(${expr}); return await nango.getCheckpoint();`)), host());
        assert.deepEqual(outputOf(await tryCp(`{ cursor: 'abc', page: 2, done: false }`)), { cursor: 'abc', page: 2, done: false });
        for (const [expr, re] of [
            [`{ nested: { a: 1 } }`, /field 'nested' must be a string, number or boolean \(got object\)/],
            [`{ list: [1] }`, /got array/],
            [`Object.fromEntries(Array.from({ length: 17 }, (_, i) => ['k' + i, i]))`, /17 fields; at most 16/],
            [`{ s: 'x'.repeat(4001) }`, /4001 characters long; at most 4000/],
            [`[1, 2]`, /plain object/]
        ] as const) {
            const e = errorOf(await tryCp(expr));
            assert.equal(e.type, 'invalid_checkpoint');
            assert.match(e.message, re);
            assert.equal(h.calls.filter((c) => c.method === 'saveCheckpoint').length, 0);
        }
    });

    it('applies the log threshold (default warn) and setLogger', async () => {
        const body = `await nango.log('info line'); await nango.log('warn line', { a: [1, 2] }, { level: 'warn' }); nango.setLogger({ level: 'debug' }); await nango.log('debug line', { level: 'debug' }); return true;`;
        await pool.run(request('action', action(body)), host());
        assert.deepEqual(h.logs, [
            { level: 'warn', message: 'warn line', meta: { a: [1, 2] } },
            { level: 'debug', message: 'debug line' }
        ]);
        await pool.run(
            request('action', action(`await nango.log('w', { level: 'warn' }); await nango.log('e', { level: 'error' });`), {}, { logLevel: 'error' }),
            host()
        );
        assert.deepEqual(
            h.logs.map((l) => l.message),
            ['e']
        );
    });

    it('connection helpers: memoised getConnection, getToken, getMetadata, metadata writes, integration and unsupported stubs', async () => {
        const body = `
            const c1 = await nango.getConnection(); await nango.getConnection();
            const token = await nango.getToken(); const meta = await nango.getMetadata();
            await nango.updateMetadata({ b: 2 }); await nango.getConnection();
            const hook = await nango.getWebhookURL();
            let unsupported; try { await nango.triggerAction('a', 'b', 'c'); } catch (e) { unsupported = e.message; }
            return { id: c1.connection_id, token, meta, hook, unsupported, hidden: typeof nango.host, vars: await nango.getEnvironmentVariables() };`;
        const out = outputOf(await pool.run(request('action', action(body)), host())) as Record<string, unknown>;
        assert.deepEqual(out, {
            id: 'conn-1',
            token: 'tok',
            meta: { a: 1 },
            hook: 'https://example.test/hook',
            unsupported: 'nango.triggerAction is not supported by Switchboard',
            hidden: 'undefined',
            vars: [{ name: 'A', value: 'b' }]
        });
        assert.equal(h.calls.filter((c) => c.method === 'getConnection').length, 2, 'memoised, and dropped after updateMetadata');
    });

    it('records reads: getRecordsByIds returns a Map, listRecords walks every page', async () => {
        const sync = `module.exports.default = { type: 'sync', exec: async (nango) => {
            await nango.batchSave([{ id: 'a' }, { id: 'b' }, { id: 'c' }], 'Contact');
            const byId = await nango.getRecordsByIds(['a', 'zz', 'c'], 'Contact');
            const listed = []; for await (const r of nango.listRecords('Contact')) listed.push(r.id);
            // The Map comes from the runner's realm (as in Nango's runner), so instanceof Map in the script is false.
            if (Object.prototype.toString.call(byId) !== '[object Map]' || byId.size !== 2 || !byId.has('a')) throw new Error('bad map ' + byId.size);
            if (listed.join() !== 'a,b,c') throw new Error('bad list ' + listed.join());
        } };`;
        assert.equal(outputOf(await pool.run(request('sync', sync), host())), true);
        assert.equal(h.calls.filter((c) => c.method === 'listRecords').length, 2);
    });

    it('a bundle compiled once per process still starts each run from fresh module state and fresh globals', async () => {
        const single = new RunnerPool({ size: 1, memoryMb: 256 });
        try {
            // Module-level state, a global and a prototype of the context: each run must see them as the bundle left them at load.
            const code = `let calls = 0; globalThis.seen = (globalThis.seen || 0) + 1; Array.prototype.mark = (Array.prototype.mark || 0) + 1;
                module.exports.default = { type: 'action', exec: async (nango, input) => ({ calls: ++calls, seen: globalThis.seen, mark: [].mark, input }) };`;
            const outs = [];
            for (let i = 0; i < 3; i++) outs.push(outputOf(await single.run(request('action', code, { input: i }), host())));
            assert.deepEqual(
                outs,
                [0, 1, 2].map((input) => ({ calls: 1, seen: 1, mark: 1, input }))
            );
            // Another bundle in the same process, and then the first again: each is its own code.
            assert.equal(outputOf(await single.run(request('action', action('return "other";')), host())), 'other');
            assert.deepEqual(outputOf(await single.run(request('action', code, { input: 9 }), host())), { calls: 1, seen: 1, mark: 1, input: 9 });
            // More distinct bundles than a process keeps compiled: it forgets them and recompiles, with the right code each time.
            for (let i = 0; i < 70; i++) assert.equal(outputOf(await single.run(request('action', action(`return ${i};`)), host())), i);
            assert.equal(outputOf(await single.run(request('action', action('return 5;')), host())), 5);
            // A bundle with a syntax error is not kept: it fails each time, and a good one runs after it.
            for (let i = 0; i < 2; i++) assert.equal(errorOf(await single.run(request('action', 'module.exports = {'), host())).type, 'script_internal_error');
            assert.equal(outputOf(await single.run(request('action', action('return "fine";')), host())), 'fine');
        } finally {
            await single.close();
        }
    });

    it('queues runs beyond the pool size and runs them all', async () => {
        const results = await Promise.all(
            Array.from({ length: 5 }, (_, i) => pool.run(request('action', action(`await new Promise((r) => setTimeout(r, 50)); return ${i};`)), host()))
        );
        assert.deepEqual(results.map(outputOf), [0, 1, 2, 3, 4]);
    });

    // Issue #10 item 6: an input the IPC channel cannot carry held the runner process for the whole action timeout.
    it('ends a run whose input cannot be sent to the runner at once, and frees its slot for the next run', async () => {
        const single = new RunnerPool({ size: 1, memoryMb: 256 });
        try {
            let deep: unknown = {};
            for (let i = 0; i < 5000; i++) deep = { a: deep };
            const failed = await single.run(request('action', action('return 1;'), { input: deep, timeoutMs: 300_000 }), host());
            const e = errorOf(failed);
            assert.equal(e.type, 'runner_send_failed');
            assert.match(e.message, /could not be handed to its runner process/);
            assert.equal(outputOf(await single.run(request('action', action('return 2;')), host())), 2);
        } finally {
            await single.close();
        }
    });

    it('close() ends running and queued runs with runtime_closed', async () => {
        const small = new RunnerPool({ size: 1 });
        const running = small.run(request('action', action('while (true) {}')), host());
        const queued = small.run(request('action', action('return 1;')), host());
        await new Promise((r) => setTimeout(r, 300));
        await small.close();
        assert.equal(errorOf(await running).type, 'runtime_closed');
        assert.equal(errorOf(await queued).type, 'runtime_closed');
        assert.equal(errorOf(await small.run(request('action', action('return 1;')), host())).type, 'runtime_closed');
    });
});
