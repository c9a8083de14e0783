/**
 * Errors a script can throw or receive. They are recognised by a brand property rather than `instanceof`,
 * because a bundle may carry its own copy of a class and values can cross realms (vm context ↔ runner).
 */

/** Brand key; its value says which kind of Switchboard error the object is. */
export const ERROR_BRAND = '__switchboardScriptError';

/** `new nango.ActionError(payload)`: the action fails and the payload is returned to the API caller. */
export class ActionError extends Error {
    readonly type = 'action_script_runtime_error';
    readonly payload: unknown;
    readonly [ERROR_BRAND] = 'action';

    constructor(payload?: unknown) {
        super(typeof payload === 'object' && payload !== null && typeof (payload as { message?: unknown }).message === 'string' ? (payload as { message: string }).message : 'Action error');
        this.name = 'ActionError';
        this.payload = payload;
    }
}

/** Errors raised by the runtime itself, carrying a stable code that becomes the run's error type. */
export class SdkError extends Error {
    readonly code: string;
    readonly payload: unknown;
    readonly [ERROR_BRAND] = 'sdk';

    constructor(code: string, message: string, payload?: unknown) {
        super(message);
        this.name = 'SdkError';
        this.code = code;
        this.payload = payload;
    }
}

/** A host call rejected: the server-side message reaches the script as an ordinary Error (with a code when the host gave one). */
export class HostCallError extends Error {
    readonly code: string | undefined;

    constructor(name: string, message: string, code?: string) {
        super(message);
        this.name = name || 'Error';
        this.code = code;
    }
}

/** The axios error shape scripts test for (`err.response.status`, `err.response.data`, `err.isAxiosError`). */
export interface AxiosLikeError extends Error {
    isAxiosError: true;
    code?: string;
    status?: number;
    config: unknown;
    response?: { status: number; data: unknown; headers: Record<string, string>; config: unknown };
}

/** Builds an error shaped like the one axios throws for an HTTP status ≥ 400. */
export function httpStatusError(status: number, data: unknown, headers: Record<string, string>, config: unknown): AxiosLikeError {
    const err = new Error(`Request failed with status code ${status}`) as AxiosLikeError;
    err.name = 'AxiosError';
    err.isAxiosError = true;
    err.code = status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST';
    err.status = status;
    err.config = config;
    err.response = { status, data, headers, config };
    return err;
}

/** Builds an axios-shaped error for a request that got no response (connection refused, DNS, timeout…). */
export function networkError(message: string, code: string | undefined, config: unknown): AxiosLikeError {
    const err = new Error(message) as AxiosLikeError;
    err.name = 'AxiosError';
    err.isAxiosError = true;
    err.code = code ?? 'ERR_NETWORK';
    err.config = config;
    return err;
}
