import type { FastifyError } from 'fastify';
import { randomUUID } from 'node:crypto';
import { ApiError, fail } from './errors.ts';
import { VaultError } from '../vault/vault.ts';

/** Any error a request can end with, as the ApiError it is answered with (the one mapping for every HTTP path). */
export function toApiError(error: FastifyError | ApiError | VaultError | Error): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof VaultError) return fail('vault_error', { message: `A stored secret could not be decrypted (${error.code}): is the right encryption key configured (SWITCHBOARD_ENCRYPTION_KEY, SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS or the data folder key file)?`, cause: error });
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
