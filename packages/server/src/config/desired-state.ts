import type { FastifyInstance } from 'fastify';
import { apply, BrokerClient, BrokerError, destructiveActions, formatIssue, plan, readCurrent, type LoadedConfig } from '@switchboard/apply';
import { ConfigError } from '../errors.ts';
import type { Services } from '../services.ts';

/**
 * A fetch served by the app's own routes (Fastify inject): SWITCHBOARD_CONFIG goes through the same validation,
 * authorisation and storage as `switchboard apply` over HTTP, without a socket and before the server listens.
 */
function injectFetch(app: FastifyInstance): typeof fetch {
    const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
        const res = await app.inject({
            method: (init?.method ?? 'GET') as 'GET',
            url: `${url.pathname}${url.search}`,
            headers: (init?.headers ?? {}) as Record<string, string>,
            ...(typeof init?.body === 'string' ? { payload: init.body } : {})
        });
        const empty = res.statusCode === 204 || res.statusCode === 304;
        return new Response(empty ? null : res.body, { status: res.statusCode, headers: { 'content-type': String(res.headers['content-type'] ?? '') } });
    };
    return f as typeof fetch;
}

/**
 * Applies SWITCHBOARD_CONFIG at start: never prunes and never replaces (those need `switchboard apply --prune`
 * and a person's consent). Instances starting together take turns on a database lock; the second finds nothing
 * left to do. A refusal becomes a ConfigError naming the file, line and field, and the server does not start.
 */
export async function applyDesiredState(app: FastifyInstance, services: Services, loaded: LoadedConfig): Promise<void> {
    await services.db.withLock('switchboard:config-apply', () =>
        services.adminKeys.withInProcessKey(async (key) => {
            const broker = new BrokerClient({ baseUrl: 'http://in-process', auth: { kind: 'admin', key }, fetch: injectFetch(app) });
            try {
                const p = plan(loaded.desired, await readCurrent(broker, loaded.desired));
                const destructive = destructiveActions(p);
                if (destructive.length) {
                    const names = destructive.map((a) => ('key' in a ? `${a.environment}/${a.key}` : a.environment)).join(', ');
                    throw new ConfigError(
                        `SWITCHBOARD_CONFIG: ${loaded.file} changes the provider of ${names}, which replaces the integration and drops its connections; do it once with \`switchboard apply --yes\``
                    );
                }
                await apply(broker, p, {
                    onApplied: (a) =>
                        services.log.info(
                            {
                                file: loaded.file,
                                environment: a.environment,
                                action: a.kind,
                                ...('key' in a ? { integration: a.key } : {}),
                                ...('changes' in a ? { fields: a.changes.map((c) => c.field) } : {})
                            },
                            'config file applied a change'
                        )
                });
                services.log.info({ file: loaded.file, changes: p.actions.length, unmanaged: p.unmanaged.length }, 'config file applied');
            } catch (err) {
                if (err instanceof BrokerError) {
                    const message = `the server refused (${err.code}): ${err.message}`;
                    throw new ConfigError(`SWITCHBOARD_CONFIG: ${err.path ? formatIssue(loaded.issueAt(err.path, message)) : `${loaded.file}: ${message}`}`);
                }
                throw err;
            }
        })
    );
}
