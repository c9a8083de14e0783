// Proxy overhead benchmark: the same tiny loopback upstream measured directly, through nginx proxy_pass, and
// through Switchboard's /proxy, at 1 and 10 connections. Prints one JSON object on stdout; progress on stderr.
// Every child process (upstream, nginx, Switchboard) is stopped and every temp dir removed on exit, on error,
// on SIGINT/SIGTERM, and when the overall deadline passes. See README.md in this folder.
//
//   npm run bench:proxy                  (from the repository root; needs Node >= 22.18 / 24 for .ts)
//
// Environment knobs:
//   BENCH_SECONDS=8                  measured seconds per run
//   BENCH_WARMUP_SECONDS=10          warm-up seconds per run (discarded)
//   BENCH_ROUNDS=1                   the measured seconds in this many slices, taken in turn with the other targets
//   BENCH_CONNECTIONS=1,10           connection counts
//   BENCH_SCENARIOS=get,post_10k,post_5m   request kinds: a bodiless GET, a POST with a 10 KB JSON body, a POST
//                                    with a 5 MB body (each scenario runs against every target)
//   BENCH_TARGETS=direct,nginx,switchboard   add node-floor for a minimal node:http + undici proxy (no DB, no
//                                    vault, no validation): what a Node proxy costs at the least on this machine
//   BENCH_NGINX=/usr/sbin/nginx      nginx binary (default: found on PATH, then /usr/sbin/nginx)
//   BENCH_SWITCHBOARD_LOG_LEVEL=warn Switchboard's SWITCHBOARD_LOG_LEVEL (info logs one line per request)
//   BENCH_SWITCHBOARD_MAIN=<path>    run another checkout's packages/server/src/main.ts (a before/after comparison)
//   BENCH_CPU_PROF=1|<dir>           run Switchboard under --cpu-prof and add a hot-spot summary to the JSON
//                                    (a <dir> keeps the .cpuprofile there); numbers from such a run are slowed
//                                    down by the profiler and are not the benchmark result
//   BENCH_CPU_PROF_INTERVAL_US=<n>   the profiler's sampling interval with BENCH_CPU_PROF (Node's default: 1000)
//   BENCH_NODE_ARGS="<flags>"        extra Node flags for Switchboard and the node-floor (e.g. --perf-basic-prof)
//   BENCH_SWITCHBOARD_STDOUT=<file>  append Switchboard's stdout to this file (logs, V8 --trace-* output)
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
    appendFileSync,
    mkdtempSync,
    rmSync,
    writeFileSync,
    readFileSync,
    readdirSync,
    existsSync,
    mkdirSync,
    copyFileSync,
    accessSync,
    constants
} from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg, release, platform, arch } from 'node:os';
import { join, delimiter } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { summarize, type ProfileSummary } from './profile-top.ts';
import { SERVER_NODE_FLAGS } from '../../packages/server/src/runtime/heap.ts';

// ---------------------------------------------------------------------------------------------------------------
// Configuration

const repoRoot = new URL('../../', import.meta.url).pathname;
const here = new URL('./', import.meta.url).pathname;
// BENCH_SWITCHBOARD_MAIN: another checkout's packages/server/src/main.ts, to measure a before/after on one machine.
const serverMain = process.env['BENCH_SWITCHBOARD_MAIN'] || join(repoRoot, 'packages/server/src/main.ts');
// BENCH_NODE_ARGS: extra Node flags for Switchboard and the node-floor (e.g. --perf-basic-prof for `perf record`).
const extraNodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
// BENCH_SWITCHBOARD_STDOUT: a file that gets a copy of Switchboard's stdout (its logs, and what V8's --trace-* flags print).
const stdoutCopy = process.env['BENCH_SWITCHBOARD_STDOUT'];

function num(name: string, fallback: number): number {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return n;
}
const SECONDS = num('BENCH_SECONDS', 8);
// 10 s: the measured figure is a warm server's. A Switchboard that idled while the other targets were measured has
// had its quiet-time collection (runtime/heap.ts: V8's young generation shrunk), and V8 was still optimising the
// request path 8 to 10 s into the load (--trace-opt): with 2 s the first scenario measured a cold process.
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 10);
// The measured seconds of each target are taken in this many slices, in turn with the other targets (measureAll).
const ROUNDS = Math.round(num('BENCH_ROUNDS', 1));
const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] || '1,10').split(',').map((s) => Number(s.trim()));
if (CONNECTIONS.some((c) => !Number.isInteger(c) || c <= 0)) throw new Error('BENCH_CONNECTIONS must be a comma list of positive integers');
type ScenarioName = 'get' | 'post_10k' | 'post_5m';
const ALL_SCENARIOS: ScenarioName[] = ['get', 'post_10k', 'post_5m'];
const SCENARIOS = (process.env['BENCH_SCENARIOS'] || ALL_SCENARIOS.join(',')).split(',').map((s) => s.trim()) as ScenarioName[];
if (SCENARIOS.some((sc) => !ALL_SCENARIOS.includes(sc))) throw new Error(`BENCH_SCENARIOS must be a comma list of ${ALL_SCENARIOS.join(', ')}`);
type TargetName = 'direct' | 'nginx' | 'switchboard' | 'node-floor';
const ALL_TARGETS: TargetName[] = ['direct', 'nginx', 'switchboard', 'node-floor'];
const DEFAULT_TARGETS: TargetName[] = ['direct', 'nginx', 'switchboard'];
const TARGETS = (process.env['BENCH_TARGETS'] || DEFAULT_TARGETS.join(',')).split(',').map((s) => s.trim()) as TargetName[];
if (TARGETS.some((t) => !ALL_TARGETS.includes(t))) throw new Error(`BENCH_TARGETS must be a comma list of ${ALL_TARGETS.join(', ')}`);
const SB_LOG_LEVEL = process.env['BENCH_SWITCHBOARD_LOG_LEVEL'] || 'warn';
const CPU_PROF = process.env['BENCH_CPU_PROF'] || '';
const NGINX_WORKERS = 1; // see README: one request-processing thread, like Switchboard's one Node process

