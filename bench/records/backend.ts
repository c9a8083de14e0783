// One backend's run for bench/records/run.ts: argv = embedded|pglite|postgres, record count. Prints JSON on stdout.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../packages/server/src/storage/db.ts';
import { openDatabase } from '../../packages/server/src/storage/open.ts';
import { RecordsStore, type RecordScope } from '../../packages/server/src/records/store.ts';

const backend = (['postgres', 'pglite'] as const).find((b) => b === process.argv[2]) ?? 'embedded';
const total = Number(process.argv[3] ?? 100_000);
const adminUrl = process.env['BENCH_POSTGRES_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';
// The runner sends 1,000 records per persist call (docs/scripts-compatibility.md, "Records"); the bench writes the same way.
const BATCH = 1000;
const log = (msg: string) => process.stderr.write(`[${backend}] ${msg}\n`);

let cleanup: () => Promise<void> = async () => undefined;
process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

async function open(): Promise<Db> {
    if (backend !== 'postgres') {
        const dir = mkdtempSync(join(tmpdir(), 'sb-bench-records-'));
        const db = await openDatabase({ databaseUrl: undefined, dataDir: dir, embedded: backend === 'pglite' ? 'pglite' : 'postgres' });
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
    const rate = Math.round(total / seconds);
    return { records: total, seconds: round(seconds), records_per_s: rate, goal_records_per_s: INGEST_GOAL, pass: rate >= INGEST_GOAL, counts };
}

// Nango's GET /records reads 3,200 to 10,700 records/s; the goal is 20 times that.
const NANGO_READ = [3200, 10_700];
const INGEST_GOAL = 50_000;

/** The whole feed in pages of `limit`, as GET /records serves them (the page's JSON text), following next_cursor. */
async function readAll(store: RecordsStore, scope: RecordScope, limit: number, maxRecords = Number.POSITIVE_INFINITY) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const db0 = await databaseCpuMs();
    let cursor: string | undefined;
    let n = 0;
    let pages = 0;
    let bytes = 0;
    do {
        const page = await store.listJson(scope, { limit, cursor });
        n += page.count;
        pages++;
        bytes += page.body.length;
        // The cursor is the text after the last "next_cursor": the bench reads it without parsing the page.
        const m = /"next_cursor":(null|"([^"]*)")\}$/.exec(page.body.subarray(-200).toString());
        cursor = m?.[2];
    } while (cursor && n < maxRecords);
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const rate = Math.round(n / seconds);
    return {
        limit,
        records: n,
        pages,
        queries_per_page: 1,
        mb: round(bytes / 1e6),
        seconds: round(seconds),
        records_per_s: rate,
        switchboard_cpu_ms_per_1000_records: round(((used.user + used.system) / 1000 / n) * 1000),
        database_cpu_ms_per_1000_records: round((((await databaseCpuMs()) - db0) / n) * 1000),
        ratio_to_nango: [round(rate / NANGO_READ[1]!), round(rate / NANGO_READ[0]!)],
        goal_ratio: 20,
        pass: rate >= 20 * NANGO_READ[1]!
    };
}

const round = (x: number) => Math.round(x * 100) / 100;

// CPU time of the database's processes (the backends of the bench's database, embedded or external), so a figure
// per record does not depend on how busy the machine is.
let dbOf: Db | undefined;
function procCpuMs(pid: number): number {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
        return 0;
    }
}
async function databaseCpuMs(): Promise<number> {
    if (!dbOf || backend === 'pglite') return 0;
    const rows = await dbOf.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    return rows.reduce((a, r) => a + procCpuMs(r.pid), 0);
}
const rssMb = () => round(process.memoryUsage().rss / 1024 / 1024);

try {
    const db = await open();
    dbOf = db;
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
    const read100 = await readAll(store, scope, 100, 200_000);
    const read1000 = await readAll(store, scope, 1000);
    // The first pass right after the writes also visits the dead row versions the updates left for vacuum.
    const read1000Again = await readAll(store, scope, 1000);
    log(`read: ${read100.records_per_s}/s (100), ${read1000.records_per_s}/s (1000); reading beside an ingest`);
    // Reads while a sync saves into another model of the same connection (its own lock; same table and indexes).
    const other = { connectionId: scope.connectionId, model: 'Other' };
    let ingesting = true;
    let ingested = 0;
    const ingest = (async () => {
        for (let v = 0; ingesting; v++) {
            for (let start = 0; start < 100_000 && ingesting; start += BATCH) {
                await store.save(
                    other,
                    Array.from({ length: BATCH }, (_, k) => record(start + k, v)),
                    10 + v
                );
                ingested += BATCH;
            }
        }
    })();
    const readDuringIngest = await readAll(store, scope, 100, 200_000);
    ingesting = false;
    await ingest;
    // The page query's plan after a cursor: one range scan of records_feed in its own order, no sort.
    const plan = await db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT r.payload::text FROM records r WHERE r.connection_id = $1 AND r.model = $2 AND (r.updated_at, r.id) > ($3::timestamptz, $4::bigint)
         ORDER BY r.updated_at, r.id LIMIT 101`,
        [scope.connectionId, scope.model, '2000-01-01T00:00:00Z', '0']
    );
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
            read_limit_100: read100,
            read_limit_1000: read1000,
            read_limit_1000_second_pass: read1000Again,
            read_limit_100_during_ingest: {
                ...readDuringIngest,
                records_ingested_meanwhile: ingested,
                ratio_to_read_alone: round(readDuringIngest.records_per_s / read100.records_per_s)
            },
            page_query_plan: plan.map((r) => r['QUERY PLAN'].trim()),
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
