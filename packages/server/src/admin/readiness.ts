/**
 * Readiness: whether this instance can serve database-backed routes right now. `/health` only says the process
 * answers; an orchestrator that routes traffic needs to know the database answers too (issue #11 item 8).
 */
import type { Queryable } from '../storage/db.ts';

/** How long the database gets to answer before the instance is reported unready. */
export const READY_TIMEOUT_MS = 3_000;

export type Readiness = { ready: true } | { ready: false; reason: 'database_timeout' | 'database_error' };

/** One check in flight per database: probes arriving during a hang wait on it instead of piling up queries. */
const inFlight = new WeakMap<Queryable, Promise<Readiness>>();

/** Reads the table every authenticated route reads first, with a time limit. */
export function checkReadiness(db: Queryable, timeoutMs = READY_TIMEOUT_MS): Promise<Readiness> {
    let check = inFlight.get(db);
    if (!check) {
        check = probe(db, timeoutMs).finally(() => inFlight.delete(db));
        inFlight.set(db, check);
    }
    return check;
}

async function probe(db: Queryable, timeoutMs: number): Promise<Readiness> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<Readiness>((resolve) => {
        timer = setTimeout(() => resolve({ ready: false, reason: 'database_timeout' }), timeoutMs);
    });
    const query = db.query('SELECT id FROM environments LIMIT 1').then(
        (): Readiness => ({ ready: true }),
        (): Readiness => ({ ready: false, reason: 'database_error' })
    );
    try {
        return await Promise.race([query, timeout]);
    } finally {
        clearTimeout(timer);
    }
}
