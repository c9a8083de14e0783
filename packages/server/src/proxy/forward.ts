import type { Dispatcher } from 'undici';
import type { Egress } from '../egress/egress.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { Refresher } from '../refresh/refresher.ts';
import type { Connection } from '../connections/store.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import type { ProxyControl } from './control-headers.ts';
import { ApiError } from '../http/errors.ts';
import { applyAuth, oauth1Header } from './auth.ts';
import { upstreamUrl } from './target.ts';
import { isRetryableStatus, retryDelayMs } from './retry.ts';

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

const RETRY_BASE_MS = 1000;

/**
 * Sends the app's request upstream with the connection's auth, retrying as the app asked. Returns the response
 * whose body the caller streams back; bodies of discarded attempts are drained.
 */
export async function forward(s: ForwardDeps, connection: Connection, input: ForwardInput): Promise<Dispatcher.ResponseData> {
    let conn = connection;
    for (let attempt = 0; ; attempt++) {
        const { url, headers } = buildRequest(s, conn, input);
        const last = attempt >= input.control.retries;
        let res: Dispatcher.ResponseData;
        try {
            res = await s.egress.stream({ method: input.method, url, headers, body: input.body, signal: input.signal });
        } catch (err) {
            const network = err instanceof ApiError && (err.code === 'upstream_unreachable' || err.code === 'upstream_timeout');
            if (!network || last) throw err;
            await sleep(RETRY_BASE_MS * 2 ** attempt, input.signal);
            continue;
        }
        if (last || !isRetryableStatus(res.statusCode, input.control['retry-on'], input.def.proxy?.retry?.error_code)) return res;
        const wait = retryDelayMs(attempt, res.headers, { baseMs: RETRY_BASE_MS, now: Date.now(), atHeader: input.def.proxy?.retry?.at, afterHeader: input.def.proxy?.retry?.after });
        if (wait === undefined) return res;
        res.body.resume();
        await sleep(wait, input.signal);
        // A 401 may mean the token was revoked or rotated early: renew before the next attempt.
        if (res.statusCode === 401) conn = await s.refresher.fresh(conn, { force: true }).catch(() => conn);
    }
}

/** URL and headers of one upstream attempt: the connection's auth on top of what the app sent. */
export function buildRequest(s: Pick<ForwardDeps, 'integrations'>, conn: Connection, input: Omit<ForwardInput, 'control' | 'signal'>): { url: URL; headers: Record<string, string> } {
    const auth = applyAuth(input.def, conn.credentials, conn.connectionConfig);
    const url = upstreamUrl(input.base, input.pathAndQuery, auth.query);
    const headers: Record<string, string> = { ...auth.headers, ...input.appHeaders };
    if (conn.credentials.type === 'OAUTH1' && !input.appHeaders['authorization']) {
        const form = headers['content-type']?.startsWith('application/x-www-form-urlencoded') && input.body ? Object.fromEntries(new URLSearchParams(input.body.toString('utf8'))) : undefined;
        headers['authorization'] = oauth1Header(input.def, s.integrations.credentials(input.integration), conn.credentials, { method: input.method, url, form });
    }
    if (input.body && input.body.length > 0) headers['content-length'] = String(input.body.length);
    return { url, headers };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
}
