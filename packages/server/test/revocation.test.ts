// Revocation at providers whose endpoint is not RFC 7009, using the built-in catalogue's own definitions of GitHub,
// HubSpot and Notion with only the host moved to a loopback stand-in: the request each provider documents is what
// leaves Switchboard, a 204 counts as revoked, a refusal is recorded and the connection is deleted all the same.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { Nango } from '@nangohq/node';
import { loadCatalogue } from '../src/providers/catalogue.ts';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';

const HOSTS: Record<string, string> = { github: 'https://api.github.com', hubspot: 'https://api.hubapi.com', notion: 'https://api.notion.com' };
const REVOCATION_FIELDS = [
    'revocation_url',
    'revocation_method',
    'revocation_auth_method',
    'revocation_body_format',
    'revocation_token_param',
    'revocation_token',
    'revocation_headers',
    'revocation_params'
];

describe('revocation at non-RFC 7009 providers (built-in definitions)', () => {
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let server: TestServer;
    let nango: Nango;

    before(async () => {
        upstream = await startUpstream((req, res) => {
            if (req.body.includes('refused') || req.url.includes('refused')) return json(res, 401, { message: 'Bad credentials' });
            if (req.url.startsWith('/v1/oauth/revoke')) return json(res, 200, { request_id: 'r1' });
            res.writeHead(204);
            res.end();
        });
        // The built-in entries, revocation fields as shipped, every URL moved to the stand-in.
        const builtin = loadCatalogue();
        const local: Record<string, Record<string, unknown>> = {};
        for (const [name, host] of Object.entries(HOSTS)) {
            const def = builtin.get(name) as unknown as Record<string, unknown>;
            const entry: Record<string, unknown> = {
                display_name: `${name} (loopback)`,
                auth_mode: 'OAUTH2',
                authorization_url: `${upstream.url}/authorize`,
                token_url: `${upstream.url}/token`
            };
            for (const field of REVOCATION_FIELDS) if (def[field] !== undefined) entry[field] = def[field];
            assert.ok(typeof entry['revocation_url'] === 'string', `${name} has a revocation_url in the catalogue`);
            entry['revocation_url'] = (entry['revocation_url'] as string).replace(host, upstream.url);
            local[`${name}-local`] = entry;
        }
        server = await startServer({ SWITCHBOARD_PROVIDERS: writeProvidersFile(stringify(local)) });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
        for (const name of Object.keys(HOSTS)) {
            await nango.createIntegration({
                provider: `${name}-local`,
                unique_key: name,
                credentials: { type: 'OAUTH2', client_id: `${name}-id`, client_secret: `${name}-secret` }
            });
        }
    });
    after(async () => {
        await server?.stop();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    async function connectAndDelete(key: string, id: string, accessToken: string, refreshToken?: string) {
        const res = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: key,
                connection_id: id,
                credentials: { type: 'OAUTH2', access_token: accessToken, ...(refreshToken ? { refresh_token: refreshToken } : {}) }
            })
        });
        assert.equal(res.status, 201, await res.text());
        const seen = upstream.requests.length;
        await nango.deleteConnection(key, id);
        const audit = (await (
            await fetch(`${server.url}/admin/audit?connection_id=${id}`, { headers: { authorization: `Bearer ${server.secretKey}` } })
        ).json()) as {
            data: Array<{ kind: string; outcome: string; detail: { status?: number } }>;
        };
        const listed = await nango.listConnections({ connectionId: id });
        assert.equal(listed.connections.length, 0, 'the connection is deleted whatever the revocation outcome');
        return { calls: upstream.requests.slice(seen), audit: audit.data };
    }

    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

    it('GitHub: DELETE /applications/{client_id}/grant, Basic client auth, JSON {access_token}; 204 is revoked', async () => {
        const { calls, audit } = await connectAndDelete('github', 'gh-1', 'gho_abc', 'ghr_refresh');
        assert.equal(calls.length, 1);
        const [call] = calls;
        assert.equal(call!.method, 'DELETE');
        assert.equal(call!.url, '/applications/github-id/grant');
        assert.equal(call!.headers.authorization, basic('github-id', 'github-secret'));
        assert.equal(call!.headers['content-type'], 'application/json');
        assert.equal(call!.headers.accept, 'application/vnd.github+json');
        assert.deepEqual(JSON.parse(call!.body), { access_token: 'gho_abc' });
        assert.deepEqual(
            audit.map((e) => [e.kind, e.outcome, e.detail.status]),
            [['revocation', 'revoked', 204]]
        );
    });

    it('HubSpot: DELETE /oauth/v1/refresh-tokens/{token}, the token URL-encoded, nothing else sent', async () => {
        const { calls, audit } = await connectAndDelete('hubspot', 'hs-1', 'at', 'rt/with?odd&chars');
        assert.equal(calls.length, 1);
        const [call] = calls;
        assert.equal(call!.method, 'DELETE');
        assert.equal(call!.url, `/oauth/v1/refresh-tokens/${encodeURIComponent('rt/with?odd&chars')}`);
        assert.equal(call!.headers.authorization, undefined);
        assert.equal(call!.body, '');
        assert.deepEqual(
            audit.map((e) => [e.kind, e.outcome]),
            [['revocation', 'revoked']]
        );
    });

    it('Notion: POST JSON {token} with Basic and the Notion-Version header', async () => {
        const { calls, audit } = await connectAndDelete('notion', 'no-1', 'secret_notion', 'notion-refresh');
        const [call] = calls;
        assert.equal(call!.method, 'POST');
        assert.equal(call!.url, '/v1/oauth/revoke');
        assert.equal(call!.headers.authorization, basic('notion-id', 'notion-secret'));
        assert.equal(call!.headers['notion-version'], '2022-06-28');
        assert.deepEqual(JSON.parse(call!.body), { token: 'notion-refresh' });
        assert.deepEqual(
            audit.map((e) => [e.kind, e.outcome]),
            [['revocation', 'revoked']]
        );
    });

    it('a refused revocation is recorded with the provider status, and the connection is still deleted', async () => {
        const { calls, audit } = await connectAndDelete('github', 'gh-2', 'refused-token');
        assert.equal(calls.length, 1, 'a 401 is not retried');
        assert.deepEqual(
            audit.map((e) => [e.kind, e.outcome, e.detail.status]),
            [['revocation', 'failed', 401]]
        );
    });

    it('never logs the tokens or the client secrets', () => {
        const out = server.output();
        for (const secret of ['gho_abc', 'ghr_refresh', 'secret_notion', 'notion-refresh', 'github-secret', 'notion-secret'])
            assert.ok(!out.includes(secret), secret);
    });
});
