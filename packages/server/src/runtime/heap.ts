import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection shortly after start, so the idle server holds what it uses (issue #13 item 1: the
 * embedded default under 150 MB for every process). Booting (the module graph, the provider catalogue's YAML,
 * migrations) grows V8's young generation to its largest and leaves the old one sparse, and V8 keeps both at that
 * size while the server idles; measured on the embedded default, one full collection took the Node process from
 * about 205 to 140 MB RSS. Node has no API for it: `--expose-gc` set at run time puts `gc` on new contexts.
 * Returns a function that cancels it (close() before the delay).
 */
export function collectAfterStart(delayMs: number): () => void {
    const timer = setTimeout(() => {
        setFlagsFromString('--expose-gc');
        // `last-resort`: the collection V8 makes before giving up on memory, which also returns the freed pages to the
        // system at once (a regular one pools them until V8's memory reducer runs, seconds later or never).
        (runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void)({
            type: 'major',
            execution: 'sync',
            flavor: 'last-resort'
        });
    }, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
}
