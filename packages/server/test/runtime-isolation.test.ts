// Scripts of one environment never see another environment's data (issue #10 item 2), at the runner pool:
// a run of environment B never gets a process that served environment A, and what a script plants on anything
// of the runner's realm it can reach (zod's registry → Map.prototype, Buffer, Function/Object prototypes, the
// SDK's classes, node:crypto's classes, zod's registry and config) is refused or reset, so not even a later run
// of the same environment sees it. zod's own classes are the exception: writable, and shared only within one
// environment's process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerPool } from '../src/functions/runtime/pool.ts';
import type { RunRequest, RunResult } from '../src/functions/runtime/types.ts';
import { recordingHost, scriptProps } from './support/script-host.ts';

/** Reads every spot a script could plant on (the same expressions the planter writes to). */
const PROBE = `
    const { z } = require('zod');
    const crypto = require('crypto');
    const reg = z.globalRegistry;
    const MapProto = Object.getPrototypeOf(reg._idmap);
    const FnProto = Object.getPrototypeOf(nango.get);
    const ObjProto = Object.getPrototypeOf(FnProto);
    const HashProto = Object.getPrototypeOf(crypto.createHash('sha256'));
    const spots = {
        mapProto: () => MapProto.planted,
        mapSet: () => MapProto.set.planted,
        registry: () => reg._idmap.has('planted-by-A'),
        zodConfig: () => typeof z.config().customError,
        zodClass: () => z.ZodString.prototype.planted,
        bufferProto: () => Buffer.prototype.planted,
        bufferFrom: () => Buffer.from.planted,
        urlProto: () => URL.prototype.planted,
        fnProto: () => FnProto.planted,
        objProto: () => ObjProto.planted,
        errorProto: () => Error.prototype.planted,
        actionError: () => nango.ActionError.prototype.planted,
        hashProto: () => HashProto.planted
    };
`;

const PLANT = `module.exports.default = { type: 'action', exec: async (nango) => {
    ${PROBE}
    const set = MapProto.set;
    const tries = {
        mapProto: () => { MapProto.planted = 'A'; },
        mapSet: () => { MapProto.set = Object.assign(function (k, v) { return set.call(this, k, v); }, { planted: 'A' }); },
        registry: () => { reg.add(z.string(), { id: 'planted-by-A' }); },
        zodConfig: () => { z.config({ customError: () => 'planted-by-A' }); },
        zodClass: () => { z.ZodString.prototype.planted = 'A'; },
        bufferProto: () => { Buffer.prototype.planted = 'A'; },
        bufferFrom: () => { const from = Buffer.from; Buffer.from = Object.assign((...a) => from(...a), { planted: 'A' }); },
        urlProto: () => { URL.prototype.planted = 'A'; },
        fnProto: () => { FnProto.planted = 'A'; },
        objProto: () => { ObjProto.planted = 'A'; },
        errorProto: () => { Error.prototype.planted = 'A'; },
        actionError: () => { nango.ActionError.prototype.planted = 'A'; },
        hashProto: () => { HashProto.planted = 'A'; }
    };
    for (const t of Object.values(tries)) { try { t(); } catch {} }
    const out = {};
    for (const [k, read] of Object.entries(spots)) { const v = read(); out[k] = v === undefined ? null : v; }
    return out;
} };`;

const OBSERVE = `module.exports.default = { type: 'action', exec: async (nango) => {
    ${PROBE}
    const out = {};
    for (const [k, read] of Object.entries(spots)) { const v = read(); out[k] = v === undefined ? null : v; }
    return out;
} };`;

/** What a run reads when nothing was planted (undefined reads come back as null through JSON). */
const CLEAN = {
    mapProto: null,
    mapSet: null,
    registry: false,
    zodConfig: 'undefined',
    zodClass: null,
    bufferProto: null,
    bufferFrom: null,
    urlProto: null,
    fnProto: null,
    objProto: null,
    errorProto: null,
    actionError: null,
    hashProto: null
};

describe('runner isolation between environments', () => {
    let pool: RunnerPool;
    const pids = new Map<string, number>();
    let seq = 0;

    before(() => {
        pool = new RunnerPool({
            size: 2,
            memoryMb: 256,
            logger: (_level, obj) => {
                if (typeof obj['runnerPid'] === 'number') pids.set(obj['runId'] as string, obj['runnerPid']);
            }
        });
    });
    after(async () => {
        await pool.close();
    });

    const run = async (environmentId: number, code: string): Promise<{ output: Record<string, unknown>; pid: number }> => {
        const req: RunRequest = { runId: `iso-${++seq}`, kind: 'action', code, props: scriptProps('action', { environmentId }), timeoutMs: 20_000 };
        const r: RunResult = await pool.run(req, recordingHost('http://127.0.0.1:9').host);
        assert.equal(r.ok, true, JSON.stringify(r));
        return { output: (r as { output: Record<string, unknown> }).output, pid: pids.get(req.runId)! };
    };

    it('a planting script in environment A is seen neither by environment B nor by A itself later; B gets its own process', async () => {
        const a1 = await run(1, PLANT);
        // The plants did not take even in the run that made them, except zod's own state, which is the run's copy.
        assert.deepEqual(a1.output, { ...CLEAN, registry: true, zodConfig: 'function', zodClass: 'A' });

        const b = await run(2, OBSERVE);
        assert.deepEqual(b.output, CLEAN);
        assert.notEqual(b.pid, a1.pid, 'environment B ran in another process');

        const a2 = await run(1, OBSERVE);
        assert.deepEqual(a2.output, { ...CLEAN, zodClass: 'A' });
        assert.equal(a2.pid, a1.pid, 'environment A reuses its own process');
    });

    it('a run that makes zod impossible to reset retires its process', async () => {
        const poison = `module.exports.default = { type: 'action', exec: async () => { const { z } = require('zod'); Object.freeze(z.config()); return true; } };`;
        const first = await run(4, poison);
        const next = await run(4, OBSERVE);
        assert.notEqual(next.pid, first.pid);
        assert.deepEqual(next.output, CLEAN);
    });

    it('with every process busy or idle for another environment, a run retires an idle one rather than borrow it', async () => {
        const c = await run(3, OBSERVE);
        assert.ok(![...pids.values()].slice(0, -1).includes(c.pid), 'environment C got a fresh process');
        const b = await run(2, OBSERVE);
        assert.notEqual(b.pid, c.pid);
    });
});