const UPSTREAM_TOKEN = 'k'; // the provider credential; direct and nginx send it themselves, Switchboard injects it
const TARGETS_SPEC = { rps_ratio_min: 0.5, added_p50_ms_max: 1 };

interface Scenario {
    name: ScenarioName;
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body: Buffer | undefined;
}

/** A JSON document of about `bytes` bytes, like a batch of records an app writes to a provider. */
function jsonBody(bytes: number): Buffer {
    const items: Array<{ id: string; name: string; email: string; note: string }> = [];
    let size = 12;
    for (let i = 0; size < bytes - 120; i++) {
        const item = {
            id: `rec_${String(i).padStart(6, '0')}`,
            name: `Record number ${i}`,
            email: `person${i}@example.com`,
            note: 'lorem ipsum dolor sit amet'
        };
        items.push(item);
        size += JSON.stringify(item).length + 1;
    }
    return Buffer.from(JSON.stringify({ items }));
}

const SCENARIO_DEFS: Record<ScenarioName, () => Scenario> = {
    get: () => ({ name: 'get', method: 'GET', headers: {}, body: undefined }),
    post_10k: () => ({ name: 'post_10k', method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonBody(10 * 1024) }),
    // Bytes that do not compress, as a file upload would be.
    post_5m: () => ({ name: 'post_5m', method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(5 * 1024 * 1024) })
};

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Child processes and temp dirs: tracked so every exit path can clean them up.

interface Child {
    name: string;
    proc: ChildProcess;
    /** Extra pids to kill with it (nginx workers). */
    extraPids: () => number[];
}
const children: Child[] = [];
const tempDirs: string[] = [];
/** Switchboard's warn/error log lines by message (and error code), for the JSON. */
const logCounts = new Map<string, number>();

function alive(proc: ChildProcess): boolean {
    return proc.exitCode === null && proc.signalCode === null;
}

function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function childPidsOf(ppid: number): number[] {
    const out: number[] = [];
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
            const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (Number(fields[1]) === ppid) out.push(Number(entry));
        } catch {
            // exited meanwhile
        }
    }
    return out;
}

function killSync(): void {
    for (const c of children) {
        const extra = (() => {
            try {
                return c.extraPids();
            } catch {
                return [];
            }
        })();
        if (c.proc.pid !== undefined && alive(c.proc)) {
            try {
                process.kill(c.proc.pid, 'SIGKILL');
            } catch {
                // gone
            }
        }
        for (const pid of extra) {
            try {
                process.kill(pid, 'SIGKILL');
            } catch {
                // gone
            }
        }
    }
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

async function stopChild(c: Child, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const extra = c.extraPids();
    if (alive(c.proc)) {
        const exited = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
        c.proc.kill(signal);
        const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
        if (timedOut && alive(c.proc)) {
            log(`${c.name} did not stop within ${graceMs} ms after ${signal}; killing it`);
            c.proc.kill('SIGKILL');
            await Promise.race([exited, sleep(2000)]);
        }
    }
    for (const pid of extra) {
        if (!pidAlive(pid)) continue;
        const deadline = Date.now() + 2000;
        while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
        if (pidAlive(pid)) {
            try {
                process.kill(pid, 'SIGKILL');
            } catch {
                // gone
            }
        }
    }
    const i = children.indexOf(c);
    if (i !== -1) children.splice(i, 1);
}

let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
    cleaningUp ??= (async () => {
        // Switchboard first (graceful, so --cpu-prof can write its profile), then nginx, then the upstream.
        const order = ['switchboard', 'node-floor', 'nginx', 'upstream'];
        const sorted = [...children].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
        for (const c of sorted) await stopChild(c, 'SIGTERM', c.name === 'switchboard' ? 10_000 : 3000).catch(() => undefined);
        killSync();
    })();
    return cleaningUp;
}

process.on('exit', killSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
        log(`received ${sig}; stopping children`);
        void cleanup().finally(() => process.exit(130));
    });
}
process.on('uncaughtException', (err) => {
    log(`fatal: ${err.stack ?? err}`);
    void cleanup().finally(() => process.exit(1));
});
process.on('unhandledRejection', (err) => {
    log(`fatal: ${(err as Error)?.stack ?? err}`);
    void cleanup().finally(() => process.exit(1));
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

function tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const addr = srv.address();
            const port = typeof addr === 'object' && addr ? addr.port : 0;
            srv.close(() => resolve(port));
        });
    });
}

