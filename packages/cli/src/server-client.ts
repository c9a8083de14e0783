import * as z from 'zod';
import { BrokerClient, BrokerError, type BrokerAuth } from '@switchboard/apply';
import { CliError } from './errors.ts';

/** The User-Agent of every request the CLI makes to the server. */
export const CLI_USER_AGENT = 'switchboard-cli';

/** A server and the key the CLI calls it with (an environment's secret key, or the admin key). */
export interface ServerTarget {
    host: string;
    auth: BrokerAuth;
}

/**
 * One JSON call to the server through @switchboard/apply's BrokerClient (the one HTTP client of the CLI, `plan`
 * and `apply` included). A refusal becomes SERVER_ERROR quoting the server's error envelope, a server that cannot be
 * reached SERVER_UNREACHABLE. No timeout: a deploy of many scripts may take long.
 */
export async function callServer(target: ServerTarget, method: string, path: string, body?: unknown): Promise<unknown> {
    const client = new BrokerClient({ baseUrl: target.host, auth: target.auth, userAgent: CLI_USER_AGENT, timeoutMs: 0 });
    try {
        return await client.request(method, path, undefined, body);
    } catch (err) {
        throw serverFailure(target.host, method, path, err);
    }
}

/** A failed call as the CLI reports it. */
export function serverFailure(host: string, method: string, path: string, err: unknown): Error {
    if (err instanceof BrokerError) return new CliError('SERVER_ERROR', `${err.request} answered ${err.status}: ${describeError(err.body)}`);
    if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError')) {
        const reason = err.cause instanceof Error ? err.cause.message : err.message;
        return new CliError('SERVER_UNREACHABLE', `${method} ${host.replace(/\/+$/, '')}${path} failed: ${reason}`, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
}

const errorEnvelope = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }).loose() });

/** The server's `{ error: { code, message } }` envelope as one line (or the raw answer, cut). */
export function describeError(data: unknown): string {
    const env = errorEnvelope.safeParse(data);
    if (env.success) {
        const { code, message, ...rest } = env.data.error;
        const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
        return `[${code ?? 'unknown'}] ${message ?? ''}${extra}`.trim();
    }
    return typeof data === 'string' ? data.slice(0, 2000) : String(JSON.stringify(data) ?? '').slice(0, 2000);
}
