// Schedules at scale (issue #13 item 4): N connections each with one trivial sync every 30 s, on the embedded
// default and on PostgreSQL, with one and two instances. Measures starts per second and the start lag (a run's
// start minus the grid slot it was due at) over whole periods after a warm-up period. Prints one JSON object on
// stdout; progress on stderr. Every server is stopped and every temp dir and database removed on exit, on error,
// on SIGINT/SIGTERM and when the deadline passes. See README.md in this folder.
//
//   npm run bench:schedules              (from the repository root)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../packages/server/src/storage/open.ts';
import { calibrationCpuMs } from '../support/calibrate.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;
const serverDir = join(repoRoot, 'packages/server');
const serverMain = process.env['BENCH_SWITCHBOARD_MAIN'] || join(serverDir, 'src/main.ts');
const adminUrl = process.env['BENCH_POSTGRES_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';

function num(name: string, fallback: number): number {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return n;
}
const SCHEDULES = num('BENCH_SCHEDULES', 10_000);
const PERIOD_S = 30;
const MEASURE_PERIODS = num('BENCH_MEASURE_PERIODS', 2);
const DEADLINE_S = num('BENCH_DEADLINE_SECONDS', 1500);
const LOG_LEVEL = process.env['BENCH_SWITCHBOARD_LOG_LEVEL'] || 'info';
// BENCH_CPU_PROF=<dir>: run the servers under --cpu-prof, profiles written there (figures from such a run are slowed down).
type Scenario = { backend: 'embedded' | 'postgres'; instances: number };
const SCENARIOS: Scenario[] = (process.env['BENCH_SCENARIOS'] || 'embedded-1,postgres-1,postgres-2').split(',').map((s) => {
    const m = /^(embedded|postgres)-(\d)$/.exec(s.trim());
    if (!m || (m[1] === 'embedded' && m[2] !== '1')) throw new Error(`BENCH_SCENARIOS: "${s}" is not embedded-1, postgres-1 or postgres-N`);
    return { backend: m[1] as Scenario['backend'], instances: Number(m[2]) };
});
const log = (msg: string) => process.stderr.write(`[schedules] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((n) => Math.round(n * 100) / 100);

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: whatever was started is stopped, whatever was created is removed, however the run ends.

const cleanups: Array<() => Promise<void> | void> = [];
async function cleanupAll(): Promise<void> {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
        log(`${sig}: stopping`);
        void cleanupAll().finally(() => process.exit(130));
    });
const deadline = setTimeout(() => {
    log(`deadline of ${DEADLINE_S} s passed: stopping`);
    void cleanupAll().finally(() => process.exit(2));
}, DEADLINE_S * 1000);
deadline.unref();

// ---------------------------------------------------------------------------------------------------------------
// Servers

interface Server {
    url: string;
    child: ChildProcess;
    /** `sync run finished` lines seen so far: this instance's finished runs. */
    finished: number;
    warnings: string[];
    stop(): Promise<void>;
}

function startServer(env: Record<string, string>): Promise<Server> {
    const prof = process.env['BENCH_CPU_PROF'];
    const child = spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), serverMain], {
        cwd: serverDir,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    const s: Server = {
        url: '',
        child,
        finished: 0,
        warnings: [],
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
                child.once('exit', () => {
                    clearTimeout(kill);
                    resolve();
                });
                child.kill('SIGTERM');
            })
    };
    cleanups.push(() => s.stop());
    return new Promise((resolve, reject) => {
        let head = '';
        let partial = '';
        const timer = setTimeout(() => reject(new Error(`server did not start:\n${head}`)), 120_000);
        const onData = (chunk: Buffer) => {
            const text = partial + chunk.toString();
            const lines = text.split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) {
                if (!s.url) {
                    head += `${line}\n`;
                    const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"/.exec(line);
                    if (m) {
                        s.url = m[1]!;
                        clearTimeout(timer);
                        resolve(s);
                    }
                }
                if (line.includes('"msg":"sync run finished"')) s.finished++;
                else if (/"level":(40|50|60)/.test(line) && s.warnings.length < 20) s.warnings.push(line.slice(0, 400));
            }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => {
            clearTimeout(timer);
            if (!s.url) reject(new Error(`server exited with ${code}:\n${head}`));
        });
    });
}

// CPU time (ms) of the servers, their descendants (runner processes; the embedded PostgreSQL) and, on an external
// PostgreSQL, the backends of the bench's database: a figure per started run that does not depend on how busy the
// shared machine is, unlike the wall-clock lag.
function procCpuMs(pid: number): number {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
        return 0;
    }
}
function descendants(roots: number[]): number[] {
    const parent = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
            parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        } catch {
            // gone meanwhile
        }
    }
    const out = new Set(roots);
    for (let grew = true; grew; ) {
        grew = false;
        for (const [pid, ppid] of parent) {
            if (out.has(ppid) && !out.has(pid)) {
                out.add(pid);
                grew = true;
            }
        }
    }
    return [...out];
}
async function cpuSample(servers: Server[], dbUrl: string | undefined): Promise<{ servers: number; main: number; database: number; xacts: number }> {
    const mains = servers.map((s) => s.child.pid!).filter(Boolean);
    const own = descendants(mains);
    let database = 0;
    let xacts = 0;
    if (dbUrl) {
        const c = new pg.Client({ connectionString: dbUrl });
        await c.connect();
        const rows = (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows;
        // Transactions committed in this database (a statement outside a transaction counts as one).
        xacts = Number((await c.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]?.n ?? 0);
        await c.end();
        for (const r of rows) database += procCpuMs(r.pid);
    }
    return { servers: own.reduce((a, p) => a + procCpuMs(p), 0), main: mains.reduce((a, p) => a + procCpuMs(p), 0), database, xacts };
}

async function api(s: Server, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    const res = await fetch(`${s.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
    });
    return { status: res.status, body: await res.text() };
}

