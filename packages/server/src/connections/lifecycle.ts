import type { Queryable } from '../storage/db.ts';
import type { Environment } from '../environments/environments.ts';
import type { Connection } from './store.ts';

/**
 * What a connection's lifecycle sets off elsewhere (webhooks, on-event scripts), implemented by the composition
 * root, so this folder depends on no capability above it.
 */
export interface ConnectionHooks {
    /**
     * A connection was stored, in the transaction that stored it: the `auth` webhook (`creation` or `override`), and
     * for a new connection one job per post-connection-creation script. A rolled-back write queues nothing.
     */
    saved(tx: Queryable, env: Environment, r: { connection: Connection; created: boolean }): Promise<void>;
    /** A connection is about to be deleted, its credentials still usable: runs its scripts; returns how many ran. */
    deleting(env: Environment, connection: Connection): Promise<number>;
}

/**
 * What a stored connection sets off, queued in the transaction that stored it (every creation path calls this
 * from `connections.upsert`'s `inTx`). A rolled-back write queues nothing; a committed one loses nothing.
 */
export function connectionSaved(
    s: { connectionHooks: ConnectionHooks },
    tx: Queryable,
    env: Environment,
    r: { connection: Connection; created: boolean }
): Promise<void> {
    return s.connectionHooks.saved(tx, env, r);
}
