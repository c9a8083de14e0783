import type { FastifyError } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ApiError, fail } from '../errors.ts';
import { VaultError } from '../vault/vault.ts';
import { bodyPending, lastAnswerLingering } from './unread-body.ts';

/** Any error a request can end with, as the ApiError it is answered with (the one mapping for every HTTP path). */
export function toApiError(error: FastifyError | ApiError | VaultError | Error): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof VaultError)
        return fail('vault_error', {
            message: `A stored secret could not be decrypted (${error.code}): is the right encryption key configured (SWITCHBOARD_ENCRYPTION_KEY, SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS or the data folder key file)?`,
            cause: error
        });
    const { code, statusCode } = error as Partial<FastifyError>;
    switch (code) {
        case 'FST_ERR_CTP_BODY_TOO_LARGE':
            return fail('payload_too_large');
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
            return fail('invalid_content_type');
        case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        case 'FST_ERR_CTP_INVALID_JSON_BODY':
            return fail('invalid_json');
        default:
            if (statusCode && statusCode < 500) return fail('invalid_body', { status: statusCode, message: error.message });
            return fail('generic_error_support', { payload: randomUUID(), cause: error });
    }
}

export interface ErrorAnswer {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** The one rendering of an error as an HTTP answer: status, headers and the `{ error: { code, message } }` body. */
export function errorAnswer(error: unknown): { apiError: ApiError; answer: ErrorAnswer } {
    const apiError = toApiError(error instanceof Error ? error : new Error(String(error)));
    const headers: Record<string, string> = { ...apiError.headers, 'content-type': 'application/json; charset=utf-8' };
    // A refused body is not read to its end: close the connection instead of draining it for keep-alive.
    if (apiError.status === 413) headers['connection'] = 'close';
    return { apiError, answer: { status: apiError.status, headers, body: JSON.stringify(apiError.toJSON()) } };
}

/**
 * Answers a request on the bare node:http response (the proxy's doors, after Fastify let go of it) exactly as
 * the app's error handler would; when the answer already started, the connection is cut instead.
 */
export function writeError(res: ServerResponse, error: unknown, alwaysHeaders: OutgoingHttpHeaders, log: { error(obj: object, msg: string): void }): void {
    const { apiError, answer } = errorAnswer(error);
    if (apiError.status >= 500) log.error({ err: error, errorId: apiError.payload }, 'request failed');
    if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
    }
    // A body refused unread is not received: the answer is the connection's last and the close lingers (as in the
    // app's error handler); a small one is drained by node:http and the connection stays usable.
    if (bodyPending(res.req)) {
        res.shouldKeepAlive = false;
        lastAnswerLingering(res.req);
    }
    res.writeHead(answer.status, { ...alwaysHeaders, ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
}
