import type { IncomingHttpHeaders } from 'node:http';
import type { Services } from '../services.ts';
import type { Environment } from '../environments/environments.ts';
import type { ProxyTarget } from './resolve.ts';
import { ApiError } from '../errors.ts';
import { keySubject } from '../http/route.ts';

/**
 * The proxy's rate limits (issue #16 item 4), the same for both doors: the secret key's limit is taken before the
 * target is resolved (route.ts for the Fastify door, `admitKey` for the fast one), like on every route; the
 * connection's once the connection is known. When the connection refuses, the key's count is given back: a refused
 * request counts against neither. Returns the RateLimit headers of the answer, the key's and the connection's.
 */
export async function admitConnection(
    s: Pick<Services, 'limits'>,
    headers: IncomingHttpHeaders,
    env: Environment,
    target: ProxyTarget,
    keyHeaders: Record<string, string>
): Promise<Record<string, string>> {
    try {
        return mergeRateLimitHeaders(keyHeaders, await s.limits.admit(env, [{ name: 'connection', subject: `connection:${target.connection.uuid}` }]));
    } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'too_many_request') throw err;
        if (s.limits.limits(env).perKey) await s.limits.giveBack(env, keySubject(headers));
        throw withRateLimitHeaders(err, keyHeaders);
    }
}

/** The fast door's key admission (the Fastify door's is the route's onRequest hook). */
export function admitKey(s: Pick<Services, 'limits'>, headers: IncomingHttpHeaders, env: Environment): Promise<Record<string, string>> {
    return s.limits.admit(env, [{ name: 'key', subject: keySubject(headers) }]);
}

/** The error, answered with the key's RateLimit fields as well (what the Fastify door's reply already carries). */
export function withRateLimitHeaders(err: unknown, keyHeaders: Record<string, string>): unknown {
    if (!(err instanceof ApiError) || !keyHeaders['ratelimit']) return err;
    return new ApiError(err.code, {
        message: err.message,
        status: err.status,
        errors: err.errors,
        payload: err.payload,
        cause: err.cause,
        additional: err.additional,
        headers: mergeRateLimitHeaders(keyHeaders, err.headers ?? {})
    });
}

/** Two sets of RateLimit fields as one: the list fields joined (key first), the rest of `b` over `a`. */
function mergeRateLimitHeaders(a: Record<string, string>, b: Record<string, string>): Record<string, string> {
    const out = { ...a, ...b };
    for (const name of ['ratelimit', 'ratelimit-policy']) if (a[name] && b[name]) out[name] = `${a[name]}, ${b[name]}`;
    return out;
}
