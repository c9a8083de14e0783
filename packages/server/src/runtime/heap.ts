import { createHook } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Full garbage collections at quiet moments, so an idle server holds what it uses (issue #13 item 1: the embedded
 * default under 150 MB for every process). Booting (the module graph, the provider catalogue's YAML, migrations),
 * and later any burst of work, grows V8's young generation to its largest and leaves the old one sparse, and V8
 * keeps both at that size while the server idles. Measured on the embedded default: one full collection after
 * start takes the Node process from about 205 to 125 MB RSS. Node has no API for it: `--expose-gc` set at run time
 * puts `gc` on new contexts.
 */
type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | undefined;

/** One full collection now. */
export function collect(): void {
    if (!gc) {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as Gc;
        // Only this one context gets `gc`: contexts made later (none in this process today; scripts run in runner
        // processes) do not.
        setFlagsFromString('--no-expose-gc');
    }
    // `last-resort`: the collection V8 makes before giving up on memory, which also returns the freed pages to the
    // system at once (a regular one pools them until V8's memory reducer runs, seconds later or never).
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Whether a quiet-time collection is worth its pause (about 0.1 to 0.3 s): the process is idle and has grown. */
export function worthCollecting(s: { rssBytes: number; rssAfterLastBytes: number; cpuShare: number }): boolean {
    return s.cpuShare < IDLE_CPU_SHARE && s.rssBytes - s.rssAfterLastBytes > GROWTH_BYTES;
}

const IDLE_CPU_SHARE = 0.05;
const GROWTH_BYTES = 24 * 1024 * 1024;

/**
 * One collection `firstDelayMs` after start (once the first background work has run), then a check every
 * `everyMs`: another when the process used under 5 % of a core since the last check and its RSS grew by more than
 * 24 MB since the last collection. Returns a function that stops it (close()).
 */
export function collectWhenQuiet(firstDelayMs: number, everyMs: number): () => void {
    let rssAfterLast = 0;
    let cpu = process.cpuUsage();
    let at = performance.now();
    const run = () => {
        collect();
        rssAfterLast = process.memoryUsage.rss();
    };
    let timer = setTimeout(() => {
        run();
        const check = () => {
            const used = process.cpuUsage(cpu);
            const now = performance.now();
            const cpuShare = (used.user + used.system) / 1000 / (now - at);
            if (worthCollecting({ rssBytes: process.memoryUsage.rss(), rssAfterLastBytes: rssAfterLast, cpuShare })) run();
            cpu = process.cpuUsage();
            at = performance.now();
            timer = setTimeout(check, everyMs).unref();
        };
        cpu = process.cpuUsage();
        at = performance.now();
        timer = setTimeout(check, everyMs).unref();
    }, firstDelayMs).unref();
    return () => clearTimeout(timer);
}

/**
 * One of `process.nextTick`'s task objects, held for the life of the process (see keepTickShape).
 */
let heldTick: object | undefined;

/**
 * Keeps `process.nextTick` on V8's fast path after memory-reducing collections (ours above, and V8's own memory
 * reducer, which runs a few seconds after a busy process goes idle). Such a collection frees every hidden class
 * (map) that no live object uses, and nextTick's task objects never outlive their tick, so each one took their maps.
 * The next task object got new ones, and after a few rounds the object literal that builds it in Node's
 * `nextTick` had seen too many maps: V8 stopped caching (megamorphic) and every call went through the runtime, for
 * the rest of the process. Measured on Node 24: 40 ns per tick before, 280 ns after one `last-resort` collection;
 * on the proxy's path (about 8 ticks per request) that was the largest single cost Switchboard added over a bare
 * Node proxy (bench/proxy, perf). One task object kept alive keeps its maps, and the transitions to them, alive.
 * It is captured once through an async-hooks init hook, enabled only for the one nextTick call that makes it.
 * Returns the held object (tests compare its map with later ones').
 */
export function keepTickShape(): object | undefined {
    if (heldTick) return heldTick;
    const hook = createHook({
        init(_asyncId, type, _triggerAsyncId, resource) {
            if (type === 'TickObject') heldTick ??= resource;
        }
    }).enable();
    try {
        process.nextTick(() => {});
    } finally {
        hook.disable();
    }
    return heldTick;
}

/**
 * V8 flags for the server's command line (package.json `start`, deploy/Dockerfile): V8 reads them when it creates the
 * heap, so they cannot be set later. `--initial-old-space-size=64` keeps V8's threshold for a full collection at
 * 64 MB of old generation or more. Without it, every memory-reducing collection (ours at quiet moments above, V8's
 * own memory reducer) left the threshold 10 to 16 MB above the live heap, and under a load of large proxied bodies
 * (external memory, see tuneHeapForBodies) V8 then made a full collection every 50 to 100 ms. It sets a threshold,
 * not a reservation: the idle process is as small as before (bench/embedded). Measured trade-off (bench/proxy,
 * bench/records-read): 128 made 5 MB uploads cheaper still (3.1 to 4.8 ms of CPU each, against 5.9 to 7.5 at 64 and
 * 8.7 to 9.7 without), but made reading 1,000-record pages cost 5 to 35 % more CPU, where 64 costs 0 to 8 %.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/**
 * How V8 counts external memory (the socket buffers request and response bodies arrive in, which Node allocates
 * outside the JavaScript heap, one per chunk): by default every byte allocated since the last full collection counts
 * against the old generation's limit, so a proxy relaying large bodies made a full collection (marking the whole
 * ~40 MB heap) every few megabytes relayed, although each buffer dies young and a cheap young-generation collection
 * frees it. `--external-memory-accounted-in-global-limit` counts external memory in V8's global limit instead, which
 * young-generation collections relieve. Measured with bench/proxy (5 MB uploads): with both settings at 128 MB, 106
 * to 196 full collections in a run became 2 to 11; with either alone, 78 to 132. The flag is read while the process
 * runs, so it can be set here; V8 before 13 (Node 22) does not know it, and setting an unknown flag only prints an
 * error, so it is left alone there.
 */
export function tuneHeapForBodies(): boolean {
    if (Number(process.versions.v8.split('.')[0]) < 13) return false;
    setFlagsFromString('--external-memory-accounted-in-global-limit');
    return true;
}
