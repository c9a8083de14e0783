// Issue #16 item 2: Prometheus metrics on /metrics (admin key). A scripted workload — proxy calls with known
// upstream statuses through both doors, one forced refresh, one sync run, one action run, one webhook delivery —
// moves each counter by exactly the workload's numbers, on the embedded default and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import { startAuthServer, providerYaml, type TestAuthServer } from './support/oidc.ts';
import { startServer, writeProvidersFile, removeDir, createTestDatabase, testEncryptionKey, type TestServer } from './support/server.ts';
import { startUpstream, json } from './support/upstream.ts';
import { api, adminApi, deliveries, startReceiver, waitFor, type Json, type Receiver } from './support/webhooks.ts';
import { deploy } from './support/functions.ts';

interface Sample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

/** The samples of a Prometheus text exposition (no escapes in our label values). */
function parse(text: string): Sample[] {
    const out: Sample[] = [];
    for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!m) continue;
        const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
        out.push({ name: m[1]!, labels, value: Number(m[3]) });
    }
    return out;
}

/** Sum of a series over the samples whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
    return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

const ITEMS = 'items';
const CONN = 'tenant-1';
// Upstream statuses the proxy calls meet, by path: 5 × 200, 3 × 404, 2 × 503.
const plan = [200, 200, 200, 404, 503, 200, 404, 200, 503, 404];

const backends = [
    { name: 'embedded', env: async () => ({ env: {}, drop: async () => {} }) },
    {
        name: 'PostgreSQL',
        env: async () => {
            const db = await createTestDatabase();
            return { env: { SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() }, drop: db.drop };
        }
    }
];

for (const backend of backends) {
    describe(`/metrics after a scripted workload (${backend.name})`, () => {
        let server: TestServer;
        let as: TestAuthServer;
        let upstream: Awaited<ReturnType<typeof startUpstream>>;
        let receiver: Receiver;
        let nango: Nango;
        let drop: () => Promise<void>;
        const apiKey = `key-${randomBytes(8).toString('hex')}`;

        const scrape = async (): Promise<Sample[]> => {
            const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.adminKey}` } });
            assert.equal(res.status, 200);
            assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
            return parse(await res.text());
        };
        const syncStatus = async (): Promise<Json> =>
            (await api(server, 'GET', `/sync/status?syncs=noop&provider_config_key=${ITEMS}&connection_id=${CONN}`)).body.syncs?.[0];
        const syncFinishedAfter = (since: string) =>
            waitFor('the sync run', async () => {
                const s = await syncStatus();
                return s?.latestExecutionStatus && s.latestExecutionStatus !== 'RUNNING' && s.finishedAt > since ? s : undefined;
            });

        before(async () => {
            const db = await backend.env();
            drop = db.drop;
            as = await startAuthServer();
            upstream = await startUpstream((req, res) => json(res, Number(/\/status\/(\d+)/.exec(req.url)?.[1] ?? 200), { ok: true }));
            receiver = await startReceiver();
            server = await startServer({
                ...db.env,
                SWITCHBOARD_SCHEDULER_TICK_MS: '200',
                SWITCHBOARD_PROVIDERS: writeProvidersFile(
                    `${providerYaml(as, 'test-oidc')}\nitems-api:\n  display_name: Items\n  auth_mode: API_KEY\n  proxy:\n    base_url: ${upstream.url}\n    headers:\n      authorization: Bearer \${apiKey}\n`
                )
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            await nango.createIntegration({
                provider: 'test-oidc',
                unique_key: 'oidc',
                credentials: { type: 'OAUTH2', client_id: as.clientId, client_secret: as.clientSecret }
            });
            assert.equal((await api(server, 'POST', '/integrations', { unique_key: ITEMS, provider: 'items-api' })).status, 200);
            const created = await api(server, 'POST', '/connections', {
                provider_config_key: ITEMS,
                connection_id: CONN,
                credentials: { type: 'API_KEY', apiKey }
            });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const grant = await as.mintGrant();
            const oauth = await api(server, 'POST', '/connections', {
                provider_config_key: 'oidc',
                connection_id: 'oauth-1',
                credentials: {
                    type: 'OAUTH2',
                    access_token: grant.accessToken,
                    refresh_token: grant.refreshToken,
                    expires_at: new Date(Date.now() + 3_600_000).toISOString()
                }
            });
            assert.equal(oauth.status, 201, JSON.stringify(oauth.body));
            const deployed = await deploy(server, [
                { type: 'sync', name: 'noop', file: 'noop-sync.cjs', providerConfigKey: ITEMS, runs: 'every hour' },
                { type: 'action', name: 'env-vars', file: 'env-vars.cjs', providerConfigKey: ITEMS }
            ]);
            assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
            // The sync's first scheduled run happens at deploy: it ends before the workload starts.
            await syncFinishedAfter(new Date(0).toISOString());
        });
        after(async () => {
            await server?.stop();
            await as?.close();
            await upstream?.close();
            await receiver?.close();
            if (server) removeDir(server.dataDir);
            await drop?.();
        });

        it('only the admin key reads /metrics', async () => {
            assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
            const withSecret = await api(server, 'GET', '/metrics');
            assert.equal(withSecret.status, 403);
            assert.equal(withSecret.body.error.code, 'admin_key_required');
        });

        it('the counters move by exactly the workload', async () => {
            const before = await scrape();
            const upstreamBefore = upstream.requests.length;

            // 10 proxy calls: 7 through the fast door (the SDK's plain call), 3 through Fastify's (a Retries header).
            for (const [i, status] of plan.entries()) {
                const res = await fetch(`${server.url}/proxy/status/${status}`, {
                    headers: {
                        authorization: `Bearer ${server.secretKey}`,
                        'provider-config-key': ITEMS,
                        'connection-id': CONN,
                        ...(i % 3 === 2 ? { retries: '0' } : {})
                    }
                });
                assert.equal(res.status, status);
                await res.arrayBuffer();
            }
            assert.equal(upstream.requests.length - upstreamBefore, plan.length);

            // One sync run, one action run.
            const last = (await syncStatus()).finishedAt as string;
            assert.equal((await api(server, 'POST', '/sync/trigger', { provider_config_key: ITEMS, connection_id: CONN, syncs: ['noop'] })).status, 200);
            assert.equal((await syncFinishedAfter(last)).latestExecutionStatus, 'SUCCESS');
            const action = await nango.triggerAction(ITEMS, CONN, 'env-vars', {});
            assert.ok(action);

            // One webhook: the URL is set now, so the forced refresh's auth webhook is the only delivery.
            assert.equal((await api(server, 'PATCH', '/admin/webhooks/settings', { url: receiver.url })).status, 200);
            const refreshesBefore = as.counts.refresh;
            await nango.getConnection('oidc', 'oauth-1', true);
            assert.equal(as.counts.refresh - refreshesBefore, 1);
            const [delivery] = await waitFor('the delivery', async () => {
                const list = await deliveries(server);
                return list.length && list.every((d) => d.status === 'delivered') ? list : undefined;
            });
            assert.equal(receiver.requests.length, 1);
            assert.equal(delivery!.status, 'delivered');

            const after = await scrape();
            const delta = (name: string, where: Record<string, string> = {}) => sum(after, name, where) - sum(before, name, where);

            // Proxy: by provider and upstream status, exactly the plan.
            const upstreamCount = 'switchboard_proxy_upstream_duration_seconds_count';
            assert.equal(delta(upstreamCount), plan.length);
            for (const status of [200, 404, 503])
                assert.equal(
                    delta(upstreamCount, { provider: 'items-api', status: String(status) }),
                    plan.filter((s) => s === status).length,
                    `upstream ${status}`
                );
            // Requests by route template, whichever door served them; the URL never becomes a label.
            const requests = 'switchboard_http_request_duration_seconds_count';
            for (const status of [200, 404, 503])
                assert.equal(delta(requests, { route: '/proxy/*', status: String(status) }), plan.filter((s) => s === status).length, `requests ${status}`);
            assert.ok(!after.some((s) => s.name === requests && s.labels['route']?.includes('status/')), 'a raw URL became a label');
            assert.equal(delta(requests, { route: '/connections/:connectionId', method: 'GET', status: '200' }), 1);

            // One forced refresh, a success, of the OAuth provider.
            assert.equal(delta('switchboard_refresh_duration_seconds_count'), 1);
            assert.equal(delta('switchboard_refresh_duration_seconds_count', { provider: 'test-oidc', outcome: 'success' }), 1);

            // One sync run and one action run, both successes; nothing else ran.
            assert.equal(delta('switchboard_script_run_duration_seconds_count'), 2);
            assert.equal(delta('switchboard_script_run_duration_seconds_count', { kind: 'sync', outcome: 'success' }), 1);
            assert.equal(delta('switchboard_script_run_duration_seconds_count', { kind: 'action', outcome: 'success' }), 1);

            // One webhook delivery, delivered; the queue is empty again.
            assert.equal(delta('switchboard_webhook_delivery_duration_seconds_count'), 1);
            assert.equal(delta('switchboard_webhook_delivery_duration_seconds_count', { outcome: 'delivered' }), 1);
            assert.equal(sum(after, 'switchboard_webhook_queue_depth'), 0);

            // Usage gauges: the runner pool's configured size, nothing in use between runs; the event loop lag exists.
            assert.equal(sum(after, 'switchboard_runner_pool_processes', { state: 'size' }), 2);
            assert.equal(sum(after, 'switchboard_runner_pool_processes', { state: 'in_use' }), 0);
            assert.ok(after.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
            assert.ok(sum(after, 'switchboard_db_pool_connections', { pool: 'main', state: 'max' }) > 0, 'the database pool is reported');
        });

        it('the queue depth gauge counts deliveries waiting for an attempt', async () => {
            // A receiver that refuses with 503 keeps the next delivery pending (retried later).
            receiver.respond(() => 503);
            await nango.getConnection('oidc', 'oauth-1', true);
            await waitFor('a retry scheduled', async () => (await deliveries(server, '&status=pending')).some((d) => d.last_status === 503) || undefined);
            const samples = await scrape();
            assert.equal(sum(samples, 'switchboard_webhook_queue_depth'), 1);
            assert.ok(sum(samples, 'switchboard_webhook_delivery_duration_seconds_count', { outcome: 'retrying' }) >= 1);
            await adminApi(server, 'PATCH', '/admin/webhooks/settings', { url: null }, { 'switchboard-environment': 'dev' });
        });
    });
}

describe('a gauge whose source fails (the database down)', () => {
    it('leaves that gauge unknown and serves the rest of the scrape, counting the failure', async () => {
        const { Metrics } = await import('../src/metrics/metrics.ts');
        const metrics = new Metrics({ processMetrics: false });
        metrics.gauge('test_queue_depth', 'fails', [], async () => {
            throw new Error('connection refused');
        });
        metrics.gauge('test_pool', 'works', ['state'], async () => [{ labels: { state: 'idle' }, value: 3 }]);
        metrics.rateLimited.inc({ limit: 'key' });
        const samples = parse((await metrics.scrape()).body);
        assert.ok(Number.isNaN(samples.find((s) => s.name === 'test_queue_depth')?.value), 'unknown, not a made-up 0');
        assert.equal(sum(samples, 'test_pool', { state: 'idle' }), 3);
        assert.equal(sum(samples, 'switchboard_rate_limited_total'), 1);
        assert.equal(sum(samples, 'switchboard_metrics_collect_errors_total', { metric: 'test_queue_depth' }), 1);
    });
});
