import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Environment } from '../environments/environments.ts';
import type { Services } from '../services.ts';
import { listRecordsQuery, modelKey, pruneRecordsBody, recordsHeaders } from './schemas.ts';

/** The internal id of the connection named by the headers; Nango answers 400 when there is none. */
async function connectionOf(s: Services, env: Environment, headers: { 'connection-id': string; 'provider-config-key': string }): Promise<number> {
    const connection = await s.connections.get(env.id, headers['provider-config-key'], headers['connection-id']);
    if (!connection) throw fail('unknown_connection', { status: 400 });
    return connection.id;
}

export const recordsRoutes = [
    defineRoute({
        method: 'GET',
        // The node SDK calls `/records/?model=…`.
        url: ['/records', '/records/'],
        auth: 'secret',
        headers: recordsHeaders,
        query: listRecordsQuery,
        handler: async ({ env, headers, query, reply }, s) => {
            const connectionId = await connectionOf(s, env, headers);
            const modifiedAfter = query.modified_after ?? query.delta;
            const page = await s.records.listJson(
                { connectionId, model: modelKey(query.model, query.variant) },
                { cursor: query.cursor, limit: query.limit, filter: query.filter, modifiedAfter, ids: query.ids }
            );
            // The page is JSON bytes already (records/reads.ts): sent as they are, never parsed and serialised again.
            return reply.type('application/json; charset=utf-8').send(page.body);
        }
    }),
    defineRoute({
        method: 'PATCH',
        url: '/records/prune',
        auth: 'secret',
        headers: recordsHeaders,
        body: pruneRecordsBody,
        handler: async ({ env, headers, body }, s) => {
            const connectionId = await connectionOf(s, env, headers);
            return s.records.prune({ connectionId, model: modelKey(body.model, body.variant) }, body.until_cursor, body.limit);
        }
    })
];
