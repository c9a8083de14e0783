// Records read over HTTP: GET /records?model=…&limit=… following next_cursor with N concurrent clients, on the
// embedded default and on PostgreSQL, beside two baselines measured in the same run: nginx serving a page of the
// same size as a static file, and the store's page read without HTTP (direct SQL). Also the read while a sync's
// ingest runs. Three runs of each scenario, median and spread; one JSON object on stdout, progress on stderr.
// See README.md in this folder.
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { calibrationCpuMs } from '../support/calibrate.ts';
import { SERVER_NODE_FLAGS } from '../../packages/server/src/runtime/heap.ts';

const num = (name: string, fallback: number) => Number(process.env[name] || fallback);
const RECORDS = num('BENCH_RECORDS', 100_000);
const SECONDS = num('BENCH_SECONDS', 5);
const WARMUP = num('BENCH_WARMUP_SECONDS', 1);
const CLIENTS = num('BENCH_CONNECTIONS', 10);
const RUNS = num('BENCH_RUNS', 3);
const BACKENDS = (process.env['BENCH_BACKENDS'] || 'embedded,postgres').split(',').map((s) => s.trim());
const SCENARIOS = (process.env['BENCH_SCENARIOS'] || 'http_100,http_1000,http_100_during_ingest,nginx_100,nginx_1000,sql_100').split(',').map((s) => s.trim());
const ADMIN_URL = process.env['BENCH_POSTGRES_ADMIN_URL'] || 'postgresql://postgres@127.0.0.1:5432/test';
const CPU_PROF = process.env['BENCH_CPU_PROF'] || '';
const NGINX = process.env['BENCH_NGINX'] || '/usr/sbin/nginx';
// Nango's GET /records read 3,200 to 10,700 records/s in the issue's measurement; the goal is 20 times the upper one.
const NANGO = [3200, 10_700];
const GOAL = 20 * NANGO[1]!;
const MODEL = 'Ticket';
const repoRoot = new URL('../../', import.meta.url).pathname;
const here = new URL('./', import.meta.url).pathname;