function deployBody(integration: string): unknown {
    return {
        flowConfigs: [
            {
                type: 'sync',
                syncName: 'noop',
                providerConfigKey: integration,
                models: [],
                runs: `every ${PERIOD_S} seconds`,
                auto_start: true,
                track_deletes: false,
                sync_type: 'full',
                endpoints: [],
                metadata: { description: 'noop', scopes: [] },
                attributes: {},
                version: '1.0.0',
                fileBody: { js: readFileSync(new URL('./noop-sync.cjs', import.meta.url), 'utf8'), ts: '// source' },
                models_json_schema: { definitions: {} },
                features: []
            }
        ],
        nangoYamlBody: '',
        reconcile: false,
        debug: false,
        sdkVersion: '0.71.10-zero'
    };
}

// ---------------------------------------------------------------------------------------------------------------
// One scenario

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : null);
const round = (n: number | null) => (n === null ? null : Math.round(n));

interface RunRow {
    started: number;
    queued: number;
    finished: number | null;
    due: number;
    syncId: string;
}

async function readRuns(backend: Scenario['backend'], dbUrl: string | undefined, dataDir: string, from: number, to: number): Promise<RunRow[]> {
    const sql = `SELECT r.sync_id, extract(epoch from r.started_at) * 1000 AS started, extract(epoch from r.queued_at) * 1000 AS queued,
            extract(epoch from r.finished_at) * 1000 AS finished, extract(epoch from r.due_at) * 1000 AS due
        FROM runs r
        WHERE r.kind = 'sync' AND r.started_at >= to_timestamp($1::float8 / 1000) AND r.started_at < to_timestamp($2::float8 / 1000)`;
    const db = await openDatabase({ databaseUrl: backend === 'postgres' ? dbUrl : undefined, dataDir });
    try {
        const rows = await db.query<{ started: string; queued: string; finished: string | null; due: string; sync_id: string }>(sql, [from, to]);
        return rows.map((r) => ({
            started: Number(r.started),
            queued: Number(r.queued),
            finished: r.finished === null ? null : Number(r.finished),
            due: Number(r.due),
            syncId: r.sync_id
        }));
    } finally {
        await db.close();
    }
}

