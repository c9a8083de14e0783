// Issue #10 item 10: one token client. Every grant (authorization code, refresh, client credentials) is built
// by oauth/token-client.ts and sent through one call; these pin what each grant sends and how answers are read,
// against a real loopback token endpoint. TWO_STEP's token requests go through the same sender and reader. The
// full flows are covered by oauth-flow, refresh, credential-flow and auth-modes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Egress } from '../src/egress/egress.ts';
import { providerSchema, type ProviderDefinition } from '../src/providers/schema.ts';
import { clientCredentialsFor, tokenFailure, tokenGrant, TokenError, type Grant } from '../src/oauth/token-client.ts';
import { twoStepToken } from '../src/auth-modes/two-step.ts';
import { startUpstream, type RecordedRequest } from './support/upstream.ts';

describe('token client', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let answer: (req: RecordedRequest) => { status: number; body: string; type: string; headers?: Record<string, string> };
    const egress = new Egress({ allowPrivate: true });

    before(async () => {
        upstream = await startUpstream((req, res) => {
            const a = answer(req);
            res.writeHead(a.status, { 'content-type': a.type, ...a.headers });
            res.end(a.body);
        });
    });
    after(async () => upstream.close());

    const def = (extra: Record<string, unknown> = {}): ProviderDefinition =>
        providerSchema.parse({
            display_name: 'T',
            auth_mode: 'OAUTH2',
            authorization_url: `${upstream.url}/authorize`,
            token_url: `${upstream.url}/token`,
            refresh_url: `${upstream.url}/refresh`,
            ...extra
        });
    const client = { clientId: 'id 1', clientSecret: 's%+2' };
    const ok = () => ({ status: 200, body: JSON.stringify({ access_token: 'at', refresh_token: 'rt', expires_in: 60 }), type: 'application/json' });
    const last = () => upstream.requests.at(-1)!;
    const form = () => Object.fromEntries(new URLSearchParams(last().body));

    it('authorization code: redirect URI and PKCE verifier to the token endpoint, client in the body by default', async () => {
        answer = ok;
        const grant: Grant = { type: 'authorization_code', code: 'c-1', redirectUri: 'https://app.example/cb', codeVerifier: 'v'.repeat(43) };
        const tokens = await tokenGrant(egress, def({ token_params: { audience: 'api' } }), {}, grant, client);
        assert.equal(tokens.access_token, 'at');
        assert.equal(last().url, '/token');
        assert.deepEqual(form(), {
            grant_type: 'authorization_code',
            code: 'c-1',
            redirect_uri: 'https://app.example/cb',
            audience: 'api',
            code_verifier: 'v'.repeat(43),
            client_id: 'id 1',
            client_secret: 's%+2'
        });
        assert.equal(last().headers['authorization'], undefined);
    });

    it('refresh: the refresh endpoint, no scope (RFC 6749 §6), Basic client authentication when the catalogue says so', async () => {
        answer = ok;
        await tokenGrant(
            egress,
            def({ token_request_auth_method: 'basic', refresh_params: { extra: '1' } }),
            {},
            { type: 'refresh_token', refreshToken: 'rt-0' },
            client
        );
        assert.equal(last().url, '/refresh');
        assert.deepEqual(form(), { grant_type: 'refresh_token', refresh_token: 'rt-0', extra: '1' });
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
        assert.equal(last().headers['authorization'], `Basic ${Buffer.from('id+1:s%25%2B2').toString('base64')}`);
    });

    it('client credentials: the token endpoint (not the refresh one), JSON when body_format is json', async () => {
        answer = ok;
        await tokenGrant(egress, def({ body_format: 'json' }), {}, { type: 'client_credentials' }, client);
        assert.equal(last().url, '/token');
        assert.equal(last().headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(last().body), { grant_type: 'client_credentials', client_id: 'id 1', client_secret: 's%+2' });
    });

    it('token and refresh parameters are templates: connection config filled in; a missing value sends nothing', async () => {
        answer = ok;
        const withTemplates = def({
            token_params: { audience: 'https://${connectionConfig.tenant}.example/api/' },
            refresh_params: { realm: "${connectionConfig.realm || 'main'}" }
        });
        await tokenGrant(egress, withTemplates, { tenant: 'acme' }, { type: 'client_credentials' }, client);
        assert.equal(form()['audience'], 'https://acme.example/api/');
        await tokenGrant(egress, withTemplates, {}, { type: 'refresh_token', refreshToken: 'rt-1' }, client);
        assert.equal(last().url, '/refresh');
        assert.equal(form()['realm'], 'main');
        const sent = upstream.requests.length;
        await assert.rejects(
            tokenGrant(egress, withTemplates, {}, { type: 'client_credentials' }, client),
            (err: { code?: string }) => err.code === 'missing_connection_config'
        );
        assert.equal(upstream.requests.length, sent, 'no request with an unfilled parameter');
    });

    it('reads form-encoded answers and 200-with-error answers leniently', async () => {
        answer = () => ({ status: 200, body: 'access_token=gh-at&token_type=bearer&scope=repo', type: 'application/x-www-form-urlencoded' });
        assert.equal((await tokenGrant(egress, def(), {}, { type: 'client_credentials' }, client)).access_token, 'gh-at');
        answer = () => ({ status: 200, body: 'error=bad_verification_code&error_description=The+code+is+wrong', type: 'application/x-www-form-urlencoded' });
        await assert.rejects(
            tokenGrant(egress, def(), {}, { type: 'client_credentials' }, client),
            (e: unknown) => e instanceof TokenError && e.error === 'bad_verification_code' && e.status === 200
        );
        answer = () => ({ status: 503, body: '<html>down</html>', type: 'text/html' });
        await assert.rejects(
            tokenGrant(egress, def(), {}, { type: 'client_credentials' }, client),
            (e: unknown) => e instanceof TokenError && e.error === 'server_error'
        );
    });

    it('one translation of a refusal into an API error', () => {
        const refused = tokenFailure(new TokenError('invalid_grant', 'expired', 400), 'refresh');
        assert.equal(refused.code, 'refresh_token_external_error');
        assert.equal(refused.status, 400);
        assert.deepEqual(refused.payload, { error: 'invalid_grant', description: 'expired' });
        assert.equal(tokenFailure(new TokenError('server_error', 'down', 503), 'refresh').status, 502);
        const connect = tokenFailure(new TokenError('invalid_client', 'bad secret', 401), { connect: 'these client credentials' });
        assert.equal(connect.code, 'connection_test_failed');
        assert.equal(connect.message, 'The provider refused these client credentials: invalid_client (bad secret)');
    });

    it("client credentials: a connection's config_override wins over the integration's", () => {
        const integration = { type: 'OAUTH2' as const, client_id: 'int-id', client_secret: 'int-secret' };
        assert.deepEqual(clientCredentialsFor(integration), { clientId: 'int-id', clientSecret: 'int-secret' });
        assert.deepEqual(clientCredentialsFor(integration, { client_id: 'own-id' }), { clientId: 'own-id', clientSecret: 'int-secret' });
        assert.deepEqual(clientCredentialsFor(null, { client_id: 'a', client_secret: 'b' }), { clientId: 'a', clientSecret: 'b' });
        assert.deepEqual(clientCredentialsFor(null), { clientId: undefined, clientSecret: undefined });
    });

    const twoStep = (extra: Record<string, unknown>): ProviderDefinition =>
        providerSchema.parse({ display_name: 'S', auth_mode: 'TWO_STEP', token_url: `${upstream.url}/login`, ...extra });

    it('TWO_STEP: a GET with the inputs in the query and the filled-in headers; nested token, expireAt in Unix seconds', async () => {
        answer = () => ({ status: 200, body: JSON.stringify({ data: { session: 's-1', until: 1_900_000_000, refresh: 'r-1' } }), type: 'application/json' });
        const d = twoStep({
            token_request_method: 'GET',
            token_params: { user: '${credentials.username}' },
            token_headers: { 'X-Api-Key': '${credentials.key}' },
            token_response: { token: 'data.session', token_expiration: 'data.until', token_expiration_strategy: 'expireAt', refresh_token: 'data.refresh' }
        });
        const c = await twoStepToken(egress, d, {}, { username: 'al ice', key: 'k-1' });
        assert.equal(last().method, 'GET');
        assert.equal(last().url, '/login?user=al+ice');
        assert.equal(last().headers['x-api-key'], 'k-1');
        assert.equal(last().headers['accept'], 'application/json');
        assert.equal(last().body, '');
        assert.deepEqual(
            { token: c.token, refresh_token: c.refresh_token, expires_at: c.expires_at },
            { token: 's-1', refresh_token: 'r-1', expires_at: new Date(1_900_000_000_000).toISOString() }
        );
    });

    it('TWO_STEP: JSON by default, a form when body_format says so (a content-type header wins); the token from a header; token_expires_in_ms', async () => {
        answer = () => ({ status: 200, body: JSON.stringify({ token: 'tk', expires_in: 'soon' }), type: 'application/json' });
        const now = new Date('2026-01-01T00:00:00Z');
        const json = await twoStepToken(egress, twoStep({ token_params: { u: '${credentials.u}' } }), {}, { u: 'x' }, undefined, now);
        assert.equal(last().headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(last().body), { u: 'x' });
        assert.equal(json.token, 'tk', 'the default path is `token`');
        assert.equal(json.expires_at, undefined);

        answer = () => ({ status: 200, body: '{}', type: 'application/json', headers: { 'x-session': 'from-header' } });
        const formFields = {
            body_format: 'form',
            token_params: { u: '${credentials.u}' },
            token_response: { token: 'session', token_expiration: 'ttl' },
            token_response_headers: ['X-Session'],
            token_expires_in_ms: 60_000
        };
        const c = await twoStepToken(egress, twoStep(formFields), {}, { u: 'x y' }, undefined, now);
        assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');
        assert.equal(last().body, 'u=x+y');
        assert.equal(c.token, 'from-header');
        assert.equal(c.expires_at, '2026-01-01T00:01:00.000Z');
        await twoStepToken(
            egress,
            twoStep({ ...formFields, token_headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } }),
            {},
            { u: 'x' }
        );
        assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
    });

    it("TWO_STEP refusals: the body's error, else invalid_credentials (4xx) or server_error (5xx); a success without a token", async () => {
        const d = twoStep({});
        const refused = async (status: number, body: string) => {
            answer = () => ({ status, body, type: 'application/json' });
            return twoStepToken(egress, d, {}, {}).then(
                () => assert.fail('accepted'),
                (e: unknown) => (e instanceof TokenError ? { error: e.error, status: e.status } : assert.fail(String(e)))
            );
        };
        assert.deepEqual(await refused(401, '{"error":"locked"}'), { error: 'locked', status: 401 });
        assert.deepEqual(await refused(403, 'nope'), { error: 'invalid_credentials', status: 403 });
        assert.deepEqual(await refused(502, '<html>'), { error: 'server_error', status: 502 });
        assert.deepEqual(await refused(200, '{"data":{}}'), { error: 'invalid_response', status: 200 });
    });
});
