// Provider hooks (issue #15 item 3): post-connection steps, credential checks and inbound webhook routers from
// the typed hook registry, driven through a running server (embedded, then PostgreSQL) against oidc-provider and
// loopback stand-ins that follow each provider's documented shapes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startServer, removeDir, writeProvidersFile, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { CookieJar, hop, loginAndConsent, freePort, openSdkSocket } from './support/browserless.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { startReceiver, waitFor, api, received, type Receiver, type Json } from './support/webhooks.ts';
import { loadCatalogue } from '../src/providers/catalogue.ts';
import { missingHooks } from '../src/providers/hooks/index.ts';

it('every hook a built-in catalogue entry names exists in the registry', () => {
    const c = loadCatalogue([]);
    const named = c.list().filter(([, def]) => def.post_connection_script || def.webhook_routing_script || def.credentials_verification_script);
    assert.ok(named.length >= 6, 'the catalogue names hooks');
    for (const [name, def] of c.list()) assert.deepEqual(missingHooks(def), [], `${name} names a hook that does not exist`);
    // The check can fail: a name the registry does not hold is reported by field.
    const def = { ...c.get('jira')!, post_connection_script: 'jiraPostConnecton', webhook_routing_script: 'nopeWebhookRouting' };
    assert.deepEqual(missingHooks(def), ['post_connection_script: jiraPostConnecton', 'webhook_routing_script: nopeWebhookRouting']);
});

