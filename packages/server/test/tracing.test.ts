// Issue #16 item 2, optional traces: with SWITCHBOARD_OTLP_TRACES_URL set, an inbound request is a server span and
// what it causes — the credentials refresh, each attempt to the provider — are its children, exported over OTLP/HTTP
// to a loopback collector stand-in. Both proxy doors; a caller's W3C traceparent is joined; nothing reaches the
// provider's request.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startUpstream } from './support/upstream.ts';
import { api, waitFor } from './support/webhooks.ts';

interface OtlpSpan {
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    name: string;
    kind: number;
    attributes: Array<{ key: string; value: { stringValue?: string; intValue?: number | string } }>;
}

const attr = (s: OtlpSpan, key: string) => {
    const v = s.attributes.find((a) => a.key === key)?.value;
    return v?.stringValue ?? (v?.intValue === undefined ? undefined : String(v.intValue));
};

describe('OpenTelemetry traces (OTLP/HTTP)', () => {
    let server: TestServer;
    let as: TestAuthServer;
    let collector: Awaited<ReturnType<typeof startUpstream>>;
    const spans = (): OtlpSpan[] =>
        collector.requests.flatMap((r) =>
            (JSON.parse(r.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans.flatMap((rs) =>
                rs.scopeSpans.flatMap((ss) => ss.spans)
            )
        );

    const importExpired = async (id: string) => {
        const grant = await as.mintGrant({ accessTokenTtl: 1 });
        const res = await api(server, 'POST', '/connections', {
            provider_config_key: 'oidc',
            connection_id: id,
            credentials: {
                type: 'OAUTH2',
                access_token: grant.accessToken,
                refresh_token: grant.refreshToken,
                expires_at: new Date(Date.now() - 1000).toISOString()
            }
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
    };

    before(async () => {
        collector = await startUpstream((_req, res) => {
            res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
        as = await startAuthServer();
        server = await startServer({
            SWITCHBOARD_OTLP_TRACES_URL: `${collector.url}/v1/traces`,
            SWITCHBOARD_PROVIDERS: writeProvidersFile(`
test-oidc:
  display_name: Test OIDC
  auth_mode: OAUTH2
  authorization_url: ${as.authorizationUrl}
  token_url: ${as.tokenUrl}
  proxy:
    base_url: ${as.issuer}
`)
        });
        const created = await api(server, 'POST', '/integrations', {
            unique_key: 'oidc',
            provider: 'test-oidc',
            credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
    });
    after(async () => {
        await server?.stop();
        await as?.close();
        await collector?.close();
        if (server) removeDir(server.dataDir);
    });

    for (const door of ['fast door', 'Fastify route'] as const) {
        it(`a proxied call on an expired connection (${door}): the request span holds the refresh and the upstream attempt`, async () => {
            const id = `traced-${door === 'fast door' ? 'fast' : 'route'}`;
            await importExpired(id);
            const traceId = randomBytes(16).toString('hex');
            const res = await fetch(`${server.url}/proxy/me`, {
                headers: {
                    authorization: `Bearer ${server.secretKey}`,
                    'provider-config-key': 'oidc',
                    'connection-id': id,
                    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
                    ...(door === 'Fastify route' ? { retries: '0' } : {})
                }
            });
            assert.equal(res.status, 200, await res.clone().text());
            await res.arrayBuffer();
            const trace = await waitFor(
                'the spans',
                () => {
                    const mine = spans().filter((s) => s.traceId === traceId);
                    return mine.length >= 3 ? mine : undefined;
                },
                20_000
            );
            const root = trace.find((s) => s.kind === 2)!; // SERVER
            assert.equal(root.name, 'GET /proxy/*');
            assert.equal(attr(root, 'http.route'), '/proxy/*');
            assert.equal(attr(root, 'http.response.status_code'), '200');
            const refresh = trace.find((s) => s.name === 'switchboard.refresh')!;
            const upstream = trace.find((s) => s.name === 'switchboard.proxy.upstream')!;
            assert.ok(refresh && upstream, trace.map((s) => s.name).join(', '));
            assert.equal(refresh.parentSpanId, root.spanId);
            assert.equal(upstream.parentSpanId, root.spanId);
            assert.equal(attr(refresh, 'switchboard.provider'), 'test-oidc');
            assert.equal(attr(upstream, 'http.response.status_code'), '200');
            // Nothing of the trace goes to the provider.
            assert.equal(trace.length, 3);
        });
    }

    it('a Fastify route (a forced refresh) holds its refresh under the request span; no span holds a secret', async () => {
        await importExpired('traced-body');
        const traceId = randomBytes(16).toString('hex');
        const res = await fetch(`${server.url}/connections/traced-body?provider_config_key=oidc&force_refresh=true`, {
            headers: { authorization: `Bearer ${server.secretKey}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` }
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { credentials: { access_token: string; refresh_token: string } };
        const trace = await waitFor('the spans', () => {
            const mine = spans().filter((s) => s.traceId === traceId);
            return mine.length >= 2 ? mine : undefined;
        });
        const root = trace.find((s) => s.kind === 2)!;
        assert.equal(root.name, 'GET /connections/:connectionId');
        assert.equal(trace.find((s) => s.name === 'switchboard.refresh')?.parentSpanId, root.spanId);
        const exported = collector.requests.map((r) => r.body).join('\n');
        for (const secret of [server.secretKey, body.credentials.access_token, body.credentials.refresh_token, as.clientSecret])
            assert.ok(!exported.includes(secret), 'a secret was exported in a span');
    });
});
