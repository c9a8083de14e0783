// The server as `npm start` starts it (`node <SERVER_NODE_FLAGS> src/main.ts`), plus one bench-only command on
// stdin: `insert N` writes N rows (about 200 bytes each, 1,000 per statement) through the server's own Db and
// answers `inserted` on stdout.
import { createInterface } from 'node:readline';
import { loadConfig } from '../../packages/server/src/config/config.ts';
import { start } from '../../packages/server/src/server.ts';
import { tuneHeapForBodies } from '../../packages/server/src/runtime/heap.ts';

// run.ts starts this with SERVER_NODE_FLAGS, as `npm start` does main.ts.
tuneHeapForBodies();
const running = await start(loadConfig(process.env));
const db = running.services.db;
process.stdout.write(`ready ${running.url}\n`);
const stop = () => running.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
for await (const line of createInterface({ input: process.stdin })) {
    const m = /^insert (\d+)$/.exec(line.trim());
    if (!m) continue;
    const total = Number(m[1]);
    await db.exec('CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, external_id text NOT NULL, payload jsonb NOT NULL)');
    for (let done = 0; done < total; done += 1000) {
        const n = Math.min(1000, total - done);
        const ids = Array.from({ length: n }, (_, i) => `row-${done + i}`);
        const payloads = ids.map((id) => JSON.stringify({ id, name: `Name ${id}`, email: `${id}@example.com`, note: 'x'.repeat(120) }));
        await db.query('INSERT INTO bench_rows (external_id, payload) SELECT * FROM unnest($1::text[], $2::jsonb[])', [ids, payloads]);
    }
    process.stdout.write('inserted\n');
}
