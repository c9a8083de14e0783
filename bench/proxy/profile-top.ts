// Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self and by inclusive time, time per
// area of the sampled frame (Switchboard's own source, each npm package, wasm, Node internals, native, GC), and
// time per owner (the nearest package or Switchboard frame on the stack, so a native fs write made by PGlite
// counts for PGlite). Percentages are of busy time: samples other than "(idle)". Inclusive time only follows
// synchronous stacks: work continued after an `await` is charged to whatever resumed it, not to the caller.
//
//   node bench/proxy/profile-top.ts <file.cpuprofile> [top=20] [startUs endUs]
import { readFileSync } from 'node:fs';
import { realpathSync } from 'node:fs';

interface CallFrame {
    functionName: string;
    url: string;
    lineNumber: number;
    columnNumber: number;
}
interface ProfileNode {
    id: number;
    callFrame: CallFrame;
    hitCount?: number;
    children?: number[];
}
interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
}

export interface Row {
    name: string;
    pct: number;
}
export interface ProfileSummary {
    file: string;
    duration_s: number;
    /** Seconds of the profile summarised: all of it, or the load window only. */
    window_s: number;
    samples: number;
    idle_pct: number;
    by_area: Row[];
    by_owner: Row[];
    top_self: Row[];
    top_inclusive_server: Row[];
}

function shortUrl(url: string): string {
    if (!url) return '';
    let u = url.replace(/^file:\/\//, '');
    const nm = u.lastIndexOf('/node_modules/');
    if (nm !== -1) return u.slice(nm + '/node_modules/'.length);
    const src = u.indexOf('/packages/server/');
    if (src !== -1) u = u.slice(src + '/packages/'.length);
    return u;
}

function area(url: string, name: string): string {
    if (name === '(idle)') return '(idle)';
    if (name === '(garbage collector)') return '(garbage collector)';
    if (name === '(program)') return '(program: native, not attributed)';
    if (name === '(root)') return '(root)';
    if (!url) return '(native / builtin)';
    if (url.startsWith('wasm://')) return "wasm (PGlite's Postgres, the only wasm loaded)";
    if (url.startsWith('node:')) return 'node internals';
    const nm = url.lastIndexOf('/node_modules/');
    if (nm !== -1) {
        const rest = url.slice(nm + '/node_modules/'.length).split('/');
        return `npm: ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
    }
    if (url.includes('/packages/server/src/')) return 'switchboard src';
    return 'other';
}

function label(cf: CallFrame): string {
    const where = shortUrl(cf.url);
    return `${cf.functionName || '(anonymous)'}${where ? ` ${where}:${cf.lineNumber + 1}` : ''}`;
}

function sortRows(m: Map<string, number>, total: number, top: number): Row[] {
    return [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, t]) => ({ name, pct: Math.round((1000 * t) / total) / 10 }));
}

/**
 * `window` (microseconds of CLOCK_MONOTONIC, the clock of both `process.hrtime` and V8's profile timestamps on
 * Linux) keeps only the samples taken under load, leaving out startup (PGlite's first-run initdb, migrations).
 */
export function summarize(file: string, top = 20, window?: { startUs: number; endUs: number }): ProfileSummary {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) byId.set(n.id, n);
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

    // Weight each sample by its time delta (microseconds); the first delta belongs to the first sample.
    const self = new Map<string, number>();
    const areas = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const owners = new Map<string, number>();
    let busy = 0;
    let idle = 0;
    let at = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
        at += p.timeDeltas[i] ?? 0;
        if (window && (at < window.startUs || at > window.endUs)) continue;
        const dt = Math.max(0, p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0);
        const node = byId.get(p.samples[i]!);
        if (!node) continue;
        const cf = node.callFrame;
        if (cf.functionName === '(idle)') {
            idle += dt;
            continue;
        }
        busy += dt;
        const key = label(cf);
        self.set(key, (self.get(key) ?? 0) + dt);
        const a = area(cf.url, cf.functionName);
        areas.set(a, (areas.get(a) ?? 0) + dt);
        // Owner: the nearest frame on the stack that belongs to a package or to Switchboard's source, so native
        // calls (fs, crypto, sockets) and Node internals are charged to whoever made them.
        let owner = a;
        if (!/^(npm: |switchboard src|wasm|\()/.test(a) || a === '(native / builtin)') {
            owner = 'node internals / native, no package or switchboard frame on the stack';
            for (let id = parent.get(node.id); id !== undefined; id = parent.get(id)) {
                const f = byId.get(id)!.callFrame;
                const fa = area(f.url, f.functionName);
                if (/^(npm: |switchboard src|wasm)/.test(fa)) {
                    owner = fa;
                    break;
                }
            }
        }
        owners.set(owner, (owners.get(owner) ?? 0) + dt);
        // Inclusive time of Switchboard's own functions: each function once per sample, however deep the recursion.
        const seen = new Set<string>();
        for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
            const f = byId.get(id)!.callFrame;
            if (!f.url.includes('/packages/server/src/')) continue;
            const k = label(f);
            if (seen.has(k)) continue;
            seen.add(k);
            inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
        }
    }
    const total = busy || 1;
    return {
        file,
        duration_s: Math.round((p.endTime - p.startTime) / 1e4) / 100,
        window_s: Math.round((busy + idle) / 1e4) / 100,
        samples: p.samples.length,
        idle_pct: Math.round((1000 * idle) / (busy + idle || 1)) / 10,
        by_area: sortRows(areas, total, 15),
        by_owner: sortRows(owners, total, 15),
        top_self: sortRows(self, total, top),
        top_inclusive_server: sortRows(inclusive, total, top)
    };
}

const invokedDirectly = (() => {
    try {
        return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(new URL(import.meta.url).pathname);
    } catch {
        return false;
    }
})();
if (invokedDirectly) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write('usage: node bench/proxy/profile-top.ts <file.cpuprofile> [top]\n');
        process.exit(64);
    }
    const window = process.argv[5] ? { startUs: Number(process.argv[4]), endUs: Number(process.argv[5]) } : undefined;
    process.stdout.write(`${JSON.stringify(summarize(file, Number(process.argv[3] ?? 20), window), null, 2)}\n`);
}
