// BILL: Bill.com's API v3 session (https://developer.bill.com/reference/login). POST {token_url} with
// {username, password, organizationId, devKey} as JSON answers a sessionId; requests carry it with the devKey as
// headers (the provider's proxy.headers templates). A session ends after 35 minutes without a call, so it is
// renewed by logging in again: before that time, and when the API answers 401 (error BDC_1109).
import type { Egress } from '../egress/egress.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { BillCredentials } from '../connections/credentials.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';
import { TokenError } from '../oauth/token-request.ts';
import { fail } from '../errors.ts';

export const BILL_SESSION_MS = 35 * 60 * 1000;

export interface BillInputs {
    username: string;
    password: string;
    organization_id: string;
    dev_key: string;
}

/** Bill's errors are a list of `{code, severity, category, message}`; the first code and message say why. */
function billError(body: unknown): { code: string; message: string } | undefined {
    const first = Array.isArray(body) ? (body[0] as unknown) : body;
    if (!first || typeof first !== 'object') return undefined;
    const { code, message } = first as Record<string, unknown>;
    return typeof code === 'string' ? { code, message: typeof message === 'string' ? message : '' } : undefined;
}

/** Logs in; throws TokenError with Bill's error code when it refuses (a wrong password, dev key or organization). */
export async function billLogin(
    egress: Egress,
    def: ProviderDefinition,
    connectionConfig: Record<string, unknown>,
    inputs: BillInputs,
    now = new Date()
): Promise<BillCredentials> {
    const template = typeof def.token_url === 'string' ? def.token_url : def.token_url?.['BILL'];
    if (!template) throw fail('invalid_auth_mode', { message: 'The provider has no token_url (the login endpoint) for BILL' });
    const url = new URL(endpointUrl(def, template, { connectionConfig }));
    const res = await egress.fetch({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username: inputs.username, password: inputs.password, organizationId: inputs.organization_id, devKey: inputs.dev_key }),
        maxBytes: 256 * 1024
    });
    let parsed: unknown;
    try {
        parsed = JSON.parse(res.text);
    } catch {
        parsed = undefined;
    }
    if (res.status < 200 || res.status >= 300) {
        const err = billError(parsed);
        throw new TokenError(
            err?.code ?? (res.status >= 500 ? 'server_error' : 'invalid_credentials'),
            err?.message || `login answered HTTP ${res.status}`,
            res.status
        );
    }
    const body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    const sessionId = body['sessionId'];
    if (typeof sessionId !== 'string' || !sessionId) throw new TokenError('invalid_response', 'the login answered without a sessionId', res.status);
    const { sessionId: _session, ...raw } = body;
    return {
        type: 'BILL',
        username: inputs.username,
        password: inputs.password,
        organization_id: typeof body['organizationId'] === 'string' ? body['organizationId'] : inputs.organization_id,
        dev_key: inputs.dev_key,
        session_id: sessionId,
        user_id: typeof body['userId'] === 'string' ? body['userId'] : undefined,
        expires_at: new Date(now.getTime() + BILL_SESSION_MS).toISOString(),
        raw
    };
}
