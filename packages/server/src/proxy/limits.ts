import type { IncomingHttpHeaders } from 'node:http';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import type { ProxyTarget } from './resolve.ts';
import { keySubject } from '../http/route.ts';

/**
 * Counts a proxied request against its secret key's and its connection's rate limits in one admission (issue #16
 * item 4), for both doors, once the connection is known: a request one limit refuses is counted by neither.
 * Returns the RateLimit headers of the answer; throws too_many_request.
 */
export function admitProxied(
    s: Pick<Services, 'limits'>,
    headers: IncomingHttpHeaders,
    env: Environment,
    target: ProxyTarget
): Promise<Record<string, string>> {
    return s.limits.admit(env, [
        { name: 'key', subject: keySubject(headers) },
        { name: 'connection', subject: `connection:${target.connection.uuid}` }
    ]);
}
