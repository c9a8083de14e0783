/** Connection, token, metadata, integration and environment accessors (docs/scripts-compatibility.md, "The nango object"). */
import { guard, type SdkContext } from './context.ts';

const CONNECTION_TTL_MS = 60_000;
const INTEGRATION_TTL_MS = 10 * 60_000;

export interface GetConnectionOptions {
    refreshToken?: boolean;
    forceRefresh?: boolean;
    refreshGithubAppJwtToken?: boolean;
}

/** Memoises connection and integration look-ups for one run, as the Nango runner does. */
export class ConnectionApi {
    private readonly ctx: SdkContext;
    private readonly connections = new Map<string, { at: number; value: unknown }>();
    private integration: { at: number; key: string; value: unknown } | undefined;

    constructor(ctx: SdkContext) {
        this.ctx = ctx;
    }

    async getConnection(providerConfigKey?: string, connectionId?: string, options?: GetConnectionOptions): Promise<unknown> {
        guard(this.ctx);
        const pck = providerConfigKey || this.ctx.props.providerConfigKey;
        const cid = connectionId || this.ctx.props.connectionId;
        const key = `${pck}\u0000${cid}`;
        const fresh = options?.forceRefresh === true || options?.refreshToken === true;
        const hit = this.connections.get(key);
        if (!fresh && hit && this.ctx.now() - hit.at < CONNECTION_TTL_MS) return hit.value;
        const value = await this.ctx.host.getConnection({
            providerConfigKey: pck,
            connectionId: cid,
            ...(options?.forceRefresh !== undefined ? { forceRefresh: options.forceRefresh } : {}),
            ...(options?.refreshToken !== undefined ? { refreshToken: options.refreshToken } : {})
        });
        this.connections.set(key, { at: this.ctx.now(), value });
        return value;
    }

    /** OAuth2 → access token string; OAuth1 → `{oAuthToken, oAuthTokenSecret}`; other types → the credentials object. */
    async getToken(): Promise<unknown> {
        const conn = await this.getConnection();
        const creds = (conn as { credentials?: Record<string, unknown> } | null)?.credentials;
        if (!creds) return undefined;
        if (creds['type'] === 'OAUTH2') return creds['access_token'];
        if (creds['type'] === 'OAUTH1') return { oAuthToken: creds['oauth_token'], oAuthTokenSecret: creds['oauth_token_secret'] };
        return creds;
    }

    async getMetadata(): Promise<unknown> {
        const conn = await this.getConnection();
        return (conn as { metadata?: unknown } | null)?.metadata ?? null;
    }

    async setMetadata(metadata: Record<string, unknown>): Promise<unknown> {
        guard(this.ctx);
        await this.ctx.host.setMetadata(metadata);
        this.connections.clear();
        return okResponse();
    }

    async updateMetadata(metadata: Record<string, unknown>): Promise<unknown> {
        guard(this.ctx);
        await this.ctx.host.updateMetadata(metadata);
        this.connections.clear();
        return okResponse();
    }

    async getIntegration(config?: { include?: string[] }): Promise<unknown> {
        guard(this.ctx);
        const include = config?.include;
        const key = JSON.stringify(include ?? []);
        const hit = this.integration;
        if (hit && hit.key === key && this.ctx.now() - hit.at < INTEGRATION_TTL_MS) return hit.value;
        const value = await this.ctx.host.getIntegration(include);
        this.integration = { at: this.ctx.now(), key, value };
        return value;
    }

    async getWebhookURL(): Promise<string | null> {
        const integration = (await this.getIntegration({ include: ['webhook'] })) as { webhook_url?: unknown } | null;
        return typeof integration?.webhook_url === 'string' ? integration.webhook_url : null;
    }

    async getEnvironmentVariables(): Promise<Array<{ name: string; value: string }> | null> {
        guard(this.ctx);
        return this.ctx.host.getEnvironmentVariables();
    }
}

/** Nango returns the axios response of its API call; scripts that look at it only see success. */
function okResponse(): { status: number; data: Record<string, never>; headers: Record<string, string> } {
    return { status: 200, data: {}, headers: {} };
}
