// Schema fields whose behaviour is a pure function (issue #15 item 1): retry header lists and status classes,
// expires_in_unit, RSA-SHA1, Nango's OAUTH2CC token_url key and TWO_STEP's proxy_header_authorization.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { providerSchema, type ProviderDefinition } from '../src/providers/schema.ts';
import { isRetryableStatus, proxyRetryDelayMs } from '../src/proxy/retry.ts';
import { expiryFrom, expiryOf } from '../src/oauth/token-request.ts';
import { valueAt } from '../src/json-path.ts';
import { oauth1Signer } from '../src/oauth/oauth1.ts';
import { resolveTokenUrl } from '../src/oauth/provider-endpoints.ts';
import { applyAuth } from '../src/proxy/auth.ts';

const def = (fields: Record<string, unknown>): ProviderDefinition => providerSchema.parse({ display_name: 'X', auth_mode: 'API_KEY', ...fields });

it('proxy.retry.at / .after take a list: the first header the answer carries wins', () => {
    const d = def({
        proxy: { base_url: 'https://api.x.example', retry: { at: ['x-rate-limit-reset', 'x-ratelimit-reset'], after: ['x-wait', 'x-retry-in'] } }
    });
    const now = 1_700_000_000_000;
    assert.equal(proxyRetryDelayMs(0, { 'x-ratelimit-reset': String(now / 1000 + 7) }, d, now), 7000);
    assert.equal(proxyRetryDelayMs(0, { 'x-rate-limit-reset': String(now / 1000 + 3), 'x-ratelimit-reset': String(now / 1000 + 9) }, d, now), 3000);
    assert.equal(proxyRetryDelayMs(0, { 'x-retry-in': '2' }, d, now), 2000);
});

it('proxy.retry.error_code: numbers, numeric strings and classes; remaining "0" on an error answer', () => {
    const d = def({ proxy: { base_url: 'https://api.x.example', retry: { error_code: ['5xx', '409', 429], remaining: 'X-RateLimit-Remaining' } } });
    for (const s of [500, 503, 599, 409, 429]) assert.equal(isRetryableStatus(s, undefined, d), true, String(s));
    for (const s of [401, 400, 404, 200]) assert.equal(isRetryableStatus(s, undefined, d), false, String(s));
    assert.equal(isRetryableStatus(403, undefined, d, { 'x-ratelimit-remaining': '0' }), true);
    assert.equal(isRetryableStatus(403, undefined, d, { 'x-ratelimit-remaining': '5' }), false);
    assert.equal(isRetryableStatus(200, undefined, d, { 'x-ratelimit-remaining': '0' }), false, 'a success is never retried');
    assert.throws(() => def({ proxy: { retry: { error_code: ['6xx'] } } }));
});

it('expires_in_unit: milliseconds', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    assert.equal(expiryOf({ access_token: 'a', expires_in: 3600 }, now), '2026-01-01T01:00:00.000Z');
    assert.equal(expiryOf({ access_token: 'a', expires_in: 3600_000 }, now, 'milliseconds'), '2026-01-01T01:00:00.000Z');
});

it('one expiry computation: an absolute time in seconds, milliseconds or a date; a null or empty one is absent', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    assert.equal(expiryFrom({ at: 1_767_229_200 }, now), '2026-01-01T01:00:00.000Z');
    assert.equal(expiryFrom({ at: '1767229200000' }, now), '2026-01-01T01:00:00.000Z');
    assert.equal(expiryFrom({ at: '2026-01-01T01:00:00Z' }, now), '2026-01-01T01:00:00.000Z');
    assert.equal(expiryOf({ access_token: 'a', expires_at: null, expires_in: 60 }, now), '2026-01-01T00:01:00.000Z');
    assert.equal(expiryFrom({ at: '', in: '' }, now), undefined);
    assert.equal(expiryFrom({ at: 'never', in: 0 }, now), undefined);
});

