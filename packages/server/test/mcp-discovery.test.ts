// The MCP authorization discovery steps on their own (auth-modes/mcp-discovery.ts): the Bearer challenge parser,
// the egress policy on URLs a remote server names, and the well-known fallback when the 401 names no metadata.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Egress } from '../src/egress/egress.ts';
import { ApiError } from '../src/errors.ts';
import { bearerChallengeParams, chooseAuthMethod, discoverMcpAuthorization } from '../src/auth-modes/mcp-discovery.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';

describe('MCP authorization discovery', () => {
    let as: TestAuthServer;
    let srv: Server;
    let base: string;
    const seen: string[] = [];

    before(async () => {
        as = await startAuthServer({ dynamicRegistration: {} });
        // An MCP server whose 401 carries no resource_metadata: the client falls back to the well-known URLs.
        srv = createServer((req, res) => {
            seen.push(req.url ?? '');
            if (req.url === '/.well-known/oauth-protected-resource/tools/mcp') {
                res.writeHead(200, { 'content-type': 'application/json' });
                return res.end(JSON.stringify({ resource: `${base}/tools`, authorization_servers: [as.issuer] }));
            }
            res.writeHead(req.url === '/tools/mcp' ? 401 : 404, { 'www-authenticate': 'Bearer realm="mcp"' });
            res.end();
        });
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    });
    after(async () => {
        await as?.close();
        await new Promise<void>((r) => srv.close(() => r()));
    });

    it('parses the auth-params of a Bearer challenge, quoted or not, among other schemes', () => {
        assert.deepEqual(bearerChallengeParams('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="a b"'), {
            resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource',
            scope: 'a b'
        });
        assert.deepEqual(bearerChallengeParams(['Basic realm="x"', 'Bearer error=invalid_token, Resource_Metadata="https://m/x"']), {
            error: 'invalid_token',
            resource_metadata: 'https://m/x'
        });
        assert.deepEqual(bearerChallengeParams('Basic realm="x"'), {});
        assert.deepEqual(bearerChallengeParams(undefined), {});
    });

    it('chooses a confidential client where the server allows one (RFC 8414 default: client_secret_basic)', () => {
        assert.equal(chooseAuthMethod(undefined), 'client_secret_basic');
        assert.equal(chooseAuthMethod(['none', 'client_secret_post']), 'client_secret_post');
        assert.equal(chooseAuthMethod(['none']), 'none');
        assert.throws(
            () => chooseAuthMethod(['private_key_jwt']),
            (e: unknown) => e instanceof ApiError && e.code === 'mcp_registration_failed'
        );
    });

    it('falls back to the path-aware well-known URL, accepts a resource that is a parent path, and reads OIDC discovery', async () => {
        const egress = new Egress({ allowPrivate: true });
        try {
            const found = await discoverMcpAuthorization(egress, `${base}/tools/mcp`);
            assert.equal(found.resource, `${base}/tools`);
            assert.equal(found.metadata.issuer, as.issuer);
            assert.equal(found.metadata.registration_endpoint, as.registrationUrl);
            assert.ok(seen.includes('/.well-known/oauth-protected-resource/tools/mcp'));
        } finally {
            await egress.close();
        }
    });

    it('refuses loopback targets when private egress is not allowed, before any request', async () => {
        const egress = new Egress({ allowPrivate: false });
        const before = seen.length;
        try {
            await assert.rejects(
                discoverMcpAuthorization(egress, `${base}/tools/mcp`),
                (e: unknown) => e instanceof ApiError && e.code === 'mcp_discovery_failed' && (e.cause as ApiError | undefined)?.code === 'egress_forbidden'
            );
            assert.equal(seen.length, before, 'the MCP server was not called');
        } finally {
            await egress.close();
        }
    });

    it('refuses an MCP server URL that is not https', async () => {
        const egress = new Egress({ allowPrivate: true });
        try {
            await assert.rejects(
                discoverMcpAuthorization(egress, 'http://mcp.example.com/mcp'),
                (e: unknown) => e instanceof ApiError && e.code === 'mcp_discovery_failed'
            );
        } finally {
            await egress.close();
        }
    });
});