const log = (msg: string) => process.stderr.write(`[records-read] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = createServer().once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const a = srv.address();
            srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
        });
    });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
function procStat(pid: number): string[] | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
        return undefined;
    }
}
const cpuSeconds = (pids: number[]) => pids.reduce((s, p) => s + (procStat(p) ? (Number(procStat(p)![11]) + Number(procStat(p)![12])) / CLK_TCK : 0), 0);
function descendants(root: number): number[] {
    const byParent = new Map<number, number[]>();
    for (const e of readdirSync('/proc')) {
        const f = /^\d+$/.test(e) ? procStat(Number(e)) : undefined;
        if (f) byParent.set(Number(f[1]), [...(byParent.get(Number(f[1])) ?? []), Number(e)]);
    }
    const out: number[] = [];
    for (let queue = [root]; queue.length > 0; ) {
        const next = byParent.get(queue.shift()!) ?? [];
        out.push(...next);
        queue.push(...next);
    }
    return out;
}

/** A Switchboard server (bench/records-read/serve.ts) on one backend, with one connection holding RECORDS records. */
interface Server {
    url: string;
    pid: number;
    key: string;
    command(line: string): Promise<Record<string, unknown>>;
    dbPids(): Promise<number[]>;
}

async function startServer(backend: string): Promise<Server> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-records-read-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'providers.yaml'), 'bench-api:\n  display_name: Bench API\n  auth_mode: API_KEY\n  proxy:\n    base_url: http://127.0.0.1:9\n');
    const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        SWITCHBOARD_DATA_DIR: join(dir, 'data'),
        SWITCHBOARD_SECRET_KEY: randomUUID(),
        SWITCHBOARD_LOG_LEVEL: 'warn',
        SWITCHBOARD_PROVIDERS: join(dir, 'providers.yaml'),
        ...(process.env['BENCH_SWITCHBOARD_SRC'] ? { BENCH_SWITCHBOARD_SRC: process.env['BENCH_SWITCHBOARD_SRC'] } : {})
    };
    if (backend === 'postgres') {
        const name = `sb_bench_read_${randomBytes(5).toString('hex')}`;
        const admin = new pg.Client({ connectionString: ADMIN_URL });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${name}`);
        await admin.end();
        cleanups.push(async () => {
            const c = new pg.Client({ connectionString: ADMIN_URL });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            await c.end();
        });
        env['SWITCHBOARD_DATABASE_URL'] = ADMIN_URL.replace(/\/[^/]+$/, `/${name}`);
        env['SWITCHBOARD_ENCRYPTION_KEY'] = randomBytes(32).toString('base64');
    }
    const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
    // As `npm start` runs the server (packages/server/src/runtime/heap.ts).
    const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeArgs, join(here, 'serve.ts')], {
        cwd: repoRoot,
        env,
        stdio: ['pipe', 'pipe', 'inherit']
    });
    children.push(proc);
    const waiting: Array<(v: Record<string, unknown>) => void> = [];
    createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (line.startsWith('@@ ')) waiting.shift()?.(JSON.parse(line.slice(3)) as Record<string, unknown>);
        else if (/"level":(4|5|6)\d/.test(line)) process.stderr.write(`[switchboard] ${line.slice(0, 300)}\n`);
    });
    const next = () => new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
    const ready = await Promise.race([next(), new Promise<never>((_, reject) => proc.once('exit', (c) => reject(new Error(`server exited (${c})`))))]);
    const url = String(ready['ready']);
    const command = async (line: string) => {
        const answer = next();
        proc.stdin!.write(`${line}\n`);
        const value = await answer;
        if (value['error']) throw new Error(`${line}: ${String(value['error'])}`);
        return value;
    };
    const key = env['SWITCHBOARD_SECRET_KEY']!;
    const api = async (path: string, body: unknown) => {
        const res = await fetch(`${url}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body)
        });
        if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    };
    await api('/integrations', { provider: 'bench-api', unique_key: 'bench' });
    await api('/connections', { provider_config_key: 'bench', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: 'k' } });
    // Embedded: the PostgreSQL processes are the server's children. External: the backends of the bench's database.
    const dbPids = async () =>
        backend === 'postgres' ? ((await command('dbpids'))['pids'] as number[]) : descendants(proc.pid!).filter((p) => p !== proc.pid);
    return { url, pid: proc.pid!, key, command, dbPids };
}

async function stopServer(s: Server): Promise<void> {
    const proc = children.find((c) => c.pid === s.pid);
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
}

/** nginx serving the same pages as static files: what sending these bytes over HTTP costs at the least. */
async function startNginx(pages: Record<string, string>): Promise<{ url: string; pids: () => number[] } | { unavailable: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-records-nginx-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'www'));
    for (const [name, body] of Object.entries(pages)) writeFileSync(join(dir, 'www', name), body);
    const port = await freePort();
    writeFileSync(
        join(dir, 'nginx.conf'),
        `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 1024; }\n` +
            `http { access_log off; keepalive_requests 1000000; sendfile on; client_body_temp_path ${dir}; proxy_temp_path ${dir};\n` +
            `  fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};\n` +
            `  server { listen 127.0.0.1:${port}; location / { root ${dir}/www; default_type application/json; } } }\n`
    );
    const proc = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    children.push(proc);
    proc.once('error', () => undefined);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
        if (proc.exitCode !== null || proc.pid === undefined) break;
        if (
            await fetch(`${url}/${Object.keys(pages)[0]}`).then(
                (r) => r.ok,
                () => false
            )
        )
            return { url, pids: () => [proc.pid!, ...descendants(proc.pid!)] };
        await sleep(100);
    }
    return { unavailable: `nginx (${NGINX}) did not start; install it with apt-get install -y nginx-light` };
}

interface Sample {
    req_per_s: number;
    records_per_s: number;
    p50_ms: number;
    p99_ms: number;
    server_cpu_ms_per_request: number;
    database_cpu_ms_per_request: number;
    errors: number;
    ingest_records_per_s?: number;
}

function percentile(sorted: number[], p: number): number {
    return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

type Ac = PromiseLike<{ duration: number; errors: number; non2xx: number; '2xx': number }> & {
    on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};

/** N clients each reading the whole feed page after page (starting again at the end), for `seconds`. */
async function httpLoad(
    base: string,
    headers: Record<string, string>,
    path: (cursor: string | undefined) => string,
    limit: number,
    seconds: number,
    following: boolean
) {
    const latencies: number[] = [];
    const requests = [
        {
            setupRequest: (req: { path: string }, context: { cursor?: string }) => ({ ...req, path: path(context.cursor) }),
            onResponse: following
                ? (_status: number, body: string, context: { cursor?: string }) => {
                      context.cursor = /"next_cursor":(null|"([^"]*)")\}$/.exec(body.slice(-200))?.[2];
                  }
                : undefined
        }
    ];
    const instance = (autocannon as unknown as (o: Record<string, unknown>) => Ac)({
        url: base,
        headers,
        connections: CLIENTS,
        duration: seconds,
        requests,
        timeout: 20
    });
    instance.on('response', (_c, status, _b, ms) => {
        if (status === 200) latencies.push(ms);
    });
    const result = await instance;
    return { ok: result['2xx'], seconds: result.duration, errors: result.errors + result.non2xx, records: result['2xx'] * limit, latencies };
}

async function measure(scenario: string, server: Server, nginx: { url: string; pids: () => number[] } | undefined): Promise<Sample | { skipped: string }> {
    const [kind, limitText] = scenario.split('_');
    const limit = Number(limitText);
    const ingest = scenario.endsWith('_during_ingest');
    if (kind === 'nginx' && !nginx) return { skipped: 'nginx unavailable' };
    const serverPids = kind === 'nginx' ? nginx!.pids() : [server.pid];
    const headers = { authorization: `Bearer ${server.key}`, 'connection-id': 'c1', 'provider-config-key': 'bench' };
    const path = (cursor: string | undefined) =>
        kind === 'nginx' ? `/page${limit}.json` : `/records?model=${MODEL}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const base = kind === 'nginx' ? nginx!.url : server.url;
    if (kind !== 'sql') await httpLoad(base, headers, path, limit, WARMUP, kind === 'http');
    if (ingest) await server.command('ingest start c1');
    const dbPids = kind === 'nginx' ? [] : await server.dbPids();
    const cpu0 = [cpuSeconds(serverPids), cpuSeconds(dbPids)];
    let run: { ok: number; seconds: number; errors: number; records: number; latencies: number[] };
    if (kind === 'sql') {
        const r = await server.command(`sql c1 ${MODEL} ${limit} ${CLIENTS} ${SECONDS}`);
        run = { ok: Number(r['pages']), seconds: Number(r['seconds']), errors: 0, records: Number(r['records']), latencies: r['latencies_ms'] as number[] };
    } else run = await httpLoad(base, headers, path, limit, SECONDS, kind === 'http');
    const cpu = [cpuSeconds(serverPids) - cpu0[0]!, cpuSeconds(dbPids) - cpu0[1]!];
    const ingested = ingest ? await server.command('ingest stop') : undefined;
    const sorted = run.latencies.sort((a, b) => a - b);
    return {
        req_per_s: round(run.ok / run.seconds),
        records_per_s: Math.round(run.records / run.seconds),
        p50_ms: round(percentile(sorted, 50), 2),
        p99_ms: round(percentile(sorted, 99), 2),
        server_cpu_ms_per_request: round((cpu[0]! * 1000) / run.ok, 3),
        database_cpu_ms_per_request: round((cpu[1]! * 1000) / run.ok, 3),
        errors: run.errors,
        ...(ingested ? { ingest_records_per_s: Number(ingested['records_per_s']) } : {})
    };
}

