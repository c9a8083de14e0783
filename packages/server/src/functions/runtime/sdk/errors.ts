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
        super(
            typeof payload === 'object' && payload !== null && typeof (payload as { message?: unknown }).message === 'string'
                ? (payload as { message: string }).message
                : 'Action error'
        );
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

/**
 * The axios error a script catches on Nango's runner, which hands scripts the provider call's AxiosError as is
 * (issue #11 item 6): `message` "Request failed with status code N", `code`, `status`, `config`, `request`,
 * `response {data, status, statusText, headers, config, request}`, `isAxiosError` and `toJSON()`.
 */
export interface AxiosLikeError extends Error {
    isAxiosError: true;
    code?: string;
    status?: number;
    config: unknown;
    /** axios sets the request it sent; scripts test `err.request` to tell "no response" from "not sent". */
    request: { method: string; path: string };
    response?: {
        status: number;
        statusText: string;
        data: unknown;
        headers: Record<string, string>;
        config: unknown;
        request: { method: string; path: string };
    };
    toJSON(): Record<string, unknown>;
}

/** Builds an error shaped like the one axios throws for an HTTP status ≥ 400. */
export function httpStatusError(status: number, statusText: string, data: unknown, headers: Record<string, string>, config: RequestShape): AxiosLikeError {
    const err = axiosError(`Request failed with status code ${status}`, status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST', config);
    err.status = status;
    err.response = { status, statusText, data, headers, config, request: err.request };
    return err;
}

/** Builds an axios-shaped error for a request that got no response (connection refused, DNS, timeout…). */
export function networkError(message: string, code: string | undefined, config: RequestShape): AxiosLikeError {
    return axiosError(message, code ?? 'ERR_NETWORK', config);
}

interface RequestShape {
    method?: string | undefined;
    endpoint: string;
}

function axiosError(message: string, code: string, config: RequestShape): AxiosLikeError {
    const err = new Error(message) as AxiosLikeError;
    err.name = 'AxiosError';
    err.isAxiosError = true;
    err.code = code;
    err.config = config;
    err.request = { method: (config.method ?? 'GET').toUpperCase(), path: config.endpoint };
    // axios' toJSON: the plain fields, no response (it can be large and is not serialisable as is).
    err.toJSON = () => ({ name: err.name, message: err.message, code: err.code, status: err.status, config: err.config });
    return err;
}
