/**
 * The pause between attempts of an asynchronous action: 1 s, doubling, at most 30 s; ends early when the run is
 * aborted. Kept to this one function so it can give way to the shared retry helper (egress/retry.ts).
 */
export function backoff(attempt: number, signal: AbortSignal): Promise<void> {
    const ms = Math.min(1000 * 2 ** attempt, 30_000);
    return new Promise((resolve) => {
        if (signal.aborted) return resolve();
        const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
    });
}
