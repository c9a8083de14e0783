import type { Services } from '../services.ts';
import type { Queryable } from '../storage/db.ts';
import type { Environment } from '../environments/environments.ts';
import type { Connection } from './store.ts';
import { queuePostConnectionCreation } from '../functions/on-event.ts';

/**
 * What a stored connection sets off, queued in the transaction that stored it (every creation path calls this
 * from `connections.upsert`'s `inTx`): the `auth` webhook (`creation` or `override`), and for a new connection
 * one job per post-connection-creation script. A rolled-back write queues nothing; a committed one loses nothing.
 */
export async function connectionSaved(s: Services, tx: Queryable, env: Environment, r: { connection: Connection; created: boolean }): Promise<void> {
    await s.webhooks.enqueueAuth(tx, { environment: env, connection: r.connection, operation: r.created ? 'creation' : 'override', success: true });
    if (r.created) await queuePostConnectionCreation(s, tx, r.connection);
}
