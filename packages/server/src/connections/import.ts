// What POST /connections stores for each credential type it imports (docs/compatibility.md, "Connections"):
// the credentials as given, or completed first (a token obtained or signed, a login made, a role assumed).
import { fail } from '../errors.ts';
import type { Services } from '../services.ts';
import { inputsOf, toStored, type ImportCredentials, type StoredCredentials } from './credentials.ts';
import { installationIdPattern, mintInstallationToken } from '../app-auth/installation-token.ts';
import { TokenError } from '../oauth/token-request.ts';
import { tokenFailure } from '../oauth/token-client.ts';
import type { Integration } from '../integrations/store.ts';
import type { ProviderDefinition } from '../providers/schema.ts';
import { twoStepToken } from '../auth-modes/two-step.ts';
import { mintJwt } from '../auth-modes/jwt.ts';
import { mintSignature } from '../auth-modes/signature.ts';
import { BILL_SESSION_MS, billLogin } from '../auth-modes/bill.ts';
import { assumeRole, roleSessionName, stsConfigOf } from '../auth-modes/aws-sts.ts';

// Which connection credential types each provider auth mode accepts on import.
export const importTypesFor: Record<string, string[]> = {
    OAUTH2: ['OAUTH2'],
    MCP_OAUTH2: ['OAUTH2'],
    OAUTH1: ['OAUTH1'],
    OAUTH2_CC: ['OAUTH2_CC'],
    API_KEY: ['API_KEY'],
    BASIC: ['BASIC'],
    APP: ['APP'],
    NONE: ['NONE'],
    TWO_STEP: ['TWO_STEP'],
    JWT: ['JWT'],
    AWS_SIGV4: ['AWS_SIGV4'],
    TBA: ['TBA'],
    SIGNATURE: ['SIGNATURE'],
    BILL: ['BILL']
};

const TWO_STEP_KEYS = ['type', 'token', 'refresh_token', 'expires_at', 'raw'];

/**
 * TWO_STEP and JWT imports: the inputs as given; a token given with them is kept (until it expires), else one
 * is obtained (TWO_STEP, from the provider) or signed (JWT) at once, which also proves the inputs work.
 */
async function importedToken(
    s: Services,
    def: ProviderDefinition,
    c: Extract<ImportCredentials, { type: 'TWO_STEP' | 'JWT' }>,
    config: Record<string, unknown>
): Promise<StoredCredentials> {
    const inputs = inputsOf(c, TWO_STEP_KEYS);
    const expires_at = typeof c.expires_at === 'string' ? c.expires_at : undefined;
    if (c.type === 'JWT') return c.token ? { type: 'JWT', inputs, token: c.token, expires_at } : mintJwt(def, config, inputs);
    if (c.token) {
        const refresh_token = typeof c.refresh_token === 'string' ? c.refresh_token : undefined;
        const raw = typeof c.raw === 'object' && c.raw !== null ? (c.raw as Record<string, unknown>) : {};
        return { type: 'TWO_STEP', inputs, token: c.token, refresh_token, expires_at, raw };
    }
    try {
        return await twoStepToken(s.egress, def, config, inputs);
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
        throw err;
    }
}

/** BILL imports: a session id given with the login values is kept until it expires, else the login is made now. */
async function importedBill(
    s: Services,
    def: ProviderDefinition,
    c: Extract<ImportCredentials, { type: 'BILL' }>,
    config: Record<string, unknown>
): Promise<StoredCredentials> {
    if (c.session_id) return { ...c, expires_at: c.expires_at ?? new Date(Date.now() + BILL_SESSION_MS).toISOString(), raw: {} };
    try {
        return await billLogin(s.egress, def, config, c);
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'these credentials' });
        throw err;
    }
}

/**
 * AWS_SIGV4 imports: a key as given (a temporary one with its role_arn is renewed from the role when it expires);
 * a role_arn alone is assumed now with the integration's AWS key.
 */
async function importedAws(
    s: Services,
    integration: Integration,
    c: Extract<ImportCredentials, { type: 'AWS_SIGV4' }>,
    connectionId: string
): Promise<StoredCredentials> {
    const { access_key_id, secret_access_key, role_arn } = c;
    if (access_key_id && secret_access_key) return { ...c, type: 'AWS_SIGV4', access_key_id, secret_access_key };
    try {
        return await assumeRole(s.egress, stsConfigOf(s.integrations, integration), {
            role_arn: role_arn!,
            region: c.region,
            service: c.service,
            session_name: roleSessionName(connectionId)
        });
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'to let this role be assumed' });
        throw err;
    }
}

/**
 * The credentials an import stores. A GitHub App installation is named by connection_config.installation_id;
 * without a token given, one is minted at once, which also proves the installation belongs to the app.
 */
export async function imported(
    s: Services,
    integration: Integration,
    def: ProviderDefinition,
    c: ImportCredentials,
    config: Record<string, unknown> | undefined,
    connectionId: string
): Promise<{ credentials: StoredCredentials; connectionConfig: Record<string, unknown> | undefined }> {
    if (c.type === 'AWS_SIGV4') return { credentials: await importedAws(s, integration, c, connectionId), connectionConfig: config };
    if (c.type === 'TWO_STEP' || c.type === 'JWT') return { credentials: await importedToken(s, def, c, config ?? {}), connectionConfig: config };
    // SIGNATURE: the token is made here (it is never taken as given: each one is good once).
    if (c.type === 'SIGNATURE') return { credentials: mintSignature(def, c.username, c.password), connectionConfig: config };
    if (c.type === 'BILL') return { credentials: await importedBill(s, def, c, config ?? {}), connectionConfig: config };
    if (c.type === 'TBA' && (typeof config?.['accountId'] !== 'string' || !config['accountId']))
        throw fail('missing_connection_config', { message: 'connection_config.accountId (the NetSuite account id) is required for TBA connections' });
    if (c.type !== 'APP') return { credentials: toStored(c), connectionConfig: config };
    const id = config?.['installation_id'];
    if ((typeof id !== 'string' && typeof id !== 'number') || !installationIdPattern.test(String(id))) {
        throw fail('missing_connection_config', {
            message: 'connection_config.installation_id (the GitHub App installation id, a positive integer) is required for APP connections'
        });
    }
    const connectionConfig = { ...config, installation_id: String(id) };
    if (c.access_token) return { credentials: { type: 'APP', access_token: c.access_token, expires_at: c.expires_at, raw: c.raw ?? {} }, connectionConfig };
    try {
        return {
            credentials: await mintInstallationToken(s.egress, def, s.integrations.credentials(integration), connectionConfig, Date.now()),
            connectionConfig
        };
    } catch (err) {
        if (err instanceof TokenError) throw tokenFailure(err, { connect: 'an installation token' });
        throw err;
    }
}