async function scenario(sc: Scenario): Promise<Record<string, unknown>> {
    const name = `${sc.backend}-${sc.instances}`;
    const loadAtStart = load();
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-schedules-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let dbUrl: string | undefined;
    if (sc.backend === 'postgres') {
        const dbName = `sb_bench_schedules_${randomBytes(5).toString('hex')}`;
        const admin = new pg.Client({ connectionString: adminUrl });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${dbName}`);
        await admin.end();
        dbUrl = adminUrl.replace(/\/[^/]+$/, `/${dbName}`);
        cleanups.push(async () => {
            const c = new pg.Client({ connectionString: adminUrl });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
            await c.end();
        });
    }
    const providers = join(dataDir, 'providers.yaml');
    writeFileSync(providers, 'noop-api:\n  display_name: Noop\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:9\n');
    const key = randomUUID();
    const env: Record<string, string> = {
        SWITCHBOARD_SECRET_KEY: key,
        SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SWITCHBOARD_PROVIDERS: providers,
        SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: '0',
        SWITCHBOARD_LOG_LEVEL: LOG_LEVEL,
        ...(dbUrl ? { SWITCHBOARD_DATABASE_URL: dbUrl } : { SWITCHBOARD_DATA_DIR: join(dataDir, 'data') })
    };
    const servers: Server[] = [];
    for (let i = 0; i < sc.instances; i++) servers.push(await startServer(env));
    const first = servers[0]!;
    const integration = 'noop';
    const created = await api(first, key, 'POST', '/integrations', { unique_key: integration, provider: 'noop-api' });
    if (created.status !== 200) throw new Error(`POST /integrations: ${created.status} ${created.body}`);

    // N connections through the API, 32 at a time, spread over the instances.
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
        Array.from({ length: 32 }, async (_, w) => {
            for (let i = next++; i < SCHEDULES; i = next++) {
                const r = await api(servers[(i + w) % servers.length]!, key, 'POST', '/connections', {
                    provider_config_key: integration,
                    connection_id: `c-${i}`,
                    credentials: { type: 'API_KEY', apiKey: 'k' }
                });
                if (r.status !== 201) throw new Error(`POST /connections: ${r.status} ${r.body}`);
            }
        })
    );
    const connectionsSeconds = (Date.now() - t0) / 1000;
    log(`${name}: ${SCHEDULES} connections in ${connectionsSeconds.toFixed(1)} s`);

    // Deploying after the connections exist creates every schedule at once: the case where all first runs would
    // otherwise fall due in the same instant.
    const deployed = await api(first, key, 'POST', '/sync/deploy', deployBody(integration));
    if (deployed.status !== 200) throw new Error(`POST /sync/deploy: ${deployed.status} ${deployed.body}`);
    const deployedAt = Date.now();
    const warmupMs = PERIOD_S * 1000 + 5000;
    log(`${name}: deployed; warming up ${warmupMs / 1000} s, then measuring ${MEASURE_PERIODS} × ${PERIOD_S} s`);
    await sleep(warmupMs);
    const from = Date.now();
    const finishedBefore = servers.map((s) => s.finished);
    const loadAtWindowStart = load();
    const calibrationAtStart = calibrationCpuMs();
    const cpuBefore = await cpuSample(servers, dbUrl);
    await sleep(MEASURE_PERIODS * PERIOD_S * 1000);
    const cpuAfter = await cpuSample(servers, dbUrl);
    const calibrationAtEnd = calibrationCpuMs();
    const to = Date.now();
    const loadAtWindowEnd = load();
    const perInstance = servers.map((s, i) => s.finished - finishedBefore[i]!);
    const warnings = servers.flatMap((s) => s.warnings).slice(0, 5);
    for (const s of servers) await s.stop();

    const rows = await readRuns(sc.backend, dbUrl, join(dataDir, 'data'), from, to);
    const startLag: number[] = [];
    const queueLag: number[] = [];
    const finishLag: number[] = [];
    for (const r of rows) {
        // The slot a run was due at, as its scheduler recorded it (runs.due_at). A negative claim lag is a run
        // queued ahead of its slot.
        const slot = r.due;
        startLag.push(r.started - slot);
        queueLag.push(r.queued - slot);
        if (r.finished !== null) finishLag.push(r.finished - slot);
    }
    for (const a of [startLag, queueLag, finishLag]) a.sort((x, y) => x - y);
    // Two starts of one schedule closer than its period would be a double start (or a replayed slot).
    const bySync = new Map<string, number[]>();
    for (const r of rows) bySync.set(r.syncId, [...(bySync.get(r.syncId) ?? []), r.due]);
    let closerThanPeriod = 0;
    for (const dues of bySync.values()) {
        dues.sort((x, y) => x - y);
        for (let i = 1; i < dues.length; i++) if (dues[i]! - dues[i - 1]! < PERIOD_S * 1000 - 1) closerThanPeriod++;
    }
    const seconds = (to - from) / 1000;
    const result = {
        scenario: name,
        backend: sc.backend,
        instances: sc.instances,
        schedules: SCHEDULES,
        interval_seconds: PERIOD_S,
        connections_created_seconds: Math.round(connectionsSeconds * 10) / 10,
        measured_from_seconds_after_deploy: Math.round((from - deployedAt) / 1000),
        measured_seconds: Math.round(seconds),
        starts: rows.length,
        starts_expected: Math.round((SCHEDULES * seconds) / PERIOD_S),
        starts_per_second: Math.round((rows.length / seconds) * 10) / 10,
        schedules_started: bySync.size,
        starts_closer_than_period: closerThanPeriod,
        starts_per_second_needed: Math.round((SCHEDULES / PERIOD_S) * 10) / 10,
        start_lag_ms: { p50: round(pct(startLag, 50)), p99: round(pct(startLag, 99)), max: round(startLag.at(-1) ?? null) },
        claim_lag_ms: { p50: round(pct(queueLag, 50)), p99: round(pct(queueLag, 99)), max: round(queueLag.at(-1) ?? null) },
        finish_lag_ms: { p50: round(pct(finishLag, 50)), p99: round(pct(finishLag, 99)), max: round(finishLag.at(-1) ?? null) },
        runs_finished_per_instance: perInstance,
        // Per started run, over the window: the servers with their runner processes (and the embedded PostgreSQL),
        // and the external PostgreSQL's backends of this database (their CPU while connected).
        cpu_ms_per_start: {
            servers: rows.length ? Math.round(((cpuAfter.servers - cpuBefore.servers) / rows.length) * 100) / 100 : null,
            // of which the servers' own processes (the rest: runner processes, and the embedded PostgreSQL)
            servers_main: rows.length ? Math.round(((cpuAfter.main - cpuBefore.main) / rows.length) * 100) / 100 : null,
            database: rows.length && dbUrl ? Math.round(((cpuAfter.database - cpuBefore.database) / rows.length) * 100) / 100 : null
        },
        // Transactions the database committed per started run (PostgreSQL only; stats may lag by a second).
        db_transactions_per_start: rows.length && dbUrl ? Math.round(((cpuAfter.xacts - cpuBefore.xacts) / rows.length) * 100) / 100 : null,
        goal: {
            start_lag_p99_ms: 1000,
            pass: startLag.length > 0 && (pct(startLag, 99) ?? Infinity) < 1000 && rows.length >= 0.97 * ((SCHEDULES * seconds) / PERIOD_S)
        },
        loadavg: { at_start: loadAtStart, window_start: loadAtWindowStart, window_end: loadAtWindowEnd },
        // CPU ms of a fixed piece of work at the window's start and end (bench/support/calibrate.ts): CPU figures
        // of two runs compare only at similar calibration.
        calibration_cpu_ms: [calibrationAtStart, calibrationAtEnd],
        warnings
    };
    log(
        `${name}: ${JSON.stringify({ starts_per_second: result.starts_per_second, start_lag_ms: result.start_lag_ms, cpu_ms_per_start: result.cpu_ms_per_start, db_transactions_per_start: result.db_transactions_per_start, calibration_cpu_ms: result.calibration_cpu_ms, loadavg: result.loadavg.window_end })}`
    );
    await cleanupAll();
    return result;
}

const started = Date.now();
const results: Array<Record<string, unknown>> = [];
try {
    for (const sc of SCENARIOS) {
        try {
            results.push(await scenario(sc));
        } catch (err) {
            log(`${sc.backend}-${sc.instances} failed: ${(err as Error).stack ?? String(err)}`);
            results.push({ scenario: `${sc.backend}-${sc.instances}`, error: (err as Error).message.slice(0, 2000) });
            await cleanupAll();
        }
    }
} finally {
    await cleanupAll();
    clearTimeout(deadline);
}
process.stdout.write(
    `${JSON.stringify({ node: process.version, cpus: cpus().length, seconds: Math.round((Date.now() - started) / 1000), loadavg_at_end: load(), results }, null, 2)}\n`
);
