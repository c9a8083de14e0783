// Child process of heap-flags.test.ts: what a proxy relaying large bodies does to V8's heap, without the network. A
// live heap of small objects like a server's, one memory-reducing collection as at a quiet moment (runtime/heap.ts),
// then 1 GB of 64 KB buffers (external memory, as Node's socket reads are), a few alive at a time. Prints how many
// full and young-generation collections the churn caused. `TUNE=1` applies tuneHeapForBodies() first, as main.ts does.
import { PerformanceObserver, constants, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';
import { collect, tuneHeapForBodies } from '../../src/runtime/heap.ts';

if (process.env['TUNE'] === '1') tuneHeapForBodies();
const live: object[] = [];
for (let i = 0; i < 250_000; i++) live.push({ i, key: `k${i}`, list: [i] });
collect();
const counts = { major: 0, minor: 0 };
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
// The quiet collection's own entries arrive asynchronously: let them pass before counting.
await settle();
const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
        const kind = (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
        else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
    }
});
observer.observe({ entryTypes: ['gc'] });
const inFlight: Buffer[] = [];
for (let i = 0; i < 16_000; i++) {
    inFlight.push(Buffer.allocUnsafeSlow(64 * 1024));
    if (inFlight.length > 8) inFlight.shift();
    if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await settle();
observer.disconnect();
process.stdout.write(`${JSON.stringify({ ...counts, live: live.length })}\n`);
