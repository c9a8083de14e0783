import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Connection, ConnectionStore } from '../connections/store.ts';
import type { Environment } from '../environments/environments.ts';
import type { DeployedFunction, FunctionStore } from '../functions/store.ts';
import type { RecordsStore, RecordFilter } from '../records/store.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { Runs } from '../runs/runs.ts';
import { ApiError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { ToolCallAudit, ToolOutcome } from './audit.ts';
import type { Confirmations } from './confirmations.ts';
import { principalKey, resolveConnection, type ConnectionRef, type McpPrincipal } from './scope.ts';
import { reconnectHint, toolError, toolOutput } from './results.ts';
import { CONFIRMATION_ARGUMENT, needsConfirmation, toolsOf } from './tools.ts';

/** What a tool call uses, by name. */
export interface ToolDeps {
    connections: ConnectionStore;
    functions: FunctionStore;
    records: RecordsStore;
    refresher: Refresher;
    runs: Runs;
    confirmations: Confirmations;
    audit: ToolCallAudit;
    log: Logger;
}

/** How the session asks the user to confirm (MCP elicitation), when the client supports it. */
export type AskUser = ((message: string) => Promise<boolean>) | undefined;

export interface ToolCall {
    env: Environment;
    principal: McpPrincipal;
    ref: ConnectionRef;
    name: string;
    arguments: Record<string, unknown>;
    ask: AskUser;
    signal: AbortSignal;
}

interface Outcome {
    result: CallToolResult;
    outcome: ToolOutcome;
    errorType: string | null;
    connection: Connection | undefined;
}

/** The tools the connection's integration offers now (deploys change them between calls). */
export async function listTools(d: Pick<ToolDeps, 'functions'>, env: Environment, ref: ConnectionRef) {
    const functions = (await d.functions.list(env.id)).filter((f) => f.providerConfigKey === ref.providerConfigKey);
    return toolsOf(functions);
}

/** Runs one tool call and audits it, whatever happens; every failure is a tool result the model can read. */
export async function callTool(d: ToolDeps, call: ToolCall): Promise<CallToolResult> {
    const started = performance.now();
    const inputBytes = Buffer.byteLength(JSON.stringify(call.arguments));
    let o: Outcome;
    try {
        o = await attempt(d, call);
    } catch (err) {
        // A bug or an unavailable database still reaches the model as a result (never a protocol error), and the trail shows it.
        d.log.error({ err, tool: call.name }, 'MCP tool call failed');
        o = fails(toolError('internal_error', 'The tool call failed inside Switchboard; try again later.'), 'internal_error');
    }
    // The call has happened (an email may be sent): a trail that cannot be written is logged, never turned into an
    // error the model would answer by calling again.
    await d.audit
        .record({
            environmentId: call.env.id,
            agentTokenUuid: call.principal.agent?.uuid ?? null,
            connectionUuid: o.connection?.uuid ?? null,
            providerConfigKey: call.ref.providerConfigKey,
            connectionId: call.ref.connectionId,
            tool: call.name,
            inputBytes,
            outcome: o.outcome,
            errorType: o.errorType,
            durationMs: performance.now() - started
        })
        .catch((err: unknown) => d.log.error({ err, tool: call.name, outcome: o.outcome }, 'could not record the MCP tool call in the audit trail'));
    return o.result;
}

const fails = (result: CallToolResult, errorType: string, connection?: Connection): Outcome => ({ result, outcome: 'error', errorType, connection });

async function attempt(d: ToolDeps, call: ToolCall): Promise<Outcome> {
    const connection = await resolveConnection(d.connections, call.principal, call.ref);
    if (!connection)
        return fails(
            toolError(
                'not_connected',
                `There is no ${call.ref.providerConfigKey} connection "${call.ref.connectionId}" for this caller any more. The user must connect the account first.`
            ),
            'not_connected'
        );
    const target = (await listTools(d, call.env, call.ref)).get(call.name)?.target;
    if (!target)
        return fails(toolError('not_found', `No tool named "${call.name}" for ${call.ref.providerConfigKey}: list the tools again.`), 'not_found', connection);
    if (connection.status !== 'active') return fails(reconnectHint(connection), `connection_${connection.status}`, connection);

    if (target.kind === 'records') return { ...(await listRecords(d, connection, target.model, call.arguments)), connection };
    let args = call.arguments;
    if (needsConfirmation(target.annotations)) {
        // The confirmation argument is the server's (it is in the tool's schema only for tools that are confirmed).
        const { [CONFIRMATION_ARGUMENT]: confirmation, ...rest } = call.arguments;
        args = rest;
        const gate = await confirm(d, call, connection, args, confirmation);
        if (gate) return { ...gate, connection };
    }
    // Reads of the cache above need no credentials; an action does, and a refused refresh is the reconnect hint.
    const usable = await credentialsUsable(d, connection);
    if (usable !== true) return fails(usable, errorTypeOf(usable), connection);
    return { ...(await runAction(d, call, connection, target.fn, args)), connection };
}

const errorTypeOf = (r: CallToolResult): string => String((r.structuredContent?.['error'] as { type?: unknown } | undefined)?.type ?? 'error');

/**
 * The confirmation step of a destructive tool: undefined when the call may run. With a confirmation token, it must
 * be one issued for this exact call; without one, the client's elicitation asks the user, or, when the client has
 * none, the answer is a token the caller repeats the call with once the user agreed.
 */
async function confirm(
    d: ToolDeps,
    call: ToolCall,
    connection: Connection,
    args: Record<string, unknown>,
    token: unknown
): Promise<Omit<Outcome, 'connection'> | undefined> {
    const scope = { environmentId: call.env.id, principal: principalKey(call.principal), connectionDbId: connection.id, tool: call.name, arguments: args };
    if (token !== undefined) {
        if (typeof token === 'string' && (await d.confirmations.consume(token, scope))) return undefined;
        return {
            result: toolError(
                'invalid_confirmation',
                'The confirmationToken is unknown, used, expired, or was issued for different arguments. Call the tool again without it to get a new one, and ask the user.'
            ),
            outcome: 'error',
            errorType: 'invalid_confirmation'
        };
    }
    const shown = JSON.stringify(args);
    const summary = `Run "${call.name}" on ${connection.providerConfigKey} connection "${connection.connectionId}" with ${shown.length > 1000 ? `${shown.slice(0, 1000)}…` : shown}?`;
    if (call.ask) {
        if (await call.ask(summary).catch(() => false)) return undefined;
        return { result: toolError('declined', 'The user did not confirm this call; nothing was done.'), outcome: 'declined', errorType: 'declined' };
    }
    const issued = await d.confirmations.issue(scope);
    const error = {
        type: 'confirmation_required',
        message: `This tool changes or deletes data and was not run. Ask the user: ${summary} If they agree, call "${call.name}" again with the same arguments plus "${CONFIRMATION_ARGUMENT}": "${issued.token}" (valid once, until ${issued.expiresAt.toISOString()}).`,
        confirmation_required: true,
        [CONFIRMATION_ARGUMENT]: issued.token,
        expires_at: issued.expiresAt.toISOString(),
        tool: call.name,
        arguments: args
    };
    return {
        result: { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }, null, 2) }], structuredContent: { error } },
        outcome: 'confirmation_required',
        errorType: 'confirmation_required'
    };
}

