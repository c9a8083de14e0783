// One backend's run for bench/records/run.ts: argv = pglite|postgres, record count. Prints JSON on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../packages/server/src/storage/db.ts';
import { openDatabase } from '../../packages/server/src/storage/open.ts';
import { RecordsStore, type RecordScope } from '../../packages/server/src/records/store.ts';

const backend = process.argv[2] === 'postgres' ? 'postgres' : 'pglite';
const total = Number(process.argv[3] ?? 100_000);
const adminUrl = process.env['BENCH_POSTGRES_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';
// The runner sends 1,000 records per persist call (docs/scripts-compatibility.md, "Records"); the bench writes the same way.
const BATCH = 1000;
const log = (msg: string) => process.stderr.write(`[${backend}] ${msg}\n`);

let cleanup: () => Promise<void> = async () => undefined;
process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

async function open(): Promise<Db> {
    if (backend === 'pglite') {
        const dir = mkdtempSync(join(tmpdir(), 'sb-bench-records-'));
        const db = await openDatabase({ databaseUrl: undefined, dataDir: dir });
        cleanup = async () => {
            await db.close().catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
        };
        return db;
    }
    const name = `sb_bench_records_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const db = await openDatabase({ databaseUrl: adminUrl.replace(/\/[^/]+$/, `/${name}`), dataDir: '/nonexistent' });
    cleanup = async () => {
        await db.close().catch(() => undefined);
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
    };
    return db;
}

// A typical synced object (~300 bytes of JSON), generated per batch so the bench itself holds no large set.
function record(i: number, version: number): Record<string, unknown> {
    return {
        id: `ticket-${i}`,
        title: `Ticket number ${i}`,
        status: version === 0 ? 'open' : 'closed',
        priority: i % 5,
        assignee: { id: `user-${i % 97}`, name: `User ${i % 97}`, email: `user${i % 97}@example.com` },
        tags: ['support', i % 2 ? 'billing' : 'bug'],
        created: '2024-05-01T10:00:00.000Z',
        version
    };
}

async function saveAll(store: RecordsStore, scope: RecordScope, version: number, job: number) {
    const t = performance.now();
    const counts = { added: 0, updated: 0, unchanged: 0 };
    for (let start = 0; start < total; start += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, total - start) }, (_, k) => record(start + k, version));
        const res = await store.save(scope, batch, job);
        counts.added += res.added;
        counts.updated += res.updated;
        counts.unchanged += res.unchanged;
    }
    const seconds = (performance.now() - t) / 1000;
    return { records: total, seconds: round(seconds), records_per_s: Math.round(total / seconds), counts };
}

async function readAll(store: RecordsStore, scope: RecordScope, limit: number) {
    const t = performance.now();
    let cursor: string | undefined;
    let n = 0;
    let pages = 0;
    do {
        const page = await store.list(scope, { limit, cursor });
        n += page.records.length;
        pages++;
        cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const seconds = (performance.now() - t) / 1000;
    return { limit, records: n, pages, seconds: round(seconds), records_per_s: Math.round(n / seconds) };
}

const round = (x: number) => Math.round(x * 100) / 100;
const rssMb = () => round(process.memoryUsage().rss / 1024 / 1024);

try {
    const db = await open();
    const store = new RecordsStore(db);
    const [env] = await db.query<{ id: number }>(`INSERT INTO environments (uuid, name) VALUES (gen_random_uuid(), 'bench') RETURNING id`);
    const [integration] = await db.query<{ id: number }>(
        `INSERT INTO integrations (uuid, environment_id, unique_key, provider) VALUES (gen_random_uuid(), $1, 'k', 'p') RETURNING id`,
        [env!.id]
    );
    const [connection] = await db.query<{ id: number }>(
        `INSERT INTO connections (uuid, environment_id, integration_id, connection_id, auth_type, credentials) VALUES (gen_random_uuid(), $1, $2, 'bench', 'API_KEY', 'x') RETURNING id`,
        [env!.id, integration!.id]
    );
    const scope = { connectionId: connection!.id, model: 'Ticket' };
    log(`saving ${total} new records`);
    const saveNew = await saveAll(store, scope, 0, 1);
    log(`new: ${saveNew.records_per_s}/s; re-saving unchanged`);
    const saveUnchanged = await saveAll(store, scope, 0, 2);
    log(`unchanged: ${saveUnchanged.records_per_s}/s; saving updated`);
    const saveUpdated = await saveAll(store, scope, 1, 3);
    log(`updated: ${saveUpdated.records_per_s}/s; reading`);
    const read1000 = await readAll(store, scope, 1000);
    const read10000 = await readAll(store, scope, 10_000);
    // The first pass right after the writes also visits the dead row versions the updates left for vacuum.
    const read1000Again = await readAll(store, scope, 1000);
    log(`read: ${read1000.records_per_s}/s (1000), ${read10000.records_per_s}/s (10000)`);
    const t = performance.now();
    const counted = await store.counts(scope.connectionId, [scope.model]);
    const countMs = round(performance.now() - t);
    process.stdout.write(
        JSON.stringify({
            backend,
            records: total,
            batch_per_save_call: BATCH,
            save_new: saveNew,
            save_unchanged: saveUnchanged,
            save_updated: saveUpdated,
            read_limit_1000: read1000,
            read_limit_10000: read10000,
            read_limit_1000_second_pass: read1000Again,
            counts_ms: countMs,
            live_records: counted[scope.model],
            rss_mb_end: rssMb(),
            peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
            note:
                backend === 'pglite'
                    ? 'PGlite runs inside this process, so its RSS includes the database'
                    : "PostgreSQL runs in its own processes; RSS is Switchboard's side only"
        })
    );
} finally {
    await cleanup();
}