it('response fields are dotted paths into objects and arrays, own properties only', () => {
    const body = JSON.parse('{"team":{"id":"T1"},"items":[{"id":7}],"__proto__":{"x":1}}') as unknown;
    assert.equal(valueAt(body, 'team.id'), 'T1');
    assert.equal(valueAt(body, 'items.0.id'), 7);
    assert.equal(valueAt(body, '__proto__.x'), 1, 'a key named __proto__ in the JSON is its own');
    assert.equal(valueAt(body, 'team.constructor'), undefined);
    assert.equal(valueAt(body, 'team.id.length'), undefined);
    assert.equal(valueAt(null, 'a'), undefined);
});

it('signature_method RSA-SHA1 signs with the consumer secret as a private key (RFC 5849 §3.4.3)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const d = providerSchema.parse({
        display_name: 'J',
        auth_mode: 'OAUTH1',
        request_url: 'https://jira.example/plugins/servlet/oauth/request-token',
        authorization_url: 'https://jira.example/plugins/servlet/oauth/authorize',
        token_url: 'https://jira.example/plugins/servlet/oauth/access-token',
        signature_method: 'RSA-SHA1'
    });
    const signer = oauth1Signer(d, 'consumer', pem);
    const data = signer.authorize({ url: 'https://jira.example/rest/api/2/myself', method: 'GET' }, { key: 'tok', secret: '' });
    assert.equal(data.oauth_signature_method, 'RSA-SHA1');
    const { oauth_signature: signature, ...unsigned } = data;
    const base = signer.getBaseString({ url: 'https://jira.example/rest/api/2/myself', method: 'GET' }, unsigned as never);
    assert.ok(createVerify('RSA-SHA1').update(base).verify(publicKey, signature, 'base64'));
    // The token secret plays no part, unlike HMAC-SHA1.
    assert.notEqual(signature, pem);
});

it("Nango's TokenUrlObject key OAUTH2CC is the client-credentials endpoint", () => {
    const d = providerSchema.parse({
        display_name: 'C',
        auth_mode: 'OAUTH2_CC',
        token_url: { OAUTH2CC: 'https://c.example/oauth/cc', OAUTH2: 'https://c.example/oauth/code' }
    });
    assert.equal(resolveTokenUrl(d, 'OAUTH2_CC', {}, 'code'), 'https://c.example/oauth/cc');
});

it("TWO_STEP's proxy_header_authorization is the Authorization template; proxy.headers still win", () => {
    const d = providerSchema.parse({
        display_name: 'T',
        auth_mode: 'TWO_STEP',
        token_url: 'https://t.example/login',
        proxy_header_authorization: 'Token ${accessToken}'
    });
    const c = { type: 'TWO_STEP' as const, inputs: { user: 'u' }, token: 'tk', raw: {} };
    assert.equal(applyAuth(d, c, {}).headers['authorization'], 'Token tk');
    const without = providerSchema.parse({ display_name: 'T', auth_mode: 'TWO_STEP', token_url: 'https://t.example/login' });
    assert.equal(applyAuth(without, c, {}).headers['authorization'], 'Bearer tk');
});

it("values Nango's file writes that a stricter reading refused: boolean parameters, an empty hook name, a verification without a method", () => {
    const d = providerSchema.parse({
        display_name: 'N',
        auth_mode: 'OAUTH2',
        authorization_url: 'https://n.example/authorize',
        token_url: 'https://n.example/token',
        authorization_params: { session: true, max_age: 300 },
        token_params: { isEncrypted: false },
        webhook_routing_script: '',
        proxy: { base_url: 'https://api.n.example', verification: { endpoints: ['/me'] } }
    });
    assert.deepEqual(d.authorization_params, { session: 'true', max_age: '300' });
    assert.deepEqual(d.token_params, { isEncrypted: 'false' });
    assert.equal(d.webhook_routing_script, undefined);
    assert.equal(d.proxy?.verification?.method, 'GET');
});
