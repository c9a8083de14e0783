// The proxy's header fast path must accept only what proxyHeaders accepts, and return the same value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { proxyHeaders, proxyHeadersFastPath } from '../src/proxy/control-headers.ts';

const base = { host: '127.0.0.1:3003', connection: 'keep-alive', authorization: 'Bearer sk', 'user-agent': 'test' };
const long = 'x'.repeat(255);

const corpus: Record<string, unknown>[] = [
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1' },
    { 'provider-config-key': 'a', 'connection-id': 'b' },
    { ...base, 'provider-config-key': long, 'connection-id': long },
    { ...base, 'provider-config-key': `${long}x`, 'connection-id': 'c1' },
    { ...base, 'provider-config-key': 'github', 'connection-id': `${long}x` },
    { ...base, 'provider-config-key': '', 'connection-id': 'c1' },
    { ...base, 'provider-config-key': 'github', 'connection-id': '' },
    { ...base, 'provider-config-key': 'github' },
    { ...base, 'connection-id': 'c1' },
    { ...base },
    { ...base, 'provider-config-key': ['a', 'b'], 'connection-id': 'c1' },
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'set-cookie': ['a=1', 'b=2'] },
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'nango-proxy-x-custom': 'v', 'content-type': 'application/json' },
    { ...base, 'provider-config-key': ' ', 'connection-id': 'ü' },
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'base-url-override': '', 'nango-activity-log-id': '' },
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'base-url-override': '', 'nango-activity-log-id': 'x', retries: '2' },
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'nango-activity-log-id': ['a', 'b'] },
    ...[
        'retries',
        'base-url-override',
        'decompress',
        'retry-on',
        'forward-headers-on-redirect',
        'nango-is-sync',
        'nango-is-dry-run',
        'nango-activity-log-id'
    ].flatMap((name) =>
        ['', '0', '3', '11', 'x', 'true', 'https://api.example.com', '500, 502'].map((value) => ({
            ...base,
            'provider-config-key': 'github',
            'connection-id': 'c1',
            [name]: value
        }))
    ),
    { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', retries: undefined },
    Object.defineProperty({ ...base, 'provider-config-key': 'github', 'connection-id': 'c1' }, '__proto__', {
        value: 'x',
        enumerable: true,
        configurable: true,
        writable: true
    }),
    Object.assign(Object.create(null) as Record<string, unknown>, base, { 'provider-config-key': 'github', 'connection-id': 'c1' })
];

describe('proxyHeadersFastPath', () => {
    it('never accepts what proxyHeaders rejects, and returns the same value when it answers', () => {
        let answered = 0;
        for (const headers of corpus) {
            const fast = proxyHeadersFastPath(headers);
            if (fast === undefined) continue;
            answered++;
            const slow = proxyHeaders.safeParse(headers);
            assert.ok(slow.success, `fast path accepted what the schema rejects: ${JSON.stringify(headers)}`);
            assert.deepStrictEqual(fast, slow.data);
        }
        assert.ok(answered >= 4, 'the fast path answers the common requests');
    });

    it('answers the common request: the two required headers and nothing else', () => {
        assert.deepStrictEqual(proxyHeadersFastPath({ ...base, 'provider-config-key': 'github', 'connection-id': 'c1' }), {
            ...base,
            'provider-config-key': 'github',
            'connection-id': 'c1',
            retries: 0
        });
    });

    it('answers what the official SDK sends on every call: an empty Base-Url-Override and a Nango-Activity-Log-Id', () => {
        for (const logId of ['', 'log-123']) {
            const headers = { ...base, 'provider-config-key': 'github', 'connection-id': 'c1', 'base-url-override': '', 'nango-activity-log-id': logId };
            const fast = proxyHeadersFastPath(headers);
            assert.ok(fast, `SDK headers with activity log id "${logId}" take the fast path`);
            assert.deepStrictEqual(fast, proxyHeaders.parse(headers));
        }
    });

    it('leaves every other control header, and every invalid value, to the schema', () => {
        assert.equal(proxyHeadersFastPath({ 'provider-config-key': 'github', 'connection-id': 'c1', retries: '2' }), undefined);
        assert.equal(
            proxyHeadersFastPath({ 'provider-config-key': 'github', 'connection-id': 'c1', 'base-url-override': 'https://api.github.com' }),
            undefined
        );
        assert.equal(proxyHeadersFastPath({ 'provider-config-key': 'github', 'connection-id': 'c1', 'base-url-override': ' ' }), undefined);
        assert.equal(proxyHeadersFastPath({ 'provider-config-key': '', 'connection-id': 'c1' }), undefined);
        assert.equal(proxyHeadersFastPath({ 'provider-config-key': 'github' }), undefined);
        assert.equal(proxyHeadersFastPath({ 'provider-config-key': `${long}x`, 'connection-id': 'c1' }), undefined);
    });
});
