// A multi-tenant SaaS backend's Integrations page, on Switchboard through the official @nangohq/node SDK.
// Each tenant gets one connection per integration, with an id the app chooses: `<tenant>:<integration>`.
// The browser connects with @nangohq/frontend and the environment's public key; the backend signs each
// connection id (HMAC) so a browser can only connect the ids this backend handed it.
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyRequest } from 'fastify';
import { Nango } from '@nangohq/node';

export interface AppConfig {
    /** Switchboard's URL, as the browser reaches it. */
    host: string;
    secretKey: string;
    /** The environment's public key and HMAC key (GET /environment/public-key-auth). */
    publicKey: string;
    hmacKey: string;
}

/** What the page shows for each integration. Switchboard adds `status` to Nango's connection shape. */
export type IntegrationStatus = 'connected' | 'expired' | 'revoked' | 'not_connected';
type ConnectionStatus = 'active' | 'expired' | 'revoked';

const pageFile = new URL('../public/index.html', import.meta.url);
const frontendSdkDir = dirname(createRequire(import.meta.url).resolve('@nangohq/frontend'));

export function buildApp(config: AppConfig) {
    const nango = new Nango({ host: config.host, secretKey: config.secretKey });
    const app = Fastify();
    const connectionIdOf = (tenant: string, integration: string) => `${tenant}:${integration}`;
    // Nango's `hmac` parameter: HMAC-SHA256 of `<integration>:<connection id>` with the environment's HMAC key.
    const sign = (integration: string, connectionId: string) => createHmac('sha256', config.hmacKey).update(`${integration}:${connectionId}`).digest('hex');

    app.get('/', async (_request, reply) => reply.type('text/html').send(await readFile(pageFile)));

    // A real app bundles @nangohq/frontend; this one serves its ES modules as they are.
    app.get<{ Params: { file: string } }>('/vendor/nango/:file', async (request, reply) => {
        if (!/^[a-zA-Z]+\.js$/.test(request.params.file)) return reply.code(404).send();
        return reply.type('text/javascript').send(await readFile(join(frontendSdkDir, request.params.file)));
    });

    // Stand-in for the app's own sign-in: the tenant comes from the session cookie it sets.
    app.get<{ Querystring: { tenant?: string } }>('/login', async (request, reply) => {
        const tenant = request.query.tenant ?? '';
        if (!/^[a-z0-9-]{1,40}$/.test(tenant)) return reply.code(400).send({ error: 'tenant: lowercase letters, digits and dashes' });
        return reply.header('set-cookie', `tenant=${tenant}; Path=/; HttpOnly; SameSite=Lax`).redirect('/');
    });

    app.get('/api/integrations', async (request, reply) => {
        const tenant = tenantOf(request);
        if (!tenant) return reply.code(401).send({ error: 'sign in first' });
        const [{ configs }, { connections }] = await Promise.all([nango.listIntegrations(), nango.listConnections(undefined, `${tenant}:`)]);
        const integrations = configs.map((integration) => {
            const connectionId = connectionIdOf(tenant, integration.unique_key);
            const connection = connections.find((c) => c.connection_id === connectionId && c.provider_config_key === integration.unique_key) as
                | { status?: ConnectionStatus }
                | undefined;
            return {
                key: integration.unique_key,
                name: integration.display_name || integration.provider,
                connectionId,
                hmac: sign(integration.unique_key, connectionId),
                status: statusOf(connection)
            };
        });
        return { tenant, host: config.host, publicKey: config.publicKey, integrations };
    });

    app.delete<{ Params: { key: string } }>('/api/integrations/:key', async (request, reply) => {
        const tenant = tenantOf(request);
        if (!tenant) return reply.code(401).send({ error: 'sign in first' });
        try {
            await nango.deleteConnection(request.params.key, connectionIdOf(tenant, request.params.key));
        } catch (err) {
            // A 4xx from Switchboard (`unknown_connection`): this tenant has no such connection.
            const status = httpStatusOf(err);
            if (status !== undefined && status < 500) return reply.code(404).send({ error: 'not connected' });
            throw err;
        }
        return reply.code(204).send();
    });

    return app;
}

function statusOf(connection: { status?: ConnectionStatus } | undefined): IntegrationStatus {
    if (!connection) return 'not_connected';
    if (connection.status === 'expired' || connection.status === 'revoked') return connection.status;
    return 'connected';
}

/** The SDK throws axios errors; the status of Switchboard's answer is on `response`. */
function httpStatusOf(err: unknown): number | undefined {
    const response = err && typeof err === 'object' && 'response' in err ? err.response : undefined;
    return response && typeof response === 'object' && 'status' in response && typeof response.status === 'number' ? response.status : undefined;
}

function tenantOf(request: FastifyRequest): string | undefined {
    return /(?:^|;\s*)tenant=([a-z0-9-]{1,40})(?:;|$)/.exec(request.headers.cookie ?? '')?.[1];
}