/** Median of each figure over the runs, and its spread (min, max). */
function summarise(samples: Sample[]) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(samples[0]!) as Array<keyof Sample>) {
        const xs = samples.map((s) => s[k] ?? 0).sort((a, b) => a - b);
        out[k] = { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs[xs.length - 1] };
    }
    return out;
}

async function runBackend(backend: string) {
    log(`${backend}: starting the server`);
    const server = await startServer(backend);
    try {
        const loaded = await server.command(`load c1 ${MODEL} ${RECORDS}`);
        log(`${backend}: ${RECORDS} records loaded in ${round(Number(loaded['seconds']))} s`);
        const headers = { authorization: `Bearer ${server.key}`, 'connection-id': 'c1', 'provider-config-key': 'bench' };
        const pages: Record<string, string> = {};
        for (const limit of [100, 1000])
            pages[`page${limit}.json`] = await (await fetch(`${server.url}/records?model=${MODEL}&limit=${limit}`, { headers })).text();
        const nginx = SCENARIOS.some((s) => s.startsWith('nginx')) ? await startNginx(pages) : undefined;
        if (nginx && 'unavailable' in nginx) log(nginx.unavailable);
        const samples: Record<string, Array<Sample | { skipped: string }>> = {};
        for (let run = 1; run <= RUNS; run++) {
            for (const scenario of SCENARIOS) {
                const sample = await measure(scenario, server, nginx && !('unavailable' in nginx) ? nginx : undefined);
                (samples[scenario] ??= []).push(sample);
                log(`${backend} run ${run} ${scenario}: ${JSON.stringify(sample)}`);
            }
        }
        const result: Record<string, unknown> = { records_in_feed: RECORDS, load_seconds: round(Number(loaded['seconds'])) };
        for (const [scenario, list] of Object.entries(samples)) {
            const real = list.filter((s): s is Sample => !('skipped' in s));
            result[scenario] = real.length > 0 ? summarise(real) : list[0];
        }
        const med = (s: string) => (result[s] as Record<string, { median: number }> | undefined)?.['records_per_s']?.median ?? Number.NaN;
        result['ratios'] = {
            http_100_to_nango: [round(med('http_100') / NANGO[1]!), round(med('http_100') / NANGO[0]!)],
            http_1000_to_nango: [round(med('http_1000') / NANGO[1]!), round(med('http_1000') / NANGO[0]!)],
            goal_records_per_s: GOAL,
            http_100_pass: med('http_100') >= GOAL,
            http_1000_pass: med('http_1000') >= GOAL,
            http_100_to_nginx: round(med('http_100') / med('nginx_100'), 2),
            http_1000_to_nginx: round(med('http_1000') / med('nginx_1000'), 2),
            http_100_to_sql: round(med('http_100') / med('sql_100'), 2),
            during_ingest_to_alone: round(med('http_100_during_ingest') / med('http_100'), 2)
        };
        return result;
    } finally {
        await stopServer(server);
    }
}

async function cleanup() {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await sleep(500);
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

const loadAtStart = loadavg();
const calibration = calibrationCpuMs();
const started = Date.now();
const results: Record<string, unknown> = {};
try {
    for (const backend of BACKENDS) results[backend] = await runBackend(backend).catch((err: Error) => ({ error: err.message }));
} finally {
    await cleanup();
}
process.stdout.write(
    `${JSON.stringify(
        {
            node: process.version,
            cpus: cpus().length,
            loadavg_at_start: loadAtStart.map((n) => round(n, 2)),
            loadavg_at_end: loadavg().map((n) => round(n, 2)),
            calibration_cpu_ms: [calibration, calibrationCpuMs()],
            seconds: Math.round((Date.now() - started) / 1000),
            clients: CLIENTS,
            seconds_per_run: SECONDS,
            runs: RUNS,
            nango_records_per_s: NANGO,
            ...results
        },
        null,
        2
    )}\n`
);
