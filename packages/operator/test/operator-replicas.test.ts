import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { createTestDatabase, startServer, testEncryptionKey, type TestServer } from '../../server/test/support/server.ts';
import { condition, eventsFor, getResource, nango, startCluster, type Cluster } from './support/cluster.ts';
import { eventually, startOperator, type RunningOperator } from './support/operator.ts';

// Two replicas of the operator on one Lease: only the leader reconciles; when it stops, the other takes over.
// The broker here runs on PostgreSQL (the other operator suites use the embedded default).

let cluster: Cluster;
let broker: TestServer;
let a: RunningOperator;
let b: RunningOperator;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
// Long enough that a leader slowed down by a busy machine still renews in time (a takeover would be correct, but
// would make "only the leader" untestable); short enough that the expiry test waits only seconds.
const leaseTimes = { SWITCHBOARD_OPERATOR_LEASE_DURATION_MS: '8000', SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS: '6000' };

before(async () => {
    db = await createTestDatabase();
    cluster = await startCluster();
    broker = await startServer({ SWITCHBOARD_DATABASE_URL: db.url, SWITCHBOARD_ENCRYPTION_KEY: testEncryptionKey() });
    const env = { KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_URL: broker.url, SWITCHBOARD_SECRET_KEY: broker.secretKey, ...leaseTimes };
    [a, b] = await Promise.all([startOperator({ ...env, POD_NAME: 'replica-a' }), startOperator({ ...env, POD_NAME: 'replica-b' })]);
});
after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await broker?.stop();
    await cluster?.stop();
    await db?.drop();
});

const integration = (name: string) => ({
    apiVersion: 'nango.nango.dev/v1alpha1',
    kind: 'NangoIntegration',
    metadata: { name, namespace: 'default' },
    spec: { unique_key: name, provider: 'github', credentials: { type: 'OAUTH2', client_id: `id-${name}`, client_secret: `secret-${name}` } }
});

const ready = (name: string) =>
    eventually(`${name} Ready`, async () => {
        const r = await getResource(cluster, nango, name);
        return condition(r, 'Ready')?.status === 'True' ? r : undefined;
    });

test('one leader holds the Lease and does all the work; the standby writes nothing', async () => {
    const coordination = cluster.kc.makeApiClient(CoordinationV1Api);
    const holder = await eventually(
        'a lease holder',
        async () => (await coordination.readNamespacedLease({ namespace: 'default', name: 'switchboard-operator' })).spec?.holderIdentity
    );
    const leader = holder === 'replica-a' ? a : b;
    const standby = leader === a ? b : a;
    for (const n of ['one', 'two', 'three']) await cluster.objects.create(integration(n));
    for (const n of ['one', 'two', 'three']) await ready(n);
    const events = (await Promise.all(['one', 'two', 'three'].map((n) => eventsFor(cluster, n)))).flat();
    assert.ok(events.length >= 3);
    assert.deepEqual([...new Set(events.map((e) => e.reportingInstance))], [leader.identity]);
    assert.match(leader.output(), /"msg":"controller started"/);
    assert.doesNotMatch(standby.output(), /became leader|controller started|reconcile/);

    // The leader goes away (it releases the Lease on SIGTERM): the standby takes over and reconciles new work.
    await leader.stop();
    await eventually('standby leads', async () =>
        (await coordination.readNamespacedLease({ namespace: 'default', name: 'switchboard-operator' })).spec?.holderIdentity === standby.identity
            ? true
            : undefined
    );
    await cluster.objects.create(integration('four'));
    await ready('four');
    assert.ok((await eventsFor(cluster, 'four')).every((e) => e.reportingInstance === standby.identity));
    const lease = await coordination.readNamespacedLease({ namespace: 'default', name: 'switchboard-operator' });
    assert.ok((lease.spec?.leaseTransitions ?? 0) >= 1);
});

test('a leader killed without releasing the Lease is replaced once the Lease expires', async () => {
    const coordination = cluster.kc.makeApiClient(CoordinationV1Api);
    const current = (await coordination.readNamespacedLease({ namespace: 'default', name: 'switchboard-operator' })).spec?.holderIdentity;
    const leader = current === a.identity ? a : b;
    await leader.stop('SIGKILL');
    const env = { KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_URL: broker.url, SWITCHBOARD_SECRET_KEY: broker.secretKey, ...leaseTimes };
    const c = await startOperator({ ...env, POD_NAME: 'replica-c' });
    try {
        await eventually('replica-c leads', async () =>
            (await coordination.readNamespacedLease({ namespace: 'default', name: 'switchboard-operator' })).spec?.holderIdentity === 'replica-c'
                ? true
                : undefined
        );
        await cluster.objects.create(integration('five'));
        await ready('five');
        assert.ok((await eventsFor(cluster, 'five')).every((e) => e.reportingInstance === 'replica-c'));
    } finally {
        await c.stop();
    }
});
