/**
 * Builds the `nango` object a script receives. It is a frozen, prototype-less facade of bound closures:
 * the per-run context (host, abort state, memo caches) is captured, never reachable as a property
 * (docs/scripts-compatibility.md, "The nango object": the runner's facade hides internals and binds every method).
 */
import type { ScriptProps } from '../types.ts';
import { CheckpointApi } from './checkpoint.ts';
import { ConnectionApi, type GetConnectionOptions } from './connection.ts';
import { guard, type SdkContext } from './context.ts';
import { ActionError, SdkError } from './errors.ts';
import { uncontrolledFetch, type UncontrolledFetchOptions } from './fetch.ts';
import { proxyRequest, type ProxyConfig } from './http.ts';
import { LogApi } from './log.ts';
import { paginate } from './paginate.ts';
import { RecordsApi } from './records.ts';
import { setRunFetch } from '../script-modules.ts';

type Fn = (...args: never[]) => unknown;

/** Returns the facade handed to the script's `exec` / default function. */
export function createNango(ctx: SdkContext): Readonly<Record<string, unknown>> {
    const conn = new ConnectionApi(ctx);
    const logs = new LogApi(ctx);
    const records = new RecordsApi(ctx);
    const checkpoints = new CheckpointApi(ctx);
    const verb = (method: string) => (config: ProxyConfig) => proxyRequest(ctx, { ...config, method });
    // What require('soap') sends goes through this run's host and its egress policy, like uncontrolledFetch.
    setRunFetch(async (req) => {
        guard(ctx);
        return ctx.host.uncontrolledFetch(req);
    });

    const methods: Record<string, Fn> = {
        proxy: (config: ProxyConfig) => proxyRequest(ctx, config),
        get: verb('GET'),
        post: verb('POST'),
        put: verb('PUT'),
        patch: verb('PATCH'),
        delete: verb('DELETE'),
        uncontrolledFetch: (options: UncontrolledFetchOptions) => uncontrolledFetch(ctx, options),
        paginate: (config: ProxyConfig) => {
            guard(ctx);
            return paginate(config, ctx.props.providerPaginate, (c) => proxyRequest(ctx, c));
        },
        getConnection: (pck?: string, cid?: string, opts?: GetConnectionOptions) => conn.getConnection(pck, cid, opts),
        getToken: () => conn.getToken(),
        getMetadata: () => conn.getMetadata(),
        setMetadata: (m: Record<string, unknown>) => conn.setMetadata(m),
        updateMetadata: (m: Record<string, unknown>) => conn.updateMetadata(m),
        getFieldMapping: () => conn.getMetadata(),
        setFieldMapping: (m: Record<string, unknown>) => conn.setMetadata(m),
        getIntegration: (config?: { include?: string[] }) => conn.getIntegration(config),
        getWebhookURL: () => conn.getWebhookURL(),
        getEnvironmentVariables: () => conn.getEnvironmentVariables(),
        getVariant: () => ctx.props.variant ?? 'base',
        log: (...args: unknown[]) => logs.log(...args),
        setLogger: (opts: { level?: string }) => logs.setLogger(opts),
        batchSave: (r: unknown, model: string) => records.batchSave(r, model),
        batchSend: (r: unknown, model: string) => records.batchSave(r, model),
        batchUpdate: (r: unknown, model: string) => records.batchUpdate(r, model),
        batchDelete: (r: unknown, model: string) => records.batchDelete(r, model),
        getRecordsByIds: (ids: Array<string | number>, model: string) => records.getRecordsByIds(ids, model),
        listRecords: (model: string, opts?: { cursor?: string | null }) => records.listRecords(model, opts),
        trackDeletesStart: (model: string) => records.trackDeletesStart(model),
        trackDeletesEnd: (model: string) => records.trackDeletesEnd(model),
        deleteRecordsFromPreviousExecutions: (model: string) => records.deleteRecordsFromPreviousExecutions(model),
        getCheckpoint: () => checkpoints.getCheckpoint(),
        saveCheckpoint: (c: unknown) => checkpoints.saveCheckpoint(c),
        clearCheckpoint: () => checkpoints.clearCheckpoint(),
        zodValidateInput: (arg: { zodSchema: ZodLike; input: unknown }) => zodValidateInput(ctx, logs, arg),
        setMergingStrategy: async (opts: { strategy?: string }) => {
            guard(ctx);
            // `override` is what every write already does, so accepting it keeps such scripts running.
            if (opts?.strategy !== 'override') throw unsupported('setMergingStrategy');
        },
        triggerAction: unsupportedAsync(ctx, 'triggerAction'),
        triggerSync: unsupportedAsync(ctx, 'triggerSync'),
        startSync: unsupportedAsync(ctx, 'startSync'),
        tryAcquireLock: unsupportedAsync(ctx, 'tryAcquireLock'),
        releaseLock: unsupportedAsync(ctx, 'releaseLock'),
        releaseAllLocks: unsupportedAsync(ctx, 'releaseAllLocks'),
        getFlowAttributes: unsupportedAsync(ctx, 'getFlowAttributes')
    };

    const facade: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    Object.assign(facade, plainProperties(ctx.props), methods, { ActionError });
    return Object.freeze(facade);
}

function plainProperties(p: ScriptProps): Record<string, unknown> {
    const isSyncLike = p.scriptType === 'sync' || p.scriptType === 'webhook';
    const props: Record<string, unknown> = {
        scriptType: p.scriptType,
        connectionId: p.connectionId,
        providerConfigKey: p.providerConfigKey,
        provider: p.provider,
        environmentId: p.environmentId,
        environmentName: p.environmentName,
        nangoConnectionId: p.nangoConnectionId,
        activityLogId: p.activityLogId,
        syncId: p.syncId,
        syncJobId: p.syncJobId,
        isCLI: false
    };
    if (isSyncLike) {
        props['lastSyncDate'] = p.lastSyncDate ? new Date(p.lastSyncDate) : undefined;
        props['variant'] = p.variant ?? 'base';
        props['track_deletes'] = p.track_deletes ?? false;
    }
    return props;
}

interface ZodIssueLike {
    path?: unknown[];
    message?: string;
    code?: string;
}
interface ZodLike {
    safeParse(input: unknown): { success: boolean; data?: unknown; error?: { issues?: ZodIssueLike[] } };
}

/** safeParse; on failure logs every issue at error level and throws ActionError({message:'Invalid input provided'}). */
async function zodValidateInput(ctx: SdkContext, logs: LogApi, arg: { zodSchema: ZodLike; input: unknown }): Promise<unknown> {
    guard(ctx);
    if (!arg || typeof arg.zodSchema?.safeParse !== 'function') throw new SdkError('invalid_argument', 'zodValidateInput expects { zodSchema, input }');
    const result = arg.zodSchema.safeParse(arg.input);
    if (result.success) return result;
    for (const issue of result.error?.issues ?? []) {
        const path = Array.isArray(issue.path) && issue.path.length > 0 ? issue.path.join('.') : '(root)';
        await logs.log(`Invalid input: ${path}: ${issue.message ?? 'invalid'}`, { code: issue.code, path: issue.path }, { level: 'error' });
    }
    throw new ActionError({ message: 'Invalid input provided' });
}

function unsupported(name: string): SdkError {
    return new SdkError('unsupported_method', `nango.${name} is not supported by Switchboard`);
}

function unsupportedAsync(ctx: SdkContext, name: string): () => Promise<never> {
    return async () => {
        guard(ctx);
        throw unsupported(name);
    };
}