/** The refresher (the one that serves the proxy) renews the token when due; a refusal becomes the reconnect hint. */
async function credentialsUsable(d: ToolDeps, connection: Connection): Promise<true | CallToolResult> {
    try {
        await d.refresher.fresh(connection);
        return true;
    } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // Only a refusal that took the connection out of `active` needs the user; anything else (the provider
        // down, the 30 s backoff after a failure) passes.
        const after = await d.connections.get(connection.environmentId, connection.providerConfigKey, connection.connectionId);
        if (after && after.status !== 'active') return reconnectHint(after);
        return toolError(
            'temporarily_unavailable',
            `The connection's token could not be refreshed just now (${err.code}); nothing was done. Try again in a minute.`
        );
    }
}

async function runAction(
    d: ToolDeps,
    call: ToolCall,
    connection: Connection,
    fn: DeployedFunction,
    args: Record<string, unknown>
): Promise<Omit<Outcome, 'connection'>> {
    // The one run lifecycle: a row in `runs`, the runner, the heartbeat, the log line, as POST /action/trigger.
    const run = await d.runs.runAction(call.env, connection, fn, args, call.signal);
    if (run.ok) return { result: toolOutput(run.output), outcome: 'success', errorType: null };
    const after = await d.connections.get(connection.environmentId, connection.providerConfigKey, connection.connectionId);
    if (after && after.status !== 'active') return { result: reconnectHint(after), outcome: 'error', errorType: `connection_${after.status}` };
    const e = run.error;
    const payload = e.payload && typeof e.payload === 'object' ? (e.payload as Record<string, unknown>) : undefined;
    // An ActionError's payload carries the script's own `type` (not_found, invalid_input, …): the model reads that.
    const type = typeof payload?.['type'] === 'string' ? payload['type'] : e.type;
    return {
        result: toolError(type, typeof payload?.['message'] === 'string' ? payload['message'] : e.message, payload ? { details: payload } : {}),
        outcome: 'error',
        errorType: type
    };
}

async function listRecords(d: ToolDeps, connection: Connection, model: string, args: Record<string, unknown>): Promise<Omit<Outcome, 'connection'>> {
    const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
    const filter = str('filter');
    const modifiedAfter = str('modified_after');
    const limit = typeof args['limit'] === 'number' ? args['limit'] : 50;
    if (
        (filter && !['added', 'updated', 'deleted'].includes(filter)) ||
        (modifiedAfter && Number.isNaN(Date.parse(modifiedAfter))) ||
        !(limit >= 1 && limit <= 1000)
    )
        return {
            result: toolError('invalid_input', 'filter must be added, updated or deleted; modified_after an RFC 3339 time; limit 1 to 1000.'),
            outcome: 'error',
            errorType: 'invalid_input'
        };
    const ids = Array.isArray(args['ids']) ? args['ids'].filter((v): v is string => typeof v === 'string').slice(0, 100) : undefined;
    const cursor = str('cursor');
    try {
        const page = await d.records.list(
            { connectionId: connection.id, model },
            {
                limit: Math.floor(limit),
                ...(cursor ? { cursor } : {}),
                ...(filter ? { filter: [filter as RecordFilter] } : {}),
                ...(modifiedAfter ? { modifiedAfter: new Date(modifiedAfter) } : {}),
                ...(ids?.length ? { ids } : {})
            }
        );
        return { result: toolOutput(page), outcome: 'success', errorType: null };
    } catch (err) {
        if (err instanceof ApiError) return { result: toolError(err.code, err.message), outcome: 'error', errorType: err.code };
        throw err;
    }
}
