// Post-connection steps (`post_connection_script`): what a provider only tells after the grant, looked up once
// and stored in connection_config, from each provider's public API documentation. Registered under Nango's hook
// names so a copy of Nango's providers file keeps working, and under our own where our catalogue had one.
import { decodeJwt } from 'jose';
import { fail } from '../../errors.ts';
import type { HookInput, PostConnectionHook } from './types.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);

function refused(status: number, what: string): never {
    throw fail('connection_test_failed', {
        message:
            status === 401 || status === 403 ? `The provider rejected the new credentials when ${what}` : `The provider answered HTTP ${status} when ${what}`,
        payload: { status }
    });
}

/**
 * Atlassian (Jira, Confluence): the sites a grant reaches, from GET /oauth/token/accessible-resources
 * (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#3-1-get-the-cloudid-for-your-site).
 * The site named by connection_config.baseUrl or .subdomain when given, else the first; its id becomes
 * `cloudId` (the proxy's base URL needs it) and its URL `baseUrl`.
 */
const atlassianCloudId: PostConnectionHook = async ({ call, connectionConfig }) => {
    const res = await call({ path: '/oauth/token/accessible-resources', from: 'origin' });
    if (res.status !== 200) refused(res.status, 'listing the Atlassian sites');
    const sites = (Array.isArray(res.body) ? res.body : []).filter(isObject).filter((r) => str(r['id']) && str(r['url']));
    const wanted = str(connectionConfig['baseUrl']) ?? str(connectionConfig['subdomain']);
    const site = wanted ? sites.find((r) => r['url'] === wanted || new URL(String(r['url'])).hostname.split('.')[0] === wanted) : sites[0];
    if (!site) {
        throw fail('connection_test_failed', {
            message: wanted ? `The Atlassian account cannot reach the site "${wanted}"` : 'The Atlassian account gave this app access to no site'
        });
    }
    return { cloudId: str(site['id']), baseUrl: str(site['url']) };
};

/** HubSpot: the portal (hub) of the token, GET /oauth/v1/access-tokens/{token}; webhooks name it as `portalId`. */
const hubspotPortal: PostConnectionHook = async ({ call, credentials }) => {
    if (credentials.type !== 'OAUTH2') return {};
    const res = await call({ path: `/oauth/v1/access-tokens/${encodeURIComponent(credentials.access_token)}`, from: 'origin' });
    if (res.status !== 200 || !isObject(res.body)) refused(res.status, 'reading the HubSpot account');
    const portalId = str(res.body['hub_id']);
    if (!portalId) throw fail('connection_test_failed', { message: 'HubSpot did not say which account the token belongs to' });
    return { portalId, ...(str(res.body['hub_domain']) ? { hubDomain: str(res.body['hub_domain']) } : {}) };
};

/** Linear: the workspace's id (`organizationId` in its webhooks), from the GraphQL API. */
const linearOrganization: PostConnectionHook = async ({ call }) => {
    const res = await call({ method: 'POST', path: '/graphql', body: { query: '{ organization { id urlKey } }' } });
    const org = isObject(res.body) && isObject(res.body['data']) && isObject(res.body['data']['organization']) ? res.body['data']['organization'] : undefined;
    if (res.status !== 200 || !str(org?.['id'])) refused(res.status, 'reading the Linear workspace');
    return { organizationId: str(org!['id']), ...(str(org!['urlKey']) ? { urlKey: str(org!['urlKey']) } : {}) };
};

/** Zoom: the account id (`payload.account_id` in its webhooks), GET /v2/users/me. */
const zoomAccount: PostConnectionHook = async ({ call }) => {
    const res = await call({ path: '/v2/users/me' });
    if (res.status !== 200 || !isObject(res.body) || !str(res.body['account_id'])) refused(res.status, 'reading the Zoom account');
    return { accountId: str((res.body as Record<string, unknown>)['account_id']) };
};

