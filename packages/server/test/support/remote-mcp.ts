// A remote MCP server stand-in for the MCP_OAUTH2 tests: a protected resource (RFC 9728) that answers 401 with a
// `WWW-Authenticate: Bearer resource_metadata=...` challenge and serves its metadata, and accepts only tokens the
// authorization server says are active.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestAuthServer } from './oidc.ts';

export interface McpStandIn {
    base: string;
    /** Every request received, path and Authorization header. */
    requests: Array<{ method: string; path: string; authorization: string | undefined; body: string }>;
    close(): Promise<void>;
}

/**
 * Four MCP servers on one loopback port, told apart by path: `/mcp` protected by `as`; `/mismatch/mcp`, whose
 * metadata names an authorization server (`/fake-as`, served here) whose metadata states another issuer;
 * `/elsewhere/mcp`, whose metadata describes `/mcp`; and `/refusing/mcp`, protected by a server that refuses
 * registration. A call with a bearer token is answered only
 * when `as` says the token is active (a real check, not a string compare).
 */
export async function startMcpStandIn(servers: () => { as: TestAuthServer; refusing: TestAuthServer }): Promise<McpStandIn> {
    const requests: McpStandIn['requests'] = [];
    const srv: Server = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            void (async () => {
                const path = (req.url ?? '/').split('?')[0]!;
                const body = Buffer.concat(chunks).toString('utf8');
                requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
                const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
                    res.writeHead(status, { 'content-type': 'application/json', ...headers });
                    res.end(JSON.stringify(json));
                };
                const { as, refusing } = servers();
                const prm = (resourcePath: string, authServer: string) => ({
                    resource: `${base}${resourcePath}`,
                    authorization_servers: [authServer],
                    scopes_supported: ['mcp:tools'],
                    bearer_methods_supported: ['header']
                });
                if (path === '/.well-known/oauth-protected-resource/mcp') return send(200, prm('/mcp', as.issuer));
                if (path === '/.well-known/oauth-protected-resource/mismatch/mcp') return send(200, prm('/mismatch/mcp', `${base}/fake-as`));
                if (path === '/.well-known/oauth-protected-resource/refusing/mcp') return send(200, prm('/refusing/mcp', refusing.issuer));
                // Metadata about another resource than the server asked: it must not choose our authorization server.
                if (path === '/.well-known/oauth-protected-resource/elsewhere/mcp') return send(200, prm('/mcp', as.issuer));
                if (path === '/.well-known/oauth-authorization-server/fake-as') {
                    // The real server's metadata, served for another issuer identifier: a mix-up the client must refuse.
                    return send(200, await (await fetch(as.discoveryUrl)).json());
                }
                if (path.endsWith('/mcp')) {
                    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
                    if (!token || !(path === '/mcp' && (await as.isAccessTokenActive(token)))) {
                        return send(
                            401,
                            { error: 'invalid_token' },
                            { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${base}/.well-known/oauth-protected-resource${path}"` }
                        );
                    }
                    const rpc = JSON.parse(body || '{}') as { id?: number };
                    return send(200, { jsonrpc: '2.0', id: rpc.id ?? null, result: { tools: [{ name: 'list_issues' }] } });
                }
                return send(404, { error: 'not_found' });
            })();
        });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    return {
        base,
        requests,
        close: () =>
            new Promise<void>((r) => {
                srv.close(() => r());
                srv.closeAllConnections();
            })
    };
}