const sign = {
    hubspotV3: (secret: string, method: string, url: string, body: string, ts: number) => ({
        'x-hubspot-signature-v3': createHmac('sha256', secret).update(`${method}${url}${body}${ts}`).digest('base64'),
        'x-hubspot-request-timestamp': String(ts)
    }),
    hubspotV1: (secret: string, body: string) => ({
        'x-hubspot-signature': createHash('sha256')
            .update(secret + body)
            .digest('hex'),
        'x-hubspot-signature-version': 'v1'
    }),
    stripe: (secret: string, body: string, t = Math.floor(Date.now() / 1000)) => ({
        'stripe-signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')},v0=ignored`
    }),
    linear: (secret: string, body: string) => ({ 'linear-signature': createHmac('sha256', secret).update(body).digest('hex') }),
    jira: (secret: string, body: string) => ({ 'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` }),
    zoom: (secret: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({
        'x-zm-request-timestamp': String(ts),
        'x-zm-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`
    }),
    intercom: (secret: string, body: string) => ({ 'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` }),
    shopify: (secret: string, body: string, shop: string) => ({
        'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('base64'),
        'x-shopify-shop-domain': `${shop}.myshopify.com`,
        'x-shopify-topic': 'orders/create'
    }),
    calendly: (secret: string, body: string, t = Math.floor(Date.now() / 1000)) => ({
        'calendly-webhook-signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`
    })
};

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`provider hooks (${backend})`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let atlassian: Awaited<ReturnType<typeof startUpstream>>;
        let apis: Awaited<ReturnType<typeof startUpstream>>;
        let r: Receiver;
        let nango: Nango;
        let publicUrl: string;
        let envUuid: string;
        let dropDb: (() => Promise<void>) | undefined;
        let sites: Array<{ id: string; url: string; name: string; scopes: string[] }> = [];

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            as = await startAuthServer({ redirectUri: `${publicUrl}/oauth/callback` });
            r = await startReceiver();
            // api.atlassian.com as documented: accessible-resources for the token, then the site's API under /ex/jira/{cloudId}.
            atlassian = await startUpstream(async (req: RecordedRequest, res) => {
                const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
                if (!(await as.isAccessTokenActive(token))) return json(res, 401, { code: 401, message: 'Unauthorized' });
                if (req.url === '/oauth/token/accessible-resources') return json(res, 200, sites);
                const m = /^\/ex\/jira\/([^/]+)\/rest\/api\/3\/myself$/.exec(req.url);
                if (m && sites.some((s) => s.id === m[1])) return json(res, 200, { accountId: 'acc-1', displayName: 'Carol' });
                json(res, 404, { errorMessages: ['not found'] });
            });
            // Zendesk and Shopify account stand-ins for the subdomain checks, on one loopback host (the subdomain is a path prefix).
            apis = await startUpstream((req: RecordedRequest, res) => {
                const auth = req.headers.authorization ?? '';
                if (req.url === '/zd/acme/api/v2/users/me.json') {
                    // Zendesk answers 200 with an anonymous user when it does not accept the credentials.
                    return json(res, 200, {
                        user:
                            auth === `Basic ${Buffer.from('agent@acme.example/token:zd-token').toString('base64')}`
                                ? { id: 7, role: 'admin' }
                                : { id: null, role: 'end-user' }
                    });
                }
                if (req.url.startsWith('/zd/')) return json(res, 404, { error: 'InvalidEndpoint' });
                if (req.url === '/shop/acme/admin/api/2024-10/shop.json') return json(res, 200, { shop: { id: 1, myshopify_domain: 'acme.myshopify.com' } });
                if (req.url === '/shop/other/admin/api/2024-10/shop.json')
                    return json(res, 200, { shop: { id: 2, myshopify_domain: 'someone-else.myshopify.com' } });
                json(res, 404, { errors: 'Not Found' });
            });
            const env: Record<string, string> = {
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_WEBHOOK_URL: r.url,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
jira:
  display_name: Jira (loopback)
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  default_scopes: [openid, offline_access]
  post_connection_script: jiraPostConnection
  webhook_routing_script: jiraWebhookRouting
  connection_config:
    cloudId:
      type: string
      pattern: ^[A-Za-z0-9-]+$
      automated: true
  proxy:
    base_url: ${atlassian.url}/ex/jira/\${connectionConfig.cloudId}
zendesk-local:
  display_name: Zendesk (loopback)
  auth_mode: BASIC
  credentials_verification_script: zendeskCredentialsVerification
  connection_config:
    subdomain:
      type: string
      pattern: ^[a-z0-9-]+$
  proxy:
    base_url: ${apis.url}/zd/\${connectionConfig.subdomain}
shopify-local:
  display_name: Shopify (loopback)
  auth_mode: API_KEY
  credentials_verification_script: shopifyCredentialsVerification
  webhook_routing_script: shopifyWebhookRouting
  connection_config:
    subdomain:
      type: string
      pattern: ^[a-z0-9-]+$
  proxy:
    base_url: ${apis.url}/shop/\${connectionConfig.subdomain}
    headers:
      x-shopify-access-token: \${apiKey}
intercom-local:
  display_name: Intercom (loopback)
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  webhook_routing_script: intercomWebhookRouting
shopify-app:
  display_name: Shopify app (loopback)
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  webhook_routing_script: shopifyWebhookRouting
calendly-local:
  display_name: Calendly (loopback)
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  token_response_metadata: [owner, organization]
  webhook_routing_script: calendlyWebhookRouting
  webhook_user_defined_secret: true
`)
            };
            if (backend === 'postgres') {
                const db = await createTestDatabase();
                dropDb = db.drop;
                env['SWITCHBOARD_DATABASE_URL'] = db.url;
                env['SWITCHBOARD_ENCRYPTION_KEY'] = testEncryptionKey();
            }
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            const oauth = (extra: Record<string, string> = {}) => ({
                type: 'OAUTH2' as const,
                client_id: as.clientId,
                client_secret: as.clientSecret,
                ...extra
            });
            await nango.createIntegration({ provider: 'jira', unique_key: 'jira', credentials: oauth({ webhook_secret: 'jira-secret' }) as never });
            await nango.createIntegration({ provider: 'zendesk-local', unique_key: 'zendesk' });
            await nango.createIntegration({ provider: 'shopify-local', unique_key: 'shopify' });
            for (const [provider, key, creds] of [
                ['hubspot', 'hubspot', oauth({ client_secret: 'hubspot-client-secret' })],
                ['linear', 'linear', oauth({ webhook_secret: 'linear-secret' })],
                ['zoom', 'zoom', oauth({ webhook_secret: 'zoom-secret' })],
                ['intercom-local', 'intercom', oauth({ client_secret: 'intercom-client-secret' })],
                ['shopify-app', 'shopify-app', oauth({ client_secret: 'shopify-client-secret' })],
                ['calendly-local', 'calendly', oauth({ webhook_secret: 'calendly-key' })]
            ] as const) {
                const res = await api(server, 'POST', '/integrations', { provider, unique_key: key, credentials: creds });
                assert.equal(res.status, 200, JSON.stringify(res.body));
            }
            // Stripe is an API-key provider: its endpoint secret lives where Nango keeps it, custom.webhookSecret.
            assert.equal(
                (await api(server, 'POST', '/integrations', { provider: 'stripe', unique_key: 'stripe', custom: { webhookSecret: 'whsec_stripe' } })).status,
                200
            );
            const conn = async (key: string, id: string, config: Record<string, unknown>, credentials: Json = { type: 'OAUTH2', access_token: 'x' }) => {
                const res = await api(server, 'POST', '/connections', { provider_config_key: key, connection_id: id, credentials, connection_config: config });
                assert.equal(res.status, 201, JSON.stringify(res.body));
            };
            await conn('linear', 'lin-1', { organizationId: 'org-1' });
            await conn('zoom', 'zoom-1', { accountId: 'acct-z' });
            await conn('intercom', 'ic-1', { appId: 'abc123' });
            await conn('shopify-app', 'shop-1', { subdomain: 'acme' });
            await conn('calendly', 'cal-1', { owner: 'https://api.calendly.com/users/U1' });
            await conn('stripe', 'st-1', { stripe_user_id: 'acct_1' }, { type: 'API_KEY', apiKey: 'sk_test_abc' });
            const info = await api(server, 'GET', '/integrations/linear?include=webhook');
            envUuid = /\/webhook\/([0-9a-f-]{36})\/linear$/.exec(info.body.data.webhook_url)![1]!;
        });
        after(async () => {
            await server?.stop();
            await Promise.all([as?.close(), atlassian?.close(), apis?.close(), r?.close()]);
            if (server) removeDir(server.dataDir);
            await dropDb?.();
        });

        async function connectJira(): Promise<Json> {
            const token = (await nango.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: ['jira'] })).data.token;
            const socket = await openSdkSocket(publicUrl);
            const jar = new CookieJar();
            const start = await hop(jar, `${publicUrl}/oauth/connect/jira?connect_session_token=${token}&ws_client_id=${socket.clientId}`);
            await start.arrayBuffer();
            const page = await hop(jar, (await loginAndConsent(start.headers.get('location') ?? '')).href);
            await page.arrayBuffer();
            const frame = await socket.frame();
            socket.close();
            return frame;
        }

        it('Jira through the Connect UI flow: the cloud id is looked up after the grant, and a proxied call reaches the site', async () => {
            sites = [
                { id: 'cloud-other', url: 'https://other.atlassian.net', name: 'other', scopes: ['read:jira-work'] },
                { id: 'cloud-123', url: 'https://acme.atlassian.net', name: 'acme', scopes: ['read:jira-work'] }
            ];
            sites.reverse();
            const frame = await connectJira();
            assert.equal(frame['message_type'], 'success', JSON.stringify(frame));
            const connection = await nango.getConnection('jira', String(frame['connection_id']));
            assert.equal(connection.connection_config['cloudId'], 'cloud-123');
            assert.equal(connection.connection_config['baseUrl'], 'https://acme.atlassian.net');
            const me = await nango.get<{ accountId: string }>({
                endpoint: '/rest/api/3/myself',
                providerConfigKey: 'jira',
                connectionId: String(frame['connection_id'])
            });
            assert.equal(me.data.accountId, 'acc-1');
            assert.ok(atlassian.requests.some((q) => q.url === '/ex/jira/cloud-123/rest/api/3/myself'));
        });

        it('Jira: an account that reaches no site is refused and nothing is stored', async () => {
            sites = [];
            const before = (await nango.listConnections({ integrationId: 'jira' } as never)).connections.length;
            const frame = await connectJira();
            assert.equal(frame['message_type'], 'error');
            assert.match(String(frame['error_desc'] ?? frame['error_type'] ?? ''), /no site|connection_test_failed/i, JSON.stringify(frame));
            assert.equal((await nango.listConnections({ integrationId: 'jira' } as never)).connections.length, before);
        });

        it('Jira import: POST /connections runs the step too; the app’s own value wins; a failed step does not refuse an import', async () => {
            sites = [{ id: 'cloud-123', url: 'https://acme.atlassian.net', name: 'acme', scopes: [] }];
            const grant = await as.mintGrant({ scope: 'openid offline_access' });
            const res = await api(server, 'POST', '/connections', {
                provider_config_key: 'jira',
                connection_id: 'imported',
                credentials: { type: 'OAUTH2', access_token: grant.accessToken, refresh_token: grant.refreshToken }
            });
            assert.equal(res.status, 201, JSON.stringify(res.body));
            assert.equal(res.body.connection_config.cloudId, 'cloud-123');
            const own = await api(server, 'POST', '/connections', {
                provider_config_key: 'jira',
                connection_id: 'own',
                credentials: { type: 'OAUTH2', access_token: grant.accessToken },
                connection_config: { cloudId: 'cloud-mine' }
            });
            assert.equal(own.body.connection_config.cloudId, 'cloud-mine');
            // An import whose step fails is stored as given (the browser flow, above, refuses instead).
            const dead = await api(server, 'POST', '/connections', {
                provider_config_key: 'jira',
                connection_id: 'dead',
                credentials: { type: 'OAUTH2', access_token: 'not-a-token' }
            });
            assert.equal(dead.status, 201);
            assert.equal(dead.body.connection_config.cloudId, undefined);
            assert.match(server.output(), /post-connection step failed for an import/);
            assert.doesNotMatch(server.output(), /not-a-token/, 'the token is not logged');
        });

        it('credential checks: Zendesk refuses an unknown subdomain and credentials it answers anonymously; Shopify another store', async () => {
            const token = async (key: string) => (await nango.createConnectSession({ end_user: { id: 'u2' }, allowed_integrations: [key] })).data.token;
            const basic = async (subdomain: string, username: string, password: string) =>
                fetch(`${publicUrl}/api-auth/basic/zendesk?connect_session_token=${await token('zendesk')}&params[subdomain]=${subdomain}`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ username, password })
                });
            const wrongSub = await basic('nope', 'agent@acme.example/token', 'zd-token');
            assert.equal(wrongSub.status, 400);
            assert.match(((await wrongSub.json()) as Json).error.message, /no Zendesk account at "nope"/);
            const anonymous = await basic('acme', 'agent@acme.example/token', 'wrong');
            assert.match(((await anonymous.json()) as Json).error.message, /did not accept/);
            const good = await basic('acme', 'agent@acme.example/token', 'zd-token');
            assert.equal(good.status, 200, await good.text());
            const key = async (subdomain: string) =>
                fetch(`${publicUrl}/api-auth/api-key/shopify?connect_session_token=${await token('shopify')}&params[subdomain]=${subdomain}`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ apiKey: 'shpat_1' })
                });
            const other = await key('other');
            assert.equal(other.status, 400);
            assert.match(((await other.json()) as Json).error.message, /belong to the store "someone-else.myshopify.com"/);
            assert.equal((await key('acme')).status, 200);
            const stored = (await nango.listConnections({ integrationId: 'zendesk,shopify' } as never)).connections;
            assert.equal(stored.length, 2, 'only the accepted ones were stored');
        });

        const post = (key: string, body: string, headers: Record<string, string>) =>
            fetch(`${server.url}/webhook/${envUuid}/${key}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        const forwardsFor = (key: string, marker: string) =>
            waitFor(`forwards of ${key}`, () => {
                const hits = received(r, (b) => b.type === 'forward' && b.providerConfigKey === key && JSON.stringify(b.payload).includes(marker));
                return hits.length ? hits.map((h) => JSON.parse(h.body) as Json) : undefined;
            });

        it('HubSpot: v3 signature over method, URL, body and time with the client secret; a batch reaches each portal', async () => {
            await api(server, 'POST', '/connections', {
                provider_config_key: 'hubspot',
                connection_id: 'hs-1',
                credentials: { type: 'OAUTH2', access_token: 'x' },
                connection_config: { portalId: '111' }
            });
            await api(server, 'POST', '/connections', {
                provider_config_key: 'hubspot',
                connection_id: 'hs-2',
                credentials: { type: 'OAUTH2', access_token: 'x' },
                connection_config: { portalId: '222' }
            });
            const body = JSON.stringify([
                { eventId: 1, portalId: 111, subscriptionType: 'contact.creation', objectId: 5, marker: 'hs-batch' },
                { eventId: 2, portalId: 222, subscriptionType: 'contact.creation', objectId: 6, marker: 'hs-batch' }
            ]);
            const url = `${publicUrl}/webhook/${envUuid}/hubspot`;
            const res = await post('hubspot', body, sign.hubspotV3('hubspot-client-secret', 'POST', url, body, Date.now()));
            assert.equal(res.status, 200, await res.text());
            const hits = await waitFor('both portals', async () => {
                const h = await forwardsFor('hubspot', 'hs-batch');
                return h.length >= 2 ? h : undefined;
            });
            assert.deepEqual(hits.map((h) => h.connectionId).sort(), ['hs-1', 'hs-2']);
            // v1, and refusals: another secret, a stale v3 timestamp.
            const v1 = JSON.stringify([{ portalId: 111, subscriptionType: 'deal.creation', marker: 'hs-v1' }]);
            assert.equal((await post('hubspot', v1, sign.hubspotV1('hubspot-client-secret', v1))).status, 200);
            assert.equal((await post('hubspot', body, sign.hubspotV3('other', 'POST', url, body, Date.now()))).status, 401);
            assert.equal((await post('hubspot', body, sign.hubspotV3('hubspot-client-secret', 'POST', url, body, Date.now() - 10 * 60_000))).status, 401);
        });

        it('Stripe: Stripe-Signature with the endpoint secret from custom.webhookSecret; Connect events go to their account', async () => {
            const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', account: 'acct_1', data: { object: { marker: 'stripe-1' } } });
            assert.equal((await post('stripe', body, sign.stripe('whsec_stripe', body))).status, 200);
            const [hit] = await forwardsFor('stripe', 'stripe-1');
            assert.equal(hit.connectionId, 'st-1');
            assert.equal((await post('stripe', body, sign.stripe('whsec_other', body))).status, 401);
            assert.equal((await post('stripe', body, sign.stripe('whsec_stripe', body, Math.floor(Date.now() / 1000) - 600))).status, 401);
        });

        it('Linear: Linear-Signature and a fresh webhookTimestamp; routed by organizationId', async () => {
            const body = JSON.stringify({ action: 'create', type: 'Issue', organizationId: 'org-1', webhookTimestamp: Date.now(), data: { marker: 'lin-1' } });
            assert.equal((await post('linear', body, sign.linear('linear-secret', body))).status, 200);
            const [hit] = await forwardsFor('linear', 'lin-1');
            assert.equal(hit.connectionId, 'lin-1');
            const stale = JSON.stringify({ type: 'Issue', organizationId: 'org-1', webhookTimestamp: Date.now() - 5 * 60_000 });
            assert.equal((await post('linear', stale, sign.linear('linear-secret', stale))).status, 401);
        });

        it('Jira: X-Hub-Signature; routed by the site of the event’s self link to the connection the post-connection step filled in', async () => {
            const jiraConns = (await nango.listConnections({ integrationId: 'jira' } as never)).connections.map((c) => c.connection_id);
            const body = JSON.stringify({
                webhookEvent: 'jira:issue_created',
                issue: { self: 'https://acme.atlassian.net/rest/api/2/issue/10001', key: 'JIRA-1', fields: { summary: 'jira-hook' } }
            });
            assert.equal((await post('jira', body, sign.jira('jira-secret', body))).status, 200);
            const hits = await forwardsFor('jira', 'jira-hook');
            for (const h of hits) assert.ok(jiraConns.includes(h.connectionId));
            assert.ok(hits.length >= 1);
            assert.equal((await post('jira', body, sign.jira('nope', body))).status, 401);
        });

        it('Zoom: answers the endpoint.url_validation handshake; signed events routed by payload.account_id', async () => {
            const challenge = JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'plain-1' } });
            const res = await post('zoom', challenge, sign.zoom('zoom-secret', challenge));
            assert.equal(res.status, 200);
            assert.deepEqual(await res.json(), { plainToken: 'plain-1', encryptedToken: createHmac('sha256', 'zoom-secret').update('plain-1').digest('hex') });
            const body = JSON.stringify({ event: 'meeting.started', payload: { account_id: 'acct-z', object: { topic: 'zoom-1' } } });
            assert.equal((await post('zoom', body, sign.zoom('zoom-secret', body))).status, 200);
            const [hit] = await forwardsFor('zoom', 'zoom-1');
            assert.equal(hit.connectionId, 'zoom-1');
            assert.equal((await post('zoom', body, sign.zoom('zoom-secret', body, Math.floor(Date.now() / 1000) - 600))).status, 401);
        });

        it('Intercom (client secret, sha1), Shopify (client secret, shop domain header) and Calendly (signing key, created_by)', async () => {
            const ic = JSON.stringify({ type: 'notification_event', app_id: 'abc123', topic: 'conversation.user.created', data: { item: { marker: 'ic-1' } } });
            assert.equal((await post('intercom', ic, sign.intercom('intercom-client-secret', ic))).status, 200);
            assert.equal((await forwardsFor('intercom', 'ic-1'))[0].connectionId, 'ic-1');
            assert.equal((await post('intercom', ic, sign.intercom('wrong', ic))).status, 401);

            const shop = JSON.stringify({ id: 1, marker: 'shop-1' });
            assert.equal((await post('shopify-app', shop, sign.shopify('shopify-client-secret', shop, 'acme'))).status, 200);
            assert.equal((await forwardsFor('shopify-app', 'shop-1'))[0].connectionId, 'shop-1');
            assert.equal((await post('shopify-app', shop, sign.shopify('wrong', shop, 'acme'))).status, 401);

            const cal = JSON.stringify({ event: 'invitee.created', created_by: 'https://api.calendly.com/users/U1', payload: { marker: 'cal-1' } });
            assert.equal((await post('calendly', cal, sign.calendly('calendly-key', cal))).status, 200);
            assert.equal((await forwardsFor('calendly', 'cal-1'))[0].connectionId, 'cal-1');
            assert.equal((await post('calendly', cal, sign.calendly('calendly-key', cal, Math.floor(Date.now() / 1000) - 600))).status, 401);
        });
    });
}
