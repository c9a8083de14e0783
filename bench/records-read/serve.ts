// The server as `npm start` starts it, plus bench-only commands on stdin, each answered with one line
// `@@ <json>` on stdout (other stdout lines are the server's own log):
//   load <connection> <model> <n>      saves n records (1,000 per save, as a sync's batchSave does)
//   ingest start|stop <connection>     a loop saving records into model `Other` of the connection (a sync's ingest)
//   sql <connection> <model> <limit> <clients> <seconds>   the store's page read (the text GET /records sends),
//                                       `clients` loops following next_cursor, without HTTP: the direct baseline
//   dbpids                              the pids of the database backends serving this server's database
import { createInterface } from 'node:readline';
import type { RecordScope } from '../../packages/server/src/records/store.ts';
import { benchRecord } from './record.ts';

// BENCH_SWITCHBOARD_SRC: another checkout's packages/server/src, for a before/after comparison on one machine.
const src = process.env['BENCH_SWITCHBOARD_SRC'] || new URL('../../packages/server/src', import.meta.url).pathname;
const { loadConfig } = (await import(`${src}/config/config.ts`)) as typeof import('../../packages/server/src/config/config.ts');
const { start } = (await import(`${src}/server.ts`)) as typeof import('../../packages/server/src/server.ts');
const { tuneHeapForBodies } = (await import(`${src}/runtime/heap.ts`)) as typeof import('../../packages/server/src/runtime/heap.ts');

// run.ts starts this with SERVER_NODE_FLAGS; the rest of main.ts's V8 settings:
tuneHeapForBodies();

const running = await start(loadConfig(process.env));
const { db, records } = running.services;
const reply = (value: unknown) => process.stdout.write(`@@ ${JSON.stringify(value)}\n`);
reply({ ready: running.url });
const stop = () => running.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

async function scopeOf(connection: string, model: string): Promise<RecordScope> {
    const [row] = await db.query<{ id: number }>('SELECT id FROM connections WHERE connection_id = $1', [connection]);
    if (!row) throw new Error(`no connection ${connection}`);
    return { connectionId: row.id, model };
}

async function load(scope: RecordScope, n: number, version: number, job: number, keepGoing = () => true): Promise<number> {
    let saved = 0;
    for (let start = 0; start < n && keepGoing(); start += 1000) {
        const batch = Array.from({ length: Math.min(1000, n - start) }, (_, k) => benchRecord(start + k, version));
        await records.save(scope, batch, job);
        saved += batch.length;
    }
    return saved;
}

let ingest: { stop: boolean; saved: number; done: Promise<void>; started: number } | undefined;

async function sql(scope: RecordScope, limit: number, clients: number, seconds: number) {
    const until = performance.now() + seconds * 1000;
    let pages = 0;
    let count = 0;
    const latencies: number[] = [];
    const client = async () => {
        let cursor: string | undefined;
        while (performance.now() < until) {
            const t = performance.now();
            const page = await records.listJson(scope, { limit, cursor });
            latencies.push(performance.now() - t);
            pages++;
            count += page.count;
            cursor = /"next_cursor":(null|"([^"]*)")\}$/.exec(page.body.subarray(-200).toString())?.[2];
        }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, client));
    return { pages, records: count, seconds: (performance.now() - t0) / 1000, latencies_ms: latencies };
}

for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, ...args] = line.trim().split(/\s+/);
    try {
        if (cmd === 'load') {
            const t = performance.now();
            const saved = await load(await scopeOf(args[0]!, args[1]!), Number(args[2]), 0, 1);
            reply({ loaded: saved, seconds: (performance.now() - t) / 1000 });
        } else if (cmd === 'ingest' && args[0] === 'start') {
            const scope = await scopeOf(args[1]!, 'Other');
            const state = { stop: false, saved: 0, done: Promise.resolve(), started: performance.now() };
            // New versions of the same 100,000 records, over and over: every save writes (no unchanged skips).
            state.done = (async () => {
                for (let v = 0; !state.stop; v++) state.saved += await load(scope, 100_000, v, 100 + v, () => !state.stop);
            })();
            ingest = state;
            reply({ ingesting: true });
        } else if (cmd === 'ingest' && args[0] === 'stop' && ingest) {
            ingest.stop = true;
            await ingest.done;
            const seconds = (performance.now() - ingest.started) / 1000;
            reply({ ingested: ingest.saved, seconds, records_per_s: Math.round(ingest.saved / seconds) });
            ingest = undefined;
        } else if (cmd === 'sql') {
            reply(await sql(await scopeOf(args[0]!, args[1]!), Number(args[2]), Number(args[3]), Number(args[4])));
        } else if (cmd === 'dbpids') {
            const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
            reply({ pids: rows.map((r) => r.pid) });
        } else reply({ error: `unknown command ${line}` });
    } catch (err) {
        reply({ error: (err as Error).message });
    }
}
