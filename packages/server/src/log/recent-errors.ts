// The server's own recent errors for the dashboard (docs/dashboard.md, "Errors"): the last error-level log lines of
// this instance, kept in memory. It reads the lines pino writes, after redaction, and keeps only a few named
// fields (message, error type and code, route, time), so what a secret-bearing object held never reaches it.
import type { DestinationStream } from 'pino';

export interface RecentError {
    /** Grows by one per error this instance logged since it started: the page cursor. */
    id: number;
    time: string;
    message: string;
    error_type: string | null;
    error_code: string | null;
    route: string | null;
    method: string | null;
}

const text = (v: unknown, max: number): string | null => (typeof v === 'string' && v ? v.slice(0, max) : null);

/** A ring of the last `capacity` error-level log lines of this instance. */
export class RecentErrors implements DestinationStream {
    readonly capacity: number;
    private readonly entries: RecentError[] = [];
    private next = 1;

    constructor(capacity = 200) {
        this.capacity = capacity;
    }

    /** A pino line (JSON, already redacted). Lines that do not parse are skipped: this ring never breaks logging. */
    write(line: string): void {
        let o: Record<string, unknown>;
        try {
            o = JSON.parse(line) as Record<string, unknown>;
        } catch {
            return;
        }
        const err = (o['err'] ?? o['error']) as Record<string, unknown> | undefined;
        const req = o['req'] as Record<string, unknown> | undefined;
        const errorId = o['errorId'] as { error?: { code?: unknown } } | undefined;
        this.entries.push({
            id: this.next++,
            time: new Date(typeof o['time'] === 'number' ? o['time'] : Date.now()).toISOString(),
            message: text(o['msg'], 500) ?? '',
            error_type: text(err?.['type'], 100),
            error_code: text(err?.['code'], 100) ?? text(errorId?.error?.code, 100) ?? text(o['code'], 100),
            route: text(o['route'], 300) ?? text(req?.['path'], 300),
            method: text(o['method'], 10) ?? text(req?.['method'], 10)
        });
        if (this.entries.length > this.capacity) this.entries.shift();
    }

    /** Newest first; `cursor` is the id of the last entry of the previous page. */
    page(cursor: number | undefined, limit: number): { entries: RecentError[]; nextCursor: number | null } {
        const newestFirst = this.entries.filter((e) => cursor === undefined || e.id < cursor).reverse();
        const entries = newestFirst.slice(0, limit);
        return { entries, nextCursor: newestFirst.length > limit ? entries.at(-1)!.id : null };
    }
}
