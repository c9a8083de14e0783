// Credential renewal on the proxy path: client-credentials tokens and a 401 that forces a refresh.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Nango } from '@nangohq/node';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';

describe('proxy credential renewal', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let server: TestServer;
    let nango: Nango;
    const tokenRequests: URLSearchParams[] = [];
    let issued = 0;

    before(async () => {
        upstream = await startUpstream((req: RecordedRequest, res) => {
            if (req.url === '/token') {
                const form = new URLSearchParams(req.body);
                tokenRequests.push(form);
                if (form.get('grant_type') === 'client_credentials') {
                    if (form.get('client_id') !== 'cc-id' || form.get('client_secret') !== 'cc-secret') return json(res, 401, { error: 'invalid_client' });
                    return json(res, 200, { access_token: `cc-token-${++issued}`, expires_in: 3600 });
                }
                if (form.get('refresh_token') !== 'rt') return json(res, 400, { error: 'invalid_grant' });
                return json(res, 200, { access_token: 'at-new', expires_in: 3600 });
            }
            const auth = req.headers.authorization ?? '';
            if (auth === 'Bearer at-old') return json(res, 401, { error: 'token revoked' });
            json(res, 200, { auth });
        });
        server = await startServer({
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
cc-api:
  display_name: CC API
  auth_mode: OAUTH2_CC
  token_url: ${upstream.url}/token
  proxy:
    base_url: ${upstream.url}
code-api:
  display_name: Code API
  auth_mode: OAUTH2
  authorization_url: ${upstream.url}/authorize
  token_url: ${upstream.url}/token
  proxy:
    base_url: ${upstream.url}
`)
        });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        await nango.createIntegration({ provider: 'cc-api', unique_key: 'cc' });
        await nango.createIntegration({ provider: 'code-api', unique_key: 'code', credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' } });
    });
    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    const importConn = (body: unknown) =>
        fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(body)
        });

    it('obtains a client-credentials token on first use and reuses it', async () => {
        assert.equal(
            (
                await importConn({
                    provider_config_key: 'cc',
                    connection_id: 'm2m',
                    credentials: { type: 'OAUTH2_CC', client_id: 'cc-id', client_secret: 'cc-secret' }
                })
            ).status,
            201
        );
        const first = await nango.get<{ auth: string }>({ endpoint: '/v1/things', providerConfigKey: 'cc', connectionId: 'm2m' });
        assert.equal(first.data.auth, 'Bearer cc-token-1');
        const second = await nango.get<{ auth: string }>({ endpoint: '/v1/things', providerConfigKey: 'cc', connectionId: 'm2m' });
        assert.equal(second.data.auth, 'Bearer cc-token-1');
        assert.equal(tokenRequests.filter((f) => f.get('grant_type') === 'client_credentials').length, 1);
    });

    it('a wrong client-credentials secret is a clear error', async () => {
        await importConn({
            provider_config_key: 'cc',
            connection_id: 'm2m-bad',
            credentials: { type: 'OAUTH2_CC', client_id: 'cc-id', client_secret: 'wrong' }
        });
        const res = await fetch(`${server.url}/proxy/v1/things`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'cc', 'connection-id': 'm2m-bad' }
        });
        assert.equal(res.status, 400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'refresh_token_external_error');
        assert.match(body.error.message, /invalid_client/);
    });

    it('a 401 from the provider forces one refresh and one retry, with or without Retries (issue #12 item 6)', async () => {
        await importConn({
            provider_config_key: 'code',
            connection_id: 'u1',
            credentials: { type: 'OAUTH2', access_token: 'at-old', refresh_token: 'rt', expires_at: new Date(Date.now() + 3_600_000).toISOString() }
        });
        const without = await fetch(`${server.url}/proxy/me`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': 'code', 'connection-id': 'u1' }
        });
        assert.equal(without.status, 200, 'no Retries header: still one refresh and one retry');
        assert.equal(((await without.json()) as { auth: string }).auth, 'Bearer at-new');
        const res = await nango.get<{ auth: string }>({ endpoint: '/me', providerConfigKey: 'code', connectionId: 'u1', retries: 1 });
        assert.equal(res.data.auth, 'Bearer at-new');
        assert.equal(await nango.getToken('code', 'u1'), 'at-new');
    });
});