/** Intercom: the workspace id (`app_id` in its webhooks), GET /me → app.id_code. */
const intercomWorkspace: PostConnectionHook = async ({ call }) => {
    const res = await call({ path: '/me' });
    const app = isObject(res.body) && isObject(res.body['app']) ? res.body['app'] : undefined;
    if (res.status !== 200 || !str(app?.['id_code'])) refused(res.status, 'reading the Intercom workspace');
    return { appId: str(app!['id_code']) };
};

/**
 * Microsoft identity platform: the tenant of the signed-in account, the `tid` claim of the ID token (or of the
 * access token) the token endpoint just returned over TLS, so read without verifying its signature
 * (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference).
 */
const microsoftTenant: PostConnectionHook = async ({ credentials }) => {
    if (credentials.type !== 'OAUTH2') return {};
    for (const token of [credentials.raw['id_token'], credentials.access_token]) {
        if (typeof token !== 'string') continue;
        try {
            const tid = str(decodeJwt(token)['tid']);
            if (tid) return { tenantId: tid };
        } catch {
            // not a JWT (personal accounts' access tokens are opaque)
        }
    }
    return {};
};

/**
 * Zendesk: the subdomain must be an account and the credentials an agent of it. GET /api/v2/users/me.json
 * answers 200 with an anonymous user (id null) when the credentials are not accepted, so the status alone says
 * nothing (https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
 */
const zendeskAccount: PostConnectionHook = async ({ call, connectionConfig }) => {
    const res = await call({ path: '/api/v2/users/me.json' });
    if (res.status === 404) throw fail('connection_test_failed', { message: `There is no Zendesk account at "${String(connectionConfig['subdomain'])}"` });
    const user = isObject(res.body) && isObject(res.body['user']) ? res.body['user'] : undefined;
    if (res.status !== 200 || !user) refused(res.status, 'checking the Zendesk account');
    if (user['id'] === null || user['id'] === undefined) throw fail('connection_test_failed', { message: 'Zendesk did not accept these credentials' });
    return {};
};

/** Shopify: the shop answering must be the one asked for (GET /admin/api/…/shop.json → shop.myshopify_domain). */
const shopifyShop: PostConnectionHook = async ({ call, connectionConfig }) => {
    const res = await call({ path: '/admin/api/2024-10/shop.json' });
    if (res.status === 404) throw fail('connection_test_failed', { message: `There is no Shopify store "${String(connectionConfig['subdomain'])}"` });
    const shop = isObject(res.body) && isObject(res.body['shop']) ? res.body['shop'] : undefined;
    if (res.status !== 200 || !shop) refused(res.status, 'checking the Shopify store');
    const domain = str(shop['myshopify_domain']);
    const subdomain = str(connectionConfig['subdomain']);
    if (subdomain && domain && domain.split('.')[0] !== subdomain)
        throw fail('connection_test_failed', { message: `The credentials belong to the store "${domain}", not "${subdomain}"` });
    return domain ? { shopDomain: domain } : {};
};

/** Post-connection steps by the name a provider gives as `post_connection_script`. */
export const postConnectionHooks: Readonly<Record<string, PostConnectionHook>> = {
    jiraPostConnection: atlassianCloudId,
    confluencePostConnection: atlassianCloudId,
    'jira-cloud-id': atlassianCloudId,
    hubspotPostConnection: hubspotPortal,
    linearPostConnection: linearOrganization,
    zoomPostConnection: zoomAccount,
    intercomPostConnection: intercomWorkspace,
    microsoftPostConnection: microsoftTenant,
    zendeskPostConnection: zendeskAccount,
    shopifyPostConnection: shopifyShop
};

/** Credential checks by the name a provider gives as `credentials_verification_script`. */
export const credentialChecks: Readonly<Record<string, (input: HookInput) => Promise<void>>> = {
    zendeskCredentialsVerification: async (input) => {
        await zendeskAccount(input);
    },
    shopifyCredentialsVerification: async (input) => {
        await shopifyShop(input);
    }
};
