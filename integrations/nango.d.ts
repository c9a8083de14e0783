/**
 * Local types for the `nango` import, so the scripts type-check without the nango package installed.
 * They describe the subset of the runner SDK these scripts use, as specified in docs/scripts-compatibility.md
 * §1.2 (createSync / createAction properties) and §2 (the `nango` object). At compile time the
 * Switchboard CLI resolves `nango` to a shim where createSync(cfg) returns { type: 'sync', ...cfg }.
 */
declare module 'nango' {
    import type { z } from 'zod';

    type ParamValue = string | number | string[] | number[];

    /** §2.1 ProxyConfiguration (the fields these scripts use). */
    export interface ProxyConfiguration {
        endpoint: string;
        headers?: Record<string, string>;
        params?: string | Record<string, ParamValue>;
        data?: unknown;
        retries?: number;
        retryOn?: number[];
        baseUrlOverride?: string;
        providerConfigKey?: string;
        connectionId?: string;
    }

    /** axios-shaped response. */
    export interface NangoResponse<T> {
        data: T;
        status: number;
        headers: Record<string, string>;
    }

    /** Thrown by a script to fail an action with a payload returned to the API caller (§2.6). */
    export class ActionError<P = Record<string, unknown>> extends Error {
        type: 'action_script_runtime_error';
        payload: P;
        constructor(payload?: P);
    }

    export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
    export type CheckpointValue = Record<string, string | number | boolean>;

    /** §2: the object actions and on-event scripts receive. */
    export interface NangoAction {
        readonly connectionId: string;
        readonly providerConfigKey: string;
        readonly provider?: string;
        ActionError: typeof ActionError;
        proxy<T = unknown>(config: ProxyConfiguration & { method?: string }): Promise<NangoResponse<T>>;
        get<T = unknown>(config: ProxyConfiguration): Promise<NangoResponse<T>>;
        post<T = unknown>(config: ProxyConfiguration): Promise<NangoResponse<T>>;
        put<T = unknown>(config: ProxyConfiguration): Promise<NangoResponse<T>>;
        patch<T = unknown>(config: ProxyConfiguration): Promise<NangoResponse<T>>;
        delete<T = unknown>(config: ProxyConfiguration): Promise<NangoResponse<T>>;
        getMetadata<T = Record<string, unknown>>(): Promise<T>;
        updateMetadata(metadata: Record<string, unknown>): Promise<unknown>;
        log(message: unknown, payloadOrOptions?: unknown, options?: { level: LogLevel }): Promise<void>;
        getCheckpoint(): Promise<CheckpointValue | null>;
        saveCheckpoint(checkpoint: CheckpointValue): Promise<void>;
        clearCheckpoint(): Promise<void>;
        zodValidateInput<T>(args: { zodSchema: z.ZodType<T>; input: unknown }): Promise<{ success: true; data: T }>;
    }

    /** §2.4: syncs additionally write records. */
    export interface NangoSync extends NangoAction {
        readonly lastSyncDate?: Date;
        batchSave<T extends { id: string | number }>(records: T[], model: string): Promise<boolean>;
        batchUpdate<T extends { id: string | number }>(records: T[], model: string): Promise<boolean>;
        batchDelete<T extends { id: string | number }>(records: T[], model: string): Promise<boolean>;
        trackDeletesStart(model: string): Promise<void>;
        trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }>;
    }

    type ZodModel = z.ZodObject<{ id: z.ZodString } & z.ZodRawShape>;
    type ZodFlat = z.ZodObject<Record<string, z.ZodString | z.ZodNumber | z.ZodBoolean>>;

    /** §1.2 createSync properties. */
    export interface CreateSyncProps<TModels extends Record<string, ZodModel>> {
        description: string;
        version?: string;
        frequency: string;
        autoStart?: boolean;
        models: TModels;
        metadata?: z.ZodObject;
        checkpoint?: ZodFlat;
        scopes?: string[];
        webhookSubscriptions?: string[];
        exec: (nango: NangoSync) => Promise<void>;
        onWebhook?: (nango: NangoSync, payload: unknown) => Promise<void>;
    }

    /** MCP tool hints of an action (https://modelcontextprotocol.io/specification/2025-06-18/schema#toolannotations). */
    export interface ToolAnnotations {
        title?: string;
        readOnlyHint?: boolean;
        destructiveHint?: boolean;
        idempotentHint?: boolean;
        openWorldHint?: boolean;
    }

    /** §1.2 createAction properties. */
    export interface CreateActionProps<TInput extends z.ZodType, TOutput extends z.ZodType> {
        description: string;
        version?: string;
        input: TInput;
        output: TOutput;
        metadata?: z.ZodObject;
        checkpoint?: ZodFlat;
        scopes?: string[];
        /** Switchboard: MCP tool hints (docs/mcp.md, "Tool annotations"). */
        annotations?: ToolAnnotations;
        exec: (nango: NangoAction, input: z.infer<TInput>) => Promise<z.infer<TOutput>>;
    }

    export function createSync<TModels extends Record<string, ZodModel>>(props: CreateSyncProps<TModels>): CreateSyncProps<TModels> & { type: 'sync' };
    export function createAction<TInput extends z.ZodType, TOutput extends z.ZodType>(
        props: CreateActionProps<TInput, TOutput>
    ): CreateActionProps<TInput, TOutput> & { type: 'action' };
}