async function httpGet(url: string, headers: Record<string, string>, timeoutMs = 2000): Promise<{ status: number; body: string }> {
    const res = await fetch(url, { headers: { ...headers, connection: 'close' }, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, abortIf?: () => string | undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr = '';
    while (Date.now() < deadline) {
        const reason = abortIf?.();
        if (reason) throw new Error(`${what}: ${reason}`);
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (err) {
            lastErr = (err as Error).message;
        }
        await sleep(100);
    }
    throw new Error(`${what}: not ready after ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ''}`);
}

const CLK_TCK = (() => {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** CPU seconds (user + system) a process has used so far, from /proc; undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // after "pid (comm) ": state=0 ppid=1 ... utime=11 stime=12
        return (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
        return undefined;
    }
}

function rssMb(pid: number): number | undefined {
    try {
        const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
    } catch {
        return undefined;
    }
}

function round(n: number | null | undefined, digits = 3): number | null {
    if (n === null || n === undefined || !Number.isFinite(n)) return null;
    const f = 10 ** digits;
    return Math.round(n * f) / f;
}

function percentile(sorted: Float64Array, p: number): number {
    if (sorted.length === 0) return NaN;
    const rank = Math.ceil((p / 100) * sorted.length) - 1; // nearest-rank
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

function lineReader(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function findOnPath(bin: string, extra: string[]): string | undefined {
    const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...extra];
    for (const d of dirs) {
        if (!d) continue;
        const p = join(d, bin);
        try {
            accessSync(p, constants.X_OK);
            return p;
        } catch {
            // next
        }
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The three processes

interface Upstream {
    port: number;
    bodyBytes: number;
    pid: number;
    body: string;
}

async function startUpstream(): Promise<Upstream> {
    const proc = spawn(process.execPath, [join(here, 'upstream.ts')], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { PATH: process.env['PATH'] ?? '', BENCH_UPSTREAM_TOKEN: UPSTREAM_TOKEN }
    });
    children.push({ name: 'upstream', proc, extraPids: () => [] });
    const info = await new Promise<{ port: number; bodyBytes: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('upstream did not report its port within 10 s')), 10_000);
        proc.once('exit', (code, sig) => reject(new Error(`upstream exited early (${code ?? sig})`)));
        lineReader(proc.stdout!, (line) => {
            try {
                const msg = JSON.parse(line) as { port: number; bodyBytes: number };
                clearTimeout(timer);
                resolve(msg);
            } catch {
                // ignore
            }
        });
    });
    const res = await httpGet(`http://127.0.0.1:${info.port}/items`, { authorization: `Bearer ${UPSTREAM_TOKEN}` });
    if (res.status !== 200) throw new Error(`upstream sanity check: status ${res.status}`);
    return { ...info, pid: proc.pid!, body: res.body };
}

/** Starts bench/proxy/<file> (which prints `{"port":N}`) as a child process. */
async function startScriptChild(
    name: string,
    file: string,
    env: Record<string, string>,
    nodeArgs: readonly string[] = []
): Promise<{ port: number; pid: number }> {
    const proc = spawn(process.execPath, [...nodeArgs, ...extraNodeArgs, join(here, file)], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { PATH: process.env['PATH'] ?? '', ...env }
    });
    children.push({ name, proc, extraPids: () => [] });
    const info = await new Promise<{ port: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not report its port within 20 s`)), 20_000);
        proc.once('exit', (code, sig) => reject(new Error(`${name} exited early (${code ?? sig})`)));
        lineReader(proc.stdout!, (line) => {
            try {
                const msg = JSON.parse(line) as { port: number };
                clearTimeout(timer);
                resolve(msg);
            } catch {
                // ignore
            }
        });
    });
    return { port: info.port, pid: proc.pid! };
}

interface Nginx {
    port: number;
    version: string;
    masterPid: number;
    workerPids: () => number[];
}

async function startNginx(upstreamPort: number): Promise<Nginx | { unavailable: string }> {
    const bin = process.env['BENCH_NGINX'] || findOnPath('nginx', ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']);
    if (!bin)
        return {
            unavailable:
                'nginx is not installed (no nginx on PATH or in /usr/sbin); install it with `apt-get install -y nginx-light` (or nginx) to get the nginx baseline'
        };
    const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
    const version = `${v.stderr ?? ''}${v.stdout ?? ''}`.trim().replace(/^nginx version:\s*/, '');
    if (v.status !== 0) return { unavailable: `${bin} -v failed: ${version || v.error?.message}` };

    const dir = tempDir('sb-bench-nginx-');
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    // Temp dirs readable by the workers when this runs as root (workers then run as nobody).
    for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { mode: 0o777 });
    writeFileSync(
        conf,
        `# generated by bench/proxy/run.ts
daemon off;
master_process on;
worker_processes ${NGINX_WORKERS};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    upstream bench_upstream {
        server 127.0.0.1:${upstreamPort};
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:${port};
        keepalive_requests 1000000;
        keepalive_timeout 75s;
        # The 5 MB scenario: accept it, and stream it to the upstream as it arrives (as Switchboard does)
        # instead of spooling it to a temp file first.
        client_max_body_size 16m;
        proxy_request_buffering off;
        location / {
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`
    );
    const proc = spawn(bin, ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const masterPid = proc.pid!;
    let workers: number[] = [];
    const workerPids = () => {
        if (alive(proc)) workers = childPidsOf(masterPid);
        return workers;
    };
    children.push({ name: 'nginx', proc, extraPids: workerPids });
    const errorLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').trim() : '');
    try {
        await waitFor(
            'nginx',
            10_000,
            async () => {
                const r = await httpGet(`http://127.0.0.1:${port}/items`, { authorization: `Bearer ${UPSTREAM_TOKEN}` });
                return r.status === 200 ? true : undefined;
            },
            () => (alive(proc) ? undefined : `exited with ${proc.exitCode ?? proc.signalCode}: ${output.trim()} ${errorLog()}`)
        );
    } catch (err) {
        const c = children.find((x) => x.proc === proc);
        if (c) await stopChild(c, 'SIGTERM', 2000);
        return { unavailable: `nginx (${bin}, ${version}) failed to start: ${(err as Error).message}` };
    }
    return { port, version, masterPid, workerPids };
}

interface Switchboard {
    port: number;
    pid: number;
    secretKey: string;
    profDir: string | undefined;
    child: Child;
}

async function startSwitchboard(upstreamPort: number): Promise<Switchboard> {
    const dir = tempDir('sb-bench-switchboard-');
    const dataDir = join(dir, 'data');
    const providers = join(dir, 'providers.yaml');
    const profDir = CPU_PROF ? join(dir, 'prof') : undefined;
    writeFileSync(
        providers,
        `bench-api:
  display_name: Bench API
  auth_mode: API_KEY
  proxy:
    base_url: http://127.0.0.1:${upstreamPort}
    headers:
      authorization: Bearer \${apiKey}
`
    );
    const port = await freePort();
    const secretKey = randomUUID();
    const nodeArgs = profDir
        ? [
              '--cpu-prof',
              `--cpu-prof-dir=${profDir}`,
              ...(process.env['BENCH_CPU_PROF_INTERVAL_US'] ? [`--cpu-prof-interval=${process.env['BENCH_CPU_PROF_INTERVAL_US']}`] : [])
          ]
        : [];
    // As `npm start` runs it (packages/server/src/runtime/heap.ts).
    const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...extraNodeArgs, ...nodeArgs, serverMain], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '',
            PORT: String(port),
            HOST: '127.0.0.1',
            SWITCHBOARD_DATA_DIR: dataDir,
            SWITCHBOARD_SECRET_KEY: secretKey,
            SWITCHBOARD_ALLOW_PRIVATE_EGRESS: 'true',
            SWITCHBOARD_LOG_LEVEL: SB_LOG_LEVEL,
            SWITCHBOARD_PROVIDERS: providers
        }
    });
    const child: Child = { name: 'switchboard', proc, extraPids: () => [] };
    children.push(child);
    const tail: string[] = [];
    let listening = false;
    const onLine = (line: string) => {
        if (stdoutCopy) appendFileSync(stdoutCopy, `${line}\n`);
        tail.push(line);
        if (tail.length > 50) tail.shift();
        if (line.includes('"msg":"listening"')) listening = true;
        // Count warnings and errors (pino levels >= 40, or anything that is not a pino line); show the first few.
        const level = /"level":(\d+)/.exec(line);
        if (level && Number(level[1]) < 40) return;
        const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120);
        const code = /"code":"([^"]*)"/.exec(line)?.[1];
        const key = `${level ? (Number(level[1]) >= 50 ? 'error' : 'warn') : 'unstructured'}: ${msg}${code ? ` (${code})` : ''}`;
        logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
        if (logCounts.get(key)! <= 2) process.stderr.write(`[switchboard] ${line.length > 400 ? `${line.slice(0, 400)}...` : line}\n`);
    };
    lineReader(proc.stdout!, onLine);
    lineReader(proc.stderr!, onLine);

    // "listening" is logged at info, so it only shows up when the log level allows; /health answers either way.
    await waitFor(
        'switchboard',
        60_000,
        async () => {
            if (listening) return true;
            const r = await httpGet(`http://127.0.0.1:${port}/health`, {}, 1000);
            return r.status === 200 ? true : undefined;
        },
        () => (alive(proc) ? undefined : `exited with ${proc.exitCode ?? proc.signalCode}:\n${tail.join('\n')}`)
    );

    const api = async (path: string, body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json', connection: 'close' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000)
        });
        const text = await res.text();
        if (res.status < 200 || res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${text}`);
    };
    await api('/integrations', { provider: 'bench-api', unique_key: 'bench' });
    await api('/connections', { provider_config_key: 'bench', connection_id: 'c1', credentials: { type: 'API_KEY', apiKey: UPSTREAM_TOKEN } });
    return { port, pid: proc.pid!, secretKey, profDir, child };
}

// ---------------------------------------------------------------------------------------------------------------
// Load

interface Target {
    name: TargetName;
    url: string;
    headers: Record<string, string>;
    proxyPids: () => number[];
}

interface Run {
    scenario: ScenarioName;
    request_body_bytes: number;
    target: TargetName;
    connections: number;
    duration_s: number;
    requests: number;
    rps: number | null;
    p50_ms: number | null;
    p90_ms: number | null;
    p99_ms: number | null;
    max_ms: number | null;
    mean_ms: number | null;
    autocannon_latency_ms: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    status_codes: Record<string, number>;
    flagged: boolean;
    cpu_pct: { proxy: number | null; upstream: number | null; loadgen: number | null };
    /** CPU time of the proxy process per 2xx response (user + system), µs. */
    proxy_cpu_us_per_request: number | null;
    /** The same with the proxy's idle CPU (timers, background jobs: measured before the runs) taken out. */
    proxy_cpu_us_per_request_net: number | null;
}

/** CPU % of one core each proxy uses with no load (Switchboard's background timers and jobs), by target. */
const idleCpuPct = new Map<TargetName, number>();

async function measureIdle(t: Target, seconds: number): Promise<number> {
    const pids = t.proxyPids();
    const sum = () => pids.reduce((acc, p) => acc + (cpuSeconds(p) ?? 0), 0);
    const c0 = sum();
    const t0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    return (100 * (sum() - c0)) / wall;
}

// autocannon has no type declarations in this repository; only what is used here.
interface AcResult {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: { total: number };
    latency: { p50: number; p99: number };
    statusCodeStats: Record<string, { count: number }>;
}
interface AcInstance extends PromiseLike<AcResult> {
    on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}
const runAutocannon = autocannon as unknown as (opts: Record<string, unknown>) => AcInstance;

async function load(t: Target, sc: Scenario, connections: number, seconds: number, record: boolean): Promise<{ result: AcResult; latencies: Float64Array }> {
    let buf = new Float64Array(record ? 1 << 16 : 0);
    let n = 0;
    const instance = runAutocannon({
        url: t.url,
        method: sc.method,
        headers: { ...t.headers, ...sc.headers },
        body: sc.body,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10
    });
    if (record) {
        // autocannon's own histogram has 1 ms resolution; the raw per-response times (hrtime, ms) are exact.
        instance.on('response', (_client, statusCode, _bytes, responseTime) => {
            if (statusCode < 200 || statusCode >= 300) return;
            if (n === buf.length) {
                const bigger = new Float64Array(buf.length * 2);
                bigger.set(buf);
                buf = bigger;
            }
            buf[n++] = responseTime;
        });
    }
    const result = await instance;
    return { result, latencies: buf.subarray(0, n) };
}

/** What the measured slices of one target, scenario and connection count add up to. */
interface Tally {
    ok: number;
    requests: number;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodes: Record<string, number>;
    latencies: Float64Array[];
    acLatency: { p50: number; p99: number }[];
    proxyCpu: number;
    upCpu: number;
    lgCpuUs: number;
    wall: number;
}

const newTally = (): Tally => ({
    ok: 0,
    requests: 0,
    duration: 0,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    statusCodes: {},
    latencies: [],
    acLatency: [],
    proxyCpu: 0,
    upCpu: 0,
    lgCpuUs: 0,
    wall: 0
});

/** One measured slice of load on one target, added to its tally. */
async function slice(t: Target, sc: Scenario, connections: number, seconds: number, upstreamPid: number, tally: Tally): Promise<void> {
    const pids = t.proxyPids();
    const sumCpu = (ps: number[]) => ps.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0);
    const proxyCpu0 = sumCpu(pids);
    const upCpu0 = cpuSeconds(upstreamPid) ?? 0;
    const lg0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const { result, latencies } = await load(t, sc, connections, seconds, true);
    tally.wall += Number(process.hrtime.bigint() - t0) / 1e9;
    const lg = process.cpuUsage(lg0);
    tally.lgCpuUs += lg.user + lg.system;
    tally.proxyCpu += sumCpu(pids) - proxyCpu0;
    tally.upCpu += (cpuSeconds(upstreamPid) ?? 0) - upCpu0;
    tally.ok += result['2xx'];
    tally.requests += result.requests.total;
    tally.duration += result.duration;
    tally.errors += result.errors;
    tally.timeouts += result.timeouts;
    tally.non2xx += result.non2xx;
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) tally.statusCodes[code] = (tally.statusCodes[code] ?? 0) + count;
    tally.latencies.push(latencies);
    tally.acLatency.push(result.latency);
}

function toRun(t: Target, sc: Scenario, connections: number, tally: Tally): Run {
    const all = new Float64Array(tally.latencies.reduce((n, l) => n + l.length, 0));
    let at = 0;
    for (const l of tally.latencies) {
        all.set(l, at);
        at += l.length;
    }
    const sorted = all.sort();
    const mean = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : NaN;
    const pids = t.proxyPids();
    const { wall, proxyCpu, ok } = tally;
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const flagged = tally.errors > 0 || tally.timeouts > 0 || tally.non2xx > 0 || ok === 0;
    return {
        scenario: sc.name,
        request_body_bytes: sc.body?.length ?? 0,
        target: t.name,
        connections,
        duration_s: tally.duration,
        requests: tally.requests,
        rps: round(ok / tally.duration, 1),
        p50_ms: round(percentile(sorted, 50)),
        p90_ms: round(percentile(sorted, 90)),
        p99_ms: round(percentile(sorted, 99)),
        max_ms: round(sorted.length ? sorted[sorted.length - 1] : NaN),
        mean_ms: round(mean),
        autocannon_latency_ms: { p50: median(tally.acLatency.map((l) => l.p50)), p99: median(tally.acLatency.map((l) => l.p99)) },
        errors: tally.errors,
        timeouts: tally.timeouts,
        non2xx: tally.non2xx,
        status_codes: tally.statusCodes,
        flagged,
        cpu_pct: {
            proxy: pids.length ? round((100 * proxyCpu) / wall, 1) : null,
            upstream: round((100 * tally.upCpu) / wall, 1),
            loadgen: round((100 * tally.lgCpuUs) / 1e6 / wall, 1)
        },
        proxy_cpu_us_per_request: pids.length && ok > 0 ? round((proxyCpu * 1e6) / ok, 1) : null,
        proxy_cpu_us_per_request_net: pids.length && ok > 0 ? round((Math.max(0, proxyCpu - ((idleCpuPct.get(t.name) ?? 0) / 100) * wall) * 1e6) / ok, 1) : null
    };
}

/**
 * One scenario at one connection count on every target: each is warmed up, then the measured time is cut into
 * ROUNDS slices taken in turn (target A, B, C, then B, C, A, …), so a slow or busy moment of the shared machine
 * lands on every target alike instead of on whichever was being measured then.
 */
async function measureAll(targets: Target[], sc: Scenario, connections: number, upstreamPid: number): Promise<Run[]> {
    for (const t of targets) {
        log(`${sc.name} ${t.name} c${connections}: warm-up ${WARMUP_SECONDS} s`);
        await load(t, sc, connections, WARMUP_SECONDS, false);
    }
    const seconds = SECONDS / ROUNDS;
    log(`${sc.name} c${connections}: measuring ${SECONDS} s per target in ${ROUNDS} interleaved slices of ${round(seconds, 2)} s`);
    const tallies = targets.map(newTally);
    for (let r = 0; r < ROUNDS; r++) {
        for (let i = 0; i < targets.length; i++) {
            const k = (i + r) % targets.length;
            await slice(targets[k]!, sc, connections, seconds, upstreamPid, tallies[k]!);
        }
    }
    return targets.map((t, i) => {
        const run = toRun(t, sc, connections, tallies[i]!);
        log(
            `${sc.name} ${t.name} c${connections}: ${run.rps} req/s, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms, errors ${run.errors}, timeouts ${run.timeouts}, non-2xx ${run.non2xx}` +
                `, cpu proxy ${run.cpu_pct.proxy ?? '-'}% (${run.proxy_cpu_us_per_request ?? '-'} µs/req, net ${run.proxy_cpu_us_per_request_net ?? '-'}) upstream ${run.cpu_pct.upstream}% loadgen ${run.cpu_pct.loadgen}%${run.flagged ? '  <-- FLAGGED' : ''}`
        );
        return run;
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
    const notes: string[] = [];
    const machine = {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? null,
        mem_gb: round(totalmem() / 2 ** 30, 1),
        loadavg_at_start: loadavg().map((l) => round(l, 2)),
        platform: `${platform()} ${release()} ${arch()}`,
        node: process.version,
        autocannon: (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version
    };

    const upstream = await startUpstream();
    log(`upstream on 127.0.0.1:${upstream.port} (pid ${upstream.pid}, ${upstream.bodyBytes}-byte JSON body)`);

    const targets: Target[] = [];
    const sanity: Record<string, { status: number; body_matches: boolean } | null> = {};
    let nginxInfo: { available: boolean; version: string | null; worker_processes: number | null; reason: string | null } = {
        available: false,
        version: null,
        worker_processes: null,
        reason: 'not requested (BENCH_TARGETS)'
    };
    let sb: Switchboard | undefined;

    if (TARGETS.includes('direct')) {
        targets.push({
            name: 'direct',
            url: `http://127.0.0.1:${upstream.port}/items`,
            headers: { authorization: `Bearer ${UPSTREAM_TOKEN}` },
            proxyPids: () => []
        });
    }
    if (TARGETS.includes('nginx')) {
        const ng = await startNginx(upstream.port);
        if ('unavailable' in ng) {
            log(`NGINX BASELINE SKIPPED: ${ng.unavailable}`);
            notes.push(`nginx baseline skipped: ${ng.unavailable}`);
            nginxInfo = { available: false, version: null, worker_processes: null, reason: ng.unavailable };
        } else {
            log(`nginx ${ng.version} on 127.0.0.1:${ng.port} (master ${ng.masterPid}, workers ${ng.workerPids().join(',')})`);
            nginxInfo = { available: true, version: ng.version, worker_processes: NGINX_WORKERS, reason: null };
            targets.push({
                name: 'nginx',
                url: `http://127.0.0.1:${ng.port}/items`,
                headers: { authorization: `Bearer ${UPSTREAM_TOKEN}` },
                proxyPids: ng.workerPids
            });
        }
    }
    if (TARGETS.includes('switchboard')) {
        sb = await startSwitchboard(upstream.port);
        log(`switchboard on 127.0.0.1:${sb.port} (pid ${sb.pid}, log level ${SB_LOG_LEVEL}${sb.profDir ? ', --cpu-prof' : ''})`);
        const pid = sb.pid;
        targets.push({
            name: 'switchboard',
            url: `http://127.0.0.1:${sb.port}/proxy/items`,
            // What @nangohq/node sends on every proxied call, the two empty headers included.
            headers: {
                authorization: `Bearer ${sb.secretKey}`,
                'provider-config-key': 'bench',
                'connection-id': 'c1',
                'base-url-override': '',
                'nango-activity-log-id': ''
            },
            proxyPids: () => [pid]
        });
    }

    if (TARGETS.includes('node-floor')) {
        // The server's V8 settings too: the floor of the same design, run the same way.
        const nf = await startScriptChild(
            'node-floor',
            'node-floor.ts',
            { BENCH_UPSTREAM_ORIGIN: `http://127.0.0.1:${upstream.port}`, BENCH_UPSTREAM_TOKEN: UPSTREAM_TOKEN },
            SERVER_NODE_FLAGS
        );
        log(`node-floor (node:http + undici, no DB) on 127.0.0.1:${nf.port} (pid ${nf.pid})`);
        targets.push({
            name: 'node-floor',
            url: `http://127.0.0.1:${nf.port}/proxy/items`,
            headers: { authorization: 'Bearer not-checked', 'provider-config-key': 'bench', 'connection-id': 'c1' },
            proxyPids: () => [nf.pid]
        });
    }

    // One request per target before any load: 200 and exactly the upstream's body.
    for (const t of targets) {
        const r = await httpGet(t.url, t.headers, 5000);
        sanity[t.name] = { status: r.status, body_matches: r.body === upstream.body };
        if (r.status !== 200 || r.body !== upstream.body) {
            throw new Error(`sanity check failed for ${t.name}: status ${r.status}, body ${JSON.stringify(r.body.slice(0, 300))}`);
        }
    }
    const scenarios = SCENARIOS.map((name) => SCENARIO_DEFS[name]());
    // And each body scenario once: the upstream drains the body and answers the same 200.
    for (const sc of scenarios.filter((x) => x.body)) {
        for (const t of targets) {
            const res = await fetch(t.url, {
                method: sc.method,
                headers: { ...t.headers, ...sc.headers, connection: 'close' },
                body: sc.body as Uint8Array<ArrayBuffer> | undefined,
                signal: AbortSignal.timeout(15_000)
            });
            const text = await res.text();
            if (res.status !== 200 || text !== upstream.body)
                throw new Error(`sanity check failed for ${sc.name} ${t.name}: status ${res.status}, body ${JSON.stringify(text.slice(0, 300))}`);
        }
    }

    const runs: Run[] = [];
    let loadWindow: { startUs: number; endUs: number } | undefined;
    const nowUs = () => Number(process.hrtime.bigint() / 1000n);
    const rss = { before: null as number | null, peak: null as number | null, after: null as number | null, after_idle_2s: null as number | null };
    let sampler: NodeJS.Timeout | undefined;
    if (sb) {
        const pid = sb.pid;
        rss.before = rssMb(pid) ?? null;
        rss.peak = rss.before;
        sampler = setInterval(() => {
            const v = rssMb(pid);
            if (v !== undefined && (rss.peak === null || v > rss.peak)) rss.peak = v;
        }, 100);
    }
    // Each proxy's CPU with no load, so a slow scenario (few requests) is not charged for background work.
    for (const t of targets) {
        if (t.proxyPids().length === 0) continue;
        idleCpuPct.set(t.name, await measureIdle(t, 3));
        log(`${t.name}: ${round(idleCpuPct.get(t.name), 1)}% of a core when idle`);
    }
    for (const sc of scenarios) {
        for (const c of CONNECTIONS) {
            const startUs = nowUs();
            runs.push(...(await measureAll(targets, sc, c, upstream.pid)));
            // The profile summary covers the time Switchboard was loaded (the other targets' slices are idle time for it).
            loadWindow = { startUs: loadWindow?.startUs ?? startUs, endUs: nowUs() };
        }
    }
    if (sampler && sb) {
        clearInterval(sampler);
        rss.after = rssMb(sb.pid) ?? null;
        if (rss.after !== null && (rss.peak === null || rss.after > rss.peak)) rss.peak = rss.after;
        await sleep(2000);
        rss.after_idle_2s = rssMb(sb.pid) ?? null;
    }

    // Stop Switchboard now: --cpu-prof writes its profile on exit.
    let profile: ProfileSummary | null = null;
    if (sb) {
        await stopChild(sb.child, 'SIGTERM', 15_000);
        if (sb.child.proc.exitCode !== 0) notes.push(`switchboard exited with ${sb.child.proc.exitCode ?? sb.child.proc.signalCode} on SIGTERM`);
        if (sb.profDir) {
            const files = existsSync(sb.profDir) ? readdirSync(sb.profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
            if (files.length === 0) notes.push('BENCH_CPU_PROF: no .cpuprofile was written');
            else {
                const file = join(sb.profDir, files[0]!);
                profile = summarize(file, 25, loadWindow);
                if (CPU_PROF !== '1' && CPU_PROF !== 'true') {
                    mkdirSync(CPU_PROF, { recursive: true });
                    const kept = join(CPU_PROF, files[0]!);
                    copyFileSync(file, kept);
                    profile.file = kept;
                    log(`cpu profile kept at ${kept}`);
                } else profile.file = '(deleted with the temp dir; set BENCH_CPU_PROF=<dir> to keep it)';
                notes.push(
                    'BENCH_CPU_PROF: Switchboard ran under the V8 profiler, so its numbers in this run are slowed down and are not the benchmark result'
                );
            }
        }
    }

    const find = (target: TargetName, c: number, sc: ScenarioName = 'get') => runs.find((r) => r.target === target && r.connections === c && r.scenario === sc);
    const ratios: Record<string, number | null> = {};
    const met: Record<string, boolean | null> = {};
    for (const c of CONNECTIONS) {
        const d = find('direct', c);
        const n = find('nginx', c);
        const s = find('switchboard', c);
        const valid = (r: Run | undefined) => (r && !r.flagged ? r : undefined);
        const rpsRatio = valid(s) && valid(n) ? s!.rps! / n!.rps! : null;
        const sbAdded = valid(s) && valid(d) ? s!.p50_ms! - d!.p50_ms! : null;
        const ngAdded = valid(n) && valid(d) ? n!.p50_ms! - d!.p50_ms! : null;
        ratios[`switchboard_vs_nginx_rps_c${c}`] = round(rpsRatio);
        ratios[`switchboard_vs_direct_rps_c${c}`] = round(valid(s) && valid(d) ? s!.rps! / d!.rps! : null);
        ratios[`nginx_vs_direct_rps_c${c}`] = round(valid(n) && valid(d) ? n!.rps! / d!.rps! : null);
        ratios[`switchboard_added_p50_ms_c${c}`] = round(sbAdded);
        ratios[`nginx_added_p50_ms_c${c}`] = round(ngAdded);
        ratios[`switchboard_added_p50_vs_nginx_ms_c${c}`] = round(valid(s) && valid(n) ? s!.p50_ms! - n!.p50_ms! : null);
        const f = find('node-floor', c);
        if (f) {
            ratios[`node_floor_vs_nginx_rps_c${c}`] = round(valid(f) && valid(n) ? f.rps! / n!.rps! : null);
            ratios[`switchboard_vs_node_floor_rps_c${c}`] = round(valid(s) && valid(f) ? s!.rps! / f.rps! : null);
            ratios[`node_floor_added_p50_ms_c${c}`] = round(valid(f) && valid(d) ? f.p50_ms! - d!.p50_ms! : null);
        }
        met[`rps_ratio_c${c}`] = rpsRatio === null ? null : rpsRatio >= TARGETS_SPEC.rps_ratio_min;
        met[`added_p50_c${c}`] = sbAdded === null ? null : sbAdded <= TARGETS_SPEC.added_p50_ms_max;
    }
    // Bodies: the CPU a proxy spends per request, against its own GET and against nginx, per scenario.
    const cpu: Record<string, number | null> = {};
    for (const c of CONNECTIONS) {
        for (const sc of SCENARIOS) {
            const s = find('switchboard', c, sc);
            const n = find('nginx', c, sc);
            const sGet = find('switchboard', c);
            const nGet = find('nginx', c);
            const per = (r: Run | undefined) => (r && !r.flagged ? r.proxy_cpu_us_per_request_net : null);
            const div = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? round(a / b, 2) : null);
            cpu[`switchboard_us_per_request_${sc}_c${c}`] = per(s);
            cpu[`nginx_us_per_request_${sc}_c${c}`] = per(n);
            cpu[`switchboard_vs_nginx_${sc}_c${c}`] = div(per(s), per(n));
            if (sc !== 'get') {
                cpu[`switchboard_${sc}_vs_get_c${c}`] = div(per(s), per(sGet));
                cpu[`nginx_${sc}_vs_get_c${c}`] = div(per(n), per(nGet));
                const rs = s && !s.flagged ? s : undefined;
                const rn = n && !n.flagged ? n : undefined;
                ratios[`switchboard_vs_nginx_rps_${sc}_c${c}`] = round(rs && rn ? rs.rps! / rn.rps! : null);
                ratios[`switchboard_added_p50_vs_nginx_ms_${sc}_c${c}`] = round(rs && rn ? rs.p50_ms! - rn.p50_ms! : null);
            }
        }
    }

    const verdicts = Object.values(met);
    met['all'] = verdicts.length && verdicts.every((v) => v !== null) ? verdicts.every(Boolean) : null;

    const flaggedRuns = runs.filter((r) => r.flagged).map((r) => `${r.scenario} ${r.target} c${r.connections}`);
    if (flaggedRuns.length) notes.push(`runs with errors, timeouts or non-2xx responses (excluded from ratios): ${flaggedRuns.join(', ')}`);
    notes.push(
        'latency percentiles are nearest-rank over every 2xx response time autocannon reported (hrtime, sub-ms); autocannon_latency_ms is its own histogram, which truncates to whole milliseconds',
        'loopback, 2 cores shared by load generator, upstream and proxy: cpu_pct (100 = one core) shows who is saturated; at c10 rps is bounded by the whole machine, not by the proxy alone'
    );

    const out = {
        machine,
        config: {
            seconds: SECONDS,
            rounds: ROUNDS,
            warmup_seconds: WARMUP_SECONDS,
            connections: CONNECTIONS,
            scenarios: Object.fromEntries(
                scenarios.map((sc) => [sc.name, { method: sc.method, body_bytes: sc.body?.length ?? 0, content_type: sc.headers['content-type'] ?? null }])
            ),
            pipelining: 1,
            upstream_body_bytes: upstream.bodyBytes,
            nginx: nginxInfo,
            switchboard_log_level: SB_LOG_LEVEL,
            switchboard_node_args: [...SERVER_NODE_FLAGS, ...extraNodeArgs],
            switchboard_cpu_prof: Boolean(CPU_PROF)
        },
        sanity,
        valid: flaggedRuns.length === 0,
        runs,
        ratios,
        proxy_idle_cpu_pct: Object.fromEntries([...idleCpuPct].map(([k, v]) => [k, round(v, 2)])),
        proxy_cpu_per_request: cpu,
        targets: TARGETS_SPEC,
        met,
        switchboard_rss_mb: TARGETS.includes('switchboard') ? rss : null,
        switchboard_warn_error_logs: TARGETS.includes('switchboard') ? Object.fromEntries(logCounts) : null,
        profile,
        notes
    };
    await cleanup();
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    process.exitCode = flaggedRuns.length ? 1 : 0;
}

// Everything stops itself: a deadline well past the expected duration tears it all down.
const runCount = TARGETS.length * CONNECTIONS.length * SCENARIOS.length;
const deadlineMs = (runCount * (SECONDS + WARMUP_SECONDS + 5 + ROUNDS) + 120) * 1000;
const deadline = setTimeout(() => {
    log(`deadline of ${Math.round(deadlineMs / 1000)} s exceeded; stopping everything`);
    void cleanup().finally(() => process.exit(2));
}, deadlineMs);

main().then(
    () => {
        clearTimeout(deadline);
        // Idle keep-alive sockets (fetch) must not hold the process open.
        setImmediate(() => process.exit());
    },
    (err: unknown) => {
        clearTimeout(deadline);
        log(`failed: ${(err as Error)?.stack ?? err}`);
        void cleanup().finally(() => process.exit(1));
    }
);
