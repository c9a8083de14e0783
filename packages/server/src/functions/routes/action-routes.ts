import type { FastifyReply } from 'fastify';
import type { ScriptError } from '../runtime/types.ts';
import { defineRoute } from '../../http/route.ts';
import { fail, type ApiError } from '../../errors.ts';
import { actionBody, actionHeaders, actionIdParams } from './schemas.ts';

/** A script failure in Nango's envelope (docs/compatibility.md, "Actions and syncs"): 424 with the upstream answer for HTTP errors, 500 otherwise. */
function scriptFailure(e: ScriptError): ApiError {
    if (e.type === 'script_http_error') {
        return fail('script_http_error', {
            message: e.message,
            payload: e.payload,
            additional: { upstream: e.additional_properties?.['upstream_response'] ?? null }
        });
    }
    return fail('action_script_failure', { message: e.message, payload: e.payload ?? { type: e.type, message: e.message }, additional: { type: e.type } });
}

export const actionRoutes = [
    defineRoute({
        method: 'POST',
        url: '/action/trigger',
        auth: 'secret',
        headers: actionHeaders,
        body: actionBody,
        handler: async ({ env, headers, body, req, reply }, s) => {
            const key = headers['provider-config-key'];
            const integration = await s.integrations.get(env.id, key);
            if (!integration) throw fail('unknown_provider_config', { status: 400 });
            const connection = await s.connections.get(env.id, key, headers['connection-id']);
            if (!connection) throw fail('unknown_connection', { status: 400 });
            const fn = await s.functions.find(env.id, key, 'action', body.action_name);
            if (!fn) throw fail('not_found', { message: `No action "${body.action_name}" is deployed for integration "${key}"` });
            // The input goes to the script as sent: only legacy default-exported actions get `undefined` for `{}`,
            // and the runtime decides that (issue #11 item 1).
            const input = body.input === null ? undefined : body.input;
            if (headers['x-async'] === 'true') {
                const id = await s.runs.queueAction(env, connection, fn, input, headers['x-max-retries'] ?? 0);
                return accepted(reply, id);
            }
            const abort = new AbortController();
            req.raw.once('close', () => {
                if (!reply.raw.writableFinished) abort.abort();
            });
            const result = await s.runs.runAction(env, connection, fn, input, abort.signal);
            if (!result.ok) throw scriptFailure(result.error);
            return result.output === undefined ? null : result.output;
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/action/:id',
        auth: 'secret',
        params: actionIdParams,
        handler: async ({ env, params }, s) => {
            const run = await s.runs.action(env.id, params.id);
            if (!run || run.status === 'QUEUED' || run.status === 'RUNNING')
                throw fail('not_found', { message: run ? 'The action is still running' : 'No action run with this id' });
            if (run.status === 'ERROR') throw scriptFailure(run.error as ScriptError);
            return run.output;
        }
    })
];

function accepted(reply: FastifyReply, id: string) {
    const statusUrl = `/action/${id}`;
    reply.code(202).header('location', statusUrl);
    return { id, statusUrl };
}
