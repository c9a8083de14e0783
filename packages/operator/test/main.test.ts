import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCluster, type Cluster } from './support/cluster.ts';
import { eventually, startOperator } from './support/operator.ts';

// `node src/main.ts` as a Deployment runs it: configuration errors name the variable and exit 78 before any
// request; a good configuration serves /healthz and takes the Lease.

const operatorDir = new URL('../', import.meta.url).pathname;
const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['src/main.ts'], {
        cwd: operatorDir,
        env: { PATH: process.env['PATH'] ?? '', HOME: mkdtempSync(join(tmpdir(), 'sb-op-home-')), ...env },
        encoding: 'utf8',
        timeout: 60_000
    });

let cluster: Cluster;
before(async () => {
    cluster = await startCluster();
});
after(() => cluster.stop());

test('a bad variable is a configuration error naming it (exit 78), and nothing reaches the API server', () => {
    const before = cluster.api.requests.length;
    const bad = run({ KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_OPERATOR_RETRY_BASE_MS: 'soon' });
    assert.equal(bad.status, 78);
    assert.match(bad.stderr, /configuration error: .*SWITCHBOARD_OPERATOR_RETRY_BASE_MS/);
    const order = run({ KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_OPERATOR_LEASE_DURATION_MS: '1000', SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS: '2000' });
    assert.equal(order.status, 78);
    assert.match(order.stderr, /SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS must be below SWITCHBOARD_OPERATOR_LEASE_DURATION_MS/);
    const url = run({ KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_URL: 'not a url' });
    assert.equal(url.status, 78);
    assert.match(url.stderr, /SWITCHBOARD_URL/);
    const allowed = run({ KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS: 'http://ok.svc:3003,ftp://no' });
    assert.equal(allowed.status, 78);
    assert.match(allowed.stderr, /SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS/);
    const empty = join(mkdtempSync(join(tmpdir(), 'sb-kc-')), 'config');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const noCluster = run({ KUBECONFIG: empty });
    assert.equal(noCluster.status, 78);
    assert.match(noCluster.stderr, /no Kubernetes cluster/);
    assert.equal(cluster.api.requests.length, before);
});

test('a good configuration serves /healthz and /readyz and takes the Lease', async () => {
    const op = await startOperator({ KUBECONFIG: cluster.kubeconfig, POD_NAME: 'health-check' });
    try {
        const port = Number(/"healthPort":(\d+)/.exec(op.output())![1]);
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(health.status, 200);
        await eventually('leading', async () =>
            ((await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { leader: boolean }).leader ? true : undefined
        );
        assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
        await op.stop();
    }
});
