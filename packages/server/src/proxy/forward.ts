import type { Dispatcher } from 'undici';
import type { Egress } from '../egress/egress.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { Connection } from '../connections/store.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { ProxyControl } from './control-headers.ts';
import { ApiError } from '../errors.ts';
import { applyAuth, oauth1Header } from './auth.ts';
import { upstreamUrl } from './target.ts';
import { isRetryableNetworkError, isRetryableStatus, proxyRetryDelayMs } from './retry.ts';
import { backoffMs, retry } from '../egress/retry.ts';
import { isRefreshable } from '../refresh/policy.ts';
import { signAwsRequest } from '../auth-modes/aws-sigv4.ts';
import { tbaHeader } from '../auth-modes/tba.ts';

/** What forwarding uses, by name. */
export interface ForwardDeps {
    egress: Egress;
    refresher: Refresher;
    integrations: IntegrationStore;
}

export interface ForwardInput {
    method: string;
    base: string;
    pathAndQuery: string;
    appHeaders: Record<string, string>;
    body: Buffer | undefined;
    control: Pick<ProxyControl, 'retries' | 'retry-on'>;
    def: ProviderDefinition;
    integration: Integration;
    signal: AbortSignal;
}

/**
 * Sends a buffered request upstream with the connection's auth, retrying as asked (scripts' `nango.proxy`).
 * Returns the response whose body the caller reads; bodies of discarded attempts are drained. A 401 is
 * answered by one refresh and one more attempt (Refresher.rejected); a refused grant throws its error.
 */
export async function forward(s: ForwardDeps, connection: Connection, input: ForwardInput): Promise<Dispatcher.ResponseData> {
    let conn = connection;
    // A 401 to credentials we believed valid gets one refresh and one more attempt, whatever `retries` says.
    let renewable = isRefreshable(conn);
    const send = () =>
        retry(
            async () => {
                const { url, headers } = buildRequest(s, conn, input);
                return s.egress.stream({ method: input.method, url, headers, body: input.body, signal: input.signal });
            },
            {
                retries: input.control.retries,
                signal: input.signal,
                delayMs: (outcome, attempt) => {
                    if (!outcome.ok)
                        return outcome.error instanceof ApiError && isRetryableNetworkError(outcome.error.code)
                            ? backoffMs(attempt, { baseMs: 1000 })
                            : undefined;
                    const res = outcome.value;
                    if (res.statusCode === 401 && renewable) return undefined;
                    if (!isRetryableStatus(res.statusCode, input.control['retry-on'], input.def, res.headers)) return undefined;
                    const wait = proxyRetryDelayMs(attempt, res.headers, input.def);
                    if (wait !== undefined) res.body.resume();
                    return wait;
                }
            }
        );
    const res = await send();
    if (res.statusCode !== 401 || !renewable) return res;
    renewable = false;
    let renewed: Connection | undefined;
    try {
        renewed = await s.refresher.rejected(conn);
    } catch (err) {
        res.body.resume();
        throw err;
    }
    if (!renewed) return res;
    res.body.resume();
    conn = renewed;
    return send();
}

/** URL and headers of one upstream attempt: the connection's auth on top of what the app sent. */
export function buildRequest(
    s: Pick<ForwardDeps, 'integrations'>,
    conn: Connection,
    input: Omit<ForwardInput, 'control' | 'signal'>
): { url: URL; headers: Record<string, string> } {
    const auth = applyAuth(input.def, conn.credentials, conn.connectionConfig);
    const url = upstreamUrl(input.base, input.pathAndQuery, auth.query);
    const headers: Record<string, string> = { ...auth.headers, ...input.appHeaders };
    if ((conn.credentials.type === 'OAUTH1' || conn.credentials.type === 'TBA') && !input.appHeaders['authorization']) {
        const form =
            headers['content-type']?.startsWith('application/x-www-form-urlencoded') && input.body
                ? Object.fromEntries(new URLSearchParams(input.body.toString('utf8')))
                : undefined;
        const client = s.integrations.credentials(input.integration);
        const req = { method: input.method, url, form };
        headers['authorization'] =
            conn.credentials.type === 'TBA'
                ? tbaHeader(input.def, client, conn.credentials, conn.connectionConfig, req)
                : oauth1Header(input.def, client, conn.credentials, req);
    }
    if (input.body && input.body.length > 0) headers['content-length'] = String(input.body.length);
    // SigV4 signs the final method, URL, headers and body: last, over exactly what is sent.
    if (conn.credentials.type === 'AWS_SIGV4') {
        return { url, headers: signAwsRequest(conn.credentials, { method: input.method, url, headers, body: input.body }) };
    }
    return { url, headers };
}
