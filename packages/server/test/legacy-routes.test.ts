// Issue #12 item 1: the legacy and missing routes real Nango apps call, with the official SDKs as clients:
// @nangohq/node 0.66 (the last release on the singular /connection routes) and 0.71.10, on PGlite and PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { Nango as Nango066 } from 'nango-node-066';
import { sdkFailure } from './support/sdk.ts';
import { createTestDatabase, removeDir, startServer, testEncryptionKey, writeProvidersFile, type TestServer } from './support/server.ts';
import { api, startReceiver, waitFor, type Json, type Receiver } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';
import { rsaKeyPair } from './support/github-app.ts';

const PROVIDERS = `
acme-key:
  display_name: Acme (API key)
  auth_mode: API_KEY
  proxy:
    base_url: https://api.acme.example
acme-oauth2:
  display_name: Acme (OAuth2)
  auth_mode: OAUTH2
  authorization_url: https://acme.example/authorize
  token_url: https://acme.example/token
  proxy:
    base_url: https://api.acme.example
`;

for (const backend of ['pglite', 'postgres'] as const) {
    describe(`legacy and missing routes (${backend})`, () => {
        let server: TestServer;
        let drop: (() => Promise<void>) | undefined;
        let receiver: Receiver;
        let nango: Nango;
        let old: Nango066;
        const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => api(server, method, path, body, headers);
        const connectionIds = async () =>
            ((await nango.listConnections()).connections as Json[]).map((c) => `${c.provider_config_key}/${c.connection_id}`).sort();

        before(async () => {
            receiver = await startReceiver();
            const env: Record<string, string> = { SWITCHBOARD_PROVIDERS: writeProvidersFile(PROVIDERS) };
            if (backend === 'postgres') {
                const database = await createTestDatabase();
                drop = database.drop;
                Object.assign(env, { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() });
            }
            server = await startServer(env);
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            old = new Nango066({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({ provider: 'acme-key', unique_key: 'keys' });
            await nango.createIntegration({
                provider: 'acme-oauth2',
                unique_key: 'oa',
                credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'cs' }
            });
            await nango.createIntegration({ provider: 'hacker-news', unique_key: 'hn' });
        });

        after(async () => {
            await server?.stop();
            await receiver?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('imports with the flat body of POST /connection and answers the body with the connection id', async () => {
            const key = await call('POST', '/connection', { provider_config_key: 'keys', connection_id: 'c1', api_key: 'k1', metadata: { a: 1 } });
            assert.equal(key.status, 201);
            assert.deepEqual(key.body, { provider_config_key: 'keys', connection_id: 'c1', api_key: 'k1', metadata: { a: 1 } });
            const oauth = await call('POST', '/connection', {
                provider_config_key: 'oa',
                connection_id: 'c2',
                access_token: 'at',
                refresh_token: 'rt',
                expires_in: 3600
            });
            assert.equal(oauth.status, 201);
            const generated = await call('POST', '/connection', { provider_config_key: 'hn' });
            assert.equal(generated.status, 201);
            assert.match(generated.body.connection_id, /^[0-9a-f-]{36}$/);
            const stored = await nango.getConnection('oa', 'c2', false, true);
            assert.equal(stored.credentials.type, 'OAUTH2');
            assert.equal((stored.credentials as Json).refresh_token, 'rt');
            assert.ok(Date.parse((stored.credentials as Json).expires_at) > Date.now());
            await nango.deleteConnection('hn', generated.body.connection_id);
        });

        it('serves @nangohq/node 0.66 on the singular routes: list, get, getToken, metadata, delete', async () => {
            const list = await old.listConnections();
            assert.deepEqual(list.connections.map((c) => c.connection_id).sort(), ['c1', 'c2']);
            assert.ok(list.connections.every((c) => typeof c.created === 'string'));
            const got = await old.getConnection('oa', 'c2');
            assert.equal((got.credentials as Json).access_token, 'at');
            assert.equal((got.credentials as Json).refresh_token, undefined, 'the refresh token only when asked for');
            assert.equal(((await old.getConnection('oa', 'c2', false, true)).credentials as Json).refresh_token, 'rt');
            assert.equal(await old.getToken('oa', 'c2'), 'at');
            assert.deepEqual(await old.getToken('keys', 'c1'), { type: 'API_KEY', apiKey: 'k1' });

            const set = await old.setMetadata('keys', 'c1', { b: 2 });
            assert.equal(set.status, 201);
            assert.deepEqual(set.data, { metadata: { b: 2 }, connection_id: 'c1', provider_config_key: 'keys' });
            assert.deepEqual(await old.getMetadata('keys', 'c1'), { b: 2 });
            const upd = await old.updateMetadata('keys', ['c1'], { c: 3 });
            assert.equal(upd.status, 200);
            assert.deepEqual(await old.getMetadata('keys', 'c1'), { b: 2, c: 3 });

            // The per-connection routes older Python clients call: the body is the metadata, the key in the query or a header.
            const perId = await call('POST', '/connection/c1/metadata?provider_config_key=keys', { x: 1 });
            assert.equal(perId.status, 201);
            assert.deepEqual(perId.body, { x: 1 });
            const merged = await call('PATCH', '/connection/c1/metadata', { y: 2 }, { 'provider-config-key': 'keys' });
            assert.equal(merged.status, 200);
            assert.deepEqual(await nango.getMetadata('keys', 'c1'), { x: 1, y: 2 });

            const del = await old.deleteConnection('keys', 'c1');
            assert.equal(del.status, 200);
            assert.deepEqual(await connectionIds(), ['oa/c2']);
            await call('POST', '/connection', { provider_config_key: 'keys', connection_id: 'c1', api_key: 'k1' });
        });

        it('refuses bad input on the /connection routes with Nango codes, changing nothing', async () => {
            const before = await connectionIds();
            const refusals: Array<[unknown, number, string]> = [
                [{ connection_id: 'x' }, 400, 'missing_provider_config'],
                [{ provider_config_key: 'nope', connection_id: 'x' }, 404, 'unknown_provider_config'],
                [{ provider_config_key: 'oa', connection_id: 'x', expires_in: 60 }, 400, 'missing_access_token'],
                [{ provider_config_key: 'oa', connection_id: 'x', access_token: 'at' }, 400, 'missing_expires_at'],
                [{ provider_config_key: 'oa', connection_id: 'x', access_token: 'at', expires_at: 'someday' }, 400, 'invalid_expires_at'],
                [{ provider_config_key: 'keys', connection_id: 'x' }, 400, 'missing_api_key'],
                [{ provider_config_key: 'keys', connection_id: 'bad id <>', api_key: 'k' }, 400, 'invalid_body']
            ];
            for (const [body, status, code] of refusals) {
                const res = await call('POST', '/connection', body);
                assert.equal(res.status, status, JSON.stringify(body));
                assert.equal(res.body.error.code, code, JSON.stringify(body));
            }
            const missing = await sdkFailure(old.getConnection('oa', 'nope'));
            assert.deepEqual([missing.status, missing.data.error.code], [404, 'not_found']);
            const noKey = await sdkFailure(old.getConnection('nope', 'c2'));
            assert.deepEqual([noKey.status, noKey.data.error.code], [400, 'unknown_provider_config']);
            const gone = await sdkFailure(old.deleteConnection('oa', 'nope'));
            assert.deepEqual([gone.status, gone.data.error.code], [400, 'unknown_connection']);

            await old.setMetadata('oa', 'c2', { keep: true });
            const partly = await sdkFailure(old.setMetadata('oa', ['c2', 'nope'], { lost: true }));
            assert.equal(partly.data.error.code, 'unknown_connection');
            assert.deepEqual((await call('POST', '/connection/c2/metadata', { lost: true })).body.error.code, 'missing_provider_config');
            assert.deepEqual((await call('POST', '/connection/nope/metadata?provider_config_key=oa', { lost: true })).body.error.code, 'unknown_connection');
            const notObject = await call('PATCH', '/connection/c2/metadata?provider_config_key=oa', ['lost']);
            assert.deepEqual([notObject.status, notObject.body.error.code], [400, 'invalid_body']);
            assert.deepEqual(await old.getMetadata('oa', 'c2'), { keep: true });

            const stranger = new Nango066({ host: server.url, secretKey: 'not-a-key' });
            assert.equal((await sdkFailure(stranger.listConnections())).status, 401);
            assert.equal((await sdkFailure(stranger.deleteConnection('oa', 'c2'))).status, 401);
            assert.deepEqual(await connectionIds(), before);
        });

        it('manages integrations through /config with the legacy field names', async () => {
            const created = await call('POST', '/config', {
                provider_config_key: 'gh-legacy',
                provider: 'github',
                oauth_client_id: 'cid',
                oauth_client_secret: 'sec',
                oauth_scopes: 'repo user'
            });
            assert.equal(created.status, 200);
            assert.deepEqual(created.body, { config: { unique_key: 'gh-legacy', provider: 'github' } });
            const creds = (await nango.getIntegration({ uniqueKey: 'gh-legacy' }, { include: ['credentials'] })).data.credentials as Json;
            assert.deepEqual([creds.client_id, creds.client_secret, creds.scopes], ['cid', 'sec', 'repo,user']);
            const none = await call('POST', '/config', { provider_config_key: 'hn-legacy', provider: 'hacker-news' });
            assert.equal(none.status, 200);
            // A GitHub App in the legacy fields: the app id as the client id, the private key as the client secret.
            const { privateKey } = rsaKeyPair();
            const app = { provider_config_key: 'app-legacy', provider: 'github-app', oauth_client_id: '4242', app_link: 'https://github.com/apps/acme' };
            assert.equal((await call('POST', '/config', app)).body.error.code, 'missing_app_secret');
            assert.equal((await call('POST', '/config', { ...app, oauth_client_secret: privateKey })).status, 200);
            const appCreds = (await nango.getIntegration({ uniqueKey: 'app-legacy' }, { include: ['credentials'] })).data.credentials as Json;
            assert.deepEqual(appCreds, { type: 'APP', app_id: '4242', app_link: 'https://github.com/apps/acme', private_key: privateKey });
            await nango.deleteIntegration('app-legacy');
            const listed = await call('GET', '/config');
            assert.deepEqual(
                (listed.body.configs as Json[]).filter((c) => c.unique_key.endsWith('-legacy')),
                [
                    { unique_key: 'gh-legacy', provider: 'github' },
                    { unique_key: 'hn-legacy', provider: 'hacker-news' }
                ]
            );

            const edited = await call('PUT', '/config', {
                provider_config_key: 'gh-legacy',
                provider: 'github',
                oauth_client_id: 'cid2',
                oauth_client_secret: 'sec2',
                oauth_scopes: 'repo'
            });
            assert.deepEqual([edited.status, edited.body], [200, { config: { unique_key: 'gh-legacy', provider: 'github' } }]);
            const after = (await nango.getIntegration({ uniqueKey: 'gh-legacy' }, { include: ['credentials'] })).data.credentials as Json;
            assert.deepEqual([after.client_id, after.client_secret, after.scopes], ['cid2', 'sec2', 'repo']);

            const deleted = await fetch(`${server.url}/config/hn-legacy`, { method: 'DELETE', headers: { authorization: `Bearer ${server.secretKey}` } });
            assert.equal(deleted.status, 204);
            assert.equal((await sdkFailure(nango.getIntegration({ uniqueKey: 'hn-legacy' }))).status, 404);
        });

        it('refuses bad /config input with Nango codes, changing nothing', async () => {
            const keys = async () => ((await call('GET', '/config')).body.configs as Json[]).map((c) => c.unique_key).sort();
            const before = await keys();
            const ok = { provider_config_key: 'gh-new', provider: 'github', oauth_client_id: 'a', oauth_client_secret: 'b' };
            const refusals: Array<[string, Record<string, unknown>, number, string]> = [
                ['POST', { ...ok, provider_config_key: undefined }, 400, 'missing_provider_config'],
                ['POST', { ...ok, provider: undefined }, 400, 'missing_provider_template'],
                ['POST', { ...ok, provider: 'no-such-provider' }, 400, 'unknown_provider_template'],
                ['POST', { ...ok, oauth_client_id: undefined }, 400, 'missing_client_id'],
                ['POST', { ...ok, oauth_client_secret: undefined }, 400, 'missing_client_secret'],
                ['POST', { ...ok, oauth_scopes: ['repo'] }, 400, 'invalid_oauth_scopes'],
                ['POST', { ...ok, provider_config_key: 'bad/key' }, 400, 'invalid_body'],
                ['POST', { ...ok, provider_config_key: 'gh-legacy' }, 409, 'duplicate_provider_config'],
                ['PUT', { ...ok, provider_config_key: 'nope' }, 404, 'unknown_provider_config'],
                ['PUT', { ...ok, provider_config_key: 'gh-legacy', provider: 'acme-oauth2' }, 400, 'invalid_body'],
                ['PUT', { provider_config_key: 'keys', provider: 'acme-key' }, 400, 'provider_config_edit_not_allowed']
            ];
            for (const [method, body, status, code] of refusals) {
                const res = await call(method, '/config', body);
                assert.deepEqual([res.status, res.body.error.code], [status, code], `${method} ${JSON.stringify(body)}`);
            }
            const missing = await call('DELETE', '/config/nope');
            assert.deepEqual([missing.status, missing.body.error.code], [404, 'unknown_provider_config']);
            assert.deepEqual(await keys(), before);
            const creds = (await nango.getIntegration({ uniqueKey: 'gh-legacy' }, { include: ['credentials'] })).data.credentials as Json;
            assert.deepEqual([creds.client_id, creds.client_secret], ['cid2', 'sec2'], 'a refused PUT or duplicate POST leaves the credentials alone');
        });

        it('connects a no-auth provider through POST /auth/unauthenticated (Connect UI, frontend create) and POST /connections', async () => {
            const session = await nango.createConnectSession({ end_user: { id: 'u-none' }, allowed_integrations: ['hn', 'keys'] });
            const token = session.data.token;
            // Exactly what the Connect UI and @nangohq/frontend create() send: a JSON POST without a body.
            const unauth = (key: string, init: RequestInit = {}) =>
                fetch(`${server.url}/auth/unauthenticated/${key}?connect_session_token=${token}`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    ...init
                });
            const res = await unauth('hn');
            assert.equal(res.status, 200);
            const body = (await res.json()) as Json;
            assert.equal(body.providerConfigKey, 'hn');
            const conn = await nango.getConnection('hn', body.connectionId);
            assert.deepEqual(conn.credentials, { type: 'NONE' });
            assert.equal(conn.end_user?.id, 'u-none');

            const imported = await call('POST', '/connections', { provider_config_key: 'hn', connection_id: 'hn-import', credentials: { type: 'NONE' } });
            assert.equal(imported.status, 201);
            assert.deepEqual(imported.body.credentials, { type: 'NONE' });

            const before = await connectionIds();
            const wrongMode = await unauth('keys');
            assert.deepEqual([wrongMode.status, ((await wrongMode.json()) as Json).error.code], [400, 'invalid_auth_mode']);
            const withBody = await unauth('hn', { body: JSON.stringify({ apiKey: 'x' }) });
            assert.deepEqual([withBody.status, ((await withBody.json()) as Json).error.code], [400, 'invalid_body']);
            const noToken = await fetch(`${server.url}/auth/unauthenticated/hn`, { method: 'POST' });
            assert.deepEqual([noToken.status, ((await noToken.json()) as Json).error.code], [401, 'missing_connect_session_token']);
            const noneOnKey = await call('POST', '/connections', { provider_config_key: 'keys', connection_id: 'x', credentials: { type: 'NONE' } });
            assert.deepEqual([noneOnKey.status, noneOnKey.body.error.code], [400, 'invalid_auth_mode']);
            // An unknown integration is 404 on the import, unlike the 400 of GET/PATCH/DELETE /connections/:id.
            const unknownKey = await call('POST', '/connections', { provider_config_key: 'nope', connection_id: 'x', credentials: { type: 'NONE' } });
            assert.deepEqual([unknownKey.status, unknownKey.body.error.code], [404, 'unknown_provider_config']);
            assert.deepEqual(await connectionIds(), before);
        });

        it('lists, reads, shows the code of and deletes deployed functions with the 0.71.10 SDK', async () => {
            const deployed = await deploy(server, [
                { type: 'sync', name: 'items', file: 'items-sync.cjs', providerConfigKey: 'keys', models: ['Item'] },
                { type: 'action', name: 'create-item', file: 'create-item.cjs', providerConfigKey: 'keys' },
                { type: 'action', name: 'items', file: 'create-item.cjs', providerConfigKey: 'keys' }
            ]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));

            const all = await nango.listFunctions({ uniqueKey: 'keys' });
            assert.equal(all.pagination.total, 3);
            assert.deepEqual(all.data.map((f) => `${f.type}:${f.name}`).sort(), ['action:create-item', 'action:items', 'sync:items']);
            const sync = all.data.find((f) => f.type === 'sync') as Json;
            assert.deepEqual([sync.returns, sync.runs, sync.source, sync.enabled], [['Item'], 'every hour', 'repo', true]);
            const page = await nango.listFunctions({ uniqueKey: 'keys' }, { type: 'action', search: 'CREATE', limit: 1, page: 0 });
            assert.deepEqual([page.data.map((f) => f.name), page.pagination], [['create-item'], { total: 1, page: 0, limit: 1 }]);

            assert.equal((await nango.getFunction({ uniqueKey: 'keys', name: 'create-item' })).data.type, 'action');
            assert.deepEqual(await nango.getFunctionCode({ uniqueKey: 'keys', name: 'items' }, { type: 'sync' }), { type: 'sync', code: '// source' });
            const ambiguous = await sdkFailure(nango.getFunctionCode({ uniqueKey: 'keys', name: 'items' }));
            assert.deepEqual([ambiguous.status, ambiguous.data.error.code], [409, 'ambiguous_function']);

            const templates = await nango.getProviderTemplates({ provider: 'acme-key' });
            assert.deepEqual(templates.data.map((f) => `${f.type}:${f.name}`).sort(), ['action:create-item', 'action:items', 'sync:items']);
            assert.deepEqual((await nango.getProviderTemplates({ provider: 'no-such-provider' })).data, []);

            // Bad input: nothing is deleted.
            assert.equal((await sdkFailure(nango.listFunctions({ uniqueKey: 'nope' }))).status, 404);
            assert.equal((await sdkFailure(nango.getFunction({ uniqueKey: 'keys', name: 'nope' }))).data.error.code, 'not_found');
            const noType = await call('DELETE', '/integrations/keys/functions/create-item');
            assert.deepEqual([noType.status, noType.body.error.code], [400, 'invalid_query_params']);
            const badLimit = await call('GET', '/integrations/keys/functions?limit=1000');
            assert.deepEqual([badLimit.status, badLimit.body.error.code], [400, 'invalid_query_params']);
            assert.equal((await sdkFailure(nango.deleteFunction({ uniqueKey: 'keys', name: 'nope' }, { type: 'action' }))).status, 404);
            assert.equal((await nango.listFunctions({ uniqueKey: 'keys' })).pagination.total, 3);

            assert.deepEqual(await nango.deleteFunction({ uniqueKey: 'keys', name: 'create-item' }, { type: 'action' }), { data: { success: true } });
            assert.deepEqual((await nango.listFunctions({ uniqueKey: 'keys' })).data.map((f) => `${f.type}:${f.name}`).sort(), ['action:items', 'sync:items']);
            const config = (await nango.getScriptsConfig()) as Json[];
            assert.deepEqual(
                config.flatMap((c) => c.actions.map((a: Json) => a.name)),
                ['items']
            );
        });

        it('rotates the webhook signing key: the new key signs the next webhook, the old one no longer does', async () => {
            assert.equal((await call('PATCH', '/admin/webhooks/settings', { url: receiver.url })).status, 200);
            const oldKey = (await call('GET', '/admin/webhooks/settings')).body.data.secret as string;

            const badBody = await call('POST', '/environment/webhook-signing-key/rotate', { rotate: true });
            assert.deepEqual([badBody.status, badBody.body.error.code], [400, 'invalid_body']);
            const badQuery = await call('POST', '/environment/webhook-signing-key/rotate?x=1');
            assert.deepEqual([badQuery.status, badQuery.body.error.code], [400, 'invalid_query_params']);
            assert.equal((await call('GET', '/admin/webhooks/settings')).body.data.secret, oldKey, 'a refused rotation changes nothing');
            const stranger = await api(server, 'POST', '/environment/webhook-signing-key/rotate', undefined, { authorization: 'Bearer not-a-key' });
            assert.equal(stranger.status, 401);
            assert.equal((await call('GET', '/admin/webhooks/settings')).body.data.secret, oldKey);

            const rotated = await call('POST', '/environment/webhook-signing-key/rotate');
            assert.equal(rotated.status, 200);
            const newKey = rotated.body.data.webhook_signing_key as string;
            assert.ok(newKey && newKey !== oldKey);
            assert.equal((await call('GET', '/admin/webhooks/settings')).body.data.secret, newKey);

            await call('POST', '/connection', { provider_config_key: 'keys', connection_id: 'signed', api_key: 'k' });
            const hook = await waitFor('the auth webhook', () =>
                receiver.requests.find((r) => r.body.includes('"connectionId":"signed"') && r.body.includes('"operation":"creation"'))
            );
            const sign = (key: string) => createHmac('sha256', key).update(hook.body).digest('hex');
            assert.equal(hook.headers['x-nango-hmac-sha256'], sign(newKey));
            assert.notEqual(hook.headers['x-nango-hmac-sha256'], sign(oldKey));
        });
    });
}
