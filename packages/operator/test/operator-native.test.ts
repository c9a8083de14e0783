import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../../server/test/support/server.ts';
import { condition, eventsFor, getResource, native, startCluster, type Cluster } from './support/cluster.ts';
import { eventually, freePort, startOperator, type RunningOperator } from './support/operator.ts';

// SwitchboardIntegration: credentials and the broker's key from Secrets. The operator has no default broker here,
// so everything it does comes from the resource and its Secrets.

let cluster: Cluster;
let broker: TestServer;
let operator: RunningOperator;
let port: number;
let dataDir: string;
const secretKey = crypto.randomUUID();
const adminKey = `admin-${crypto.randomUUID()}`;

// Fixed port, data folder and keys, so the broker can be stopped and started again at the same URL.
const startBroker = () =>
    startServer({
        PORT: String(port),
        SWITCHBOARD_SECRET_KEY: secretKey,
        SWITCHBOARD_ADMIN_KEY: adminKey,
        ...(dataDir ? { SWITCHBOARD_DATA_DIR: dataDir } : {})
    });

const brokerGet = async (key: string) => {
    const res = await fetch(`${broker.url}/integrations/${encodeURIComponent(key)}?include=credentials`, { headers: { authorization: `Bearer ${secretKey}` } });
    return res.status === 404
        ? null
        : ((await res.json()) as { data: { provider: string; display_name: string; credentials: Record<string, string | null> } }).data;
};

const putSecret = async (name: string, stringData: Record<string, string>) => {
    const data = Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    try {
        const s = await cluster.core.readNamespacedSecret({ namespace: 'default', name });
        await cluster.core.replaceNamespacedSecret({ namespace: 'default', name, body: { ...s, data } });
    } catch {
        await cluster.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name }, data } });
    }
};

before(async () => {
    port = await freePort();
    cluster = await startCluster();
    broker = await startBroker();
    dataDir = broker.dataDir;
    // A short resync: Secrets are read at each reconcile, not watched, so a rotation is applied at the next one.
    operator = await startOperator({ KUBECONFIG: cluster.kubeconfig, SWITCHBOARD_OPERATOR_RESYNC_MS: '1000' });
    await putSecret('broker-key', { 'secret-key': secretKey });
    await putSecret('slack-oauth', { client_id: 'slack-id-1', client_secret: 'slack-secret-1' });
});
after(async () => {
    await operator?.stop();
    await broker?.stop();
    await cluster?.stop();
});

const resource = (name: string, uniqueKey: string) => ({
    apiVersion: 'switchboard.dev/v1alpha1',
    kind: 'SwitchboardIntegration',
    metadata: { name, namespace: 'default' },
    spec: {
        uniqueKey,
        provider: 'slack',
        displayName: 'Slack',
        credentials: { type: 'OAUTH2', scopes: ['chat:write', 'channels:read'], secretRef: { name: 'slack-oauth' } },
        broker: { url: broker.url, secretKeyRef: { name: 'broker-key' } }
    }
});

const readyAt = (name: string, check: (r: Awaited<ReturnType<typeof getResource>>) => boolean = () => true) =>
    eventually(`${name} Ready`, async () => {
        const r = await getResource(cluster, native, name);
        return condition(r, 'Ready')?.status === 'True' && check(r) ? r : undefined;
    });

test('create from Secret references: the credentials and the key come from the Secrets', async () => {
    await cluster.objects.create(resource('slack', 'slack-team'));
    const r = await readyAt('slack');
    assert.equal(r.status?.status, 'Created');
    const i = await brokerGet('slack-team');
    assert.equal(i?.provider, 'slack');
    assert.equal(i?.credentials['client_id'], 'slack-id-1');
    assert.equal(i?.credentials['client_secret'], 'slack-secret-1');
    assert.equal(i?.credentials['scopes'], 'chat:write,channels:read');
    assert.doesNotMatch(operator.output(), /slack-secret-1/);
    assert.doesNotMatch(operator.output(), new RegExp(secretKey));
});

test('rotating the Secret applies the new credentials at the next resync, without touching the resource', async () => {
    const before = (await getResource(cluster, native, 'slack'))!.metadata!.generation;
    await putSecret('slack-oauth', { client_id: 'slack-id-2', client_secret: 'slack-secret-2' });
    await eventually('rotated credentials in the broker', async () => {
        const i = await brokerGet('slack-team');
        return i?.credentials['client_id'] === 'slack-id-2' && i.credentials['client_secret'] === 'slack-secret-2' ? i : undefined;
    });
    const r = await readyAt('slack', (x) => condition(x, 'Ready')?.reason === 'IntegrationUpdated');
    assert.equal(r.metadata!.generation, before);
});

test('a missing Secret is a clear failure, and creating it recovers at the next retry', async () => {
    const spec = resource('slack-missing', 'slack-missing');
    spec.spec.credentials.secretRef.name = 'not-yet';
    await cluster.objects.create(spec);
    const failed = await eventually('SecretNotFound', async () => {
        const r = await getResource(cluster, native, 'slack-missing');
        return condition(r, 'IntegrationCreationFailed')?.status === 'True' ? r : undefined;
    });
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.reason, 'SecretNotFound');
    assert.match(failed.status!.error_message!, /Secret default\/not-yet does not exist/);
    await putSecret('not-yet', { client_id: 'a', client_secret: 'b' });
    await readyAt('slack-missing');
    assert.equal((await brokerGet('slack-missing'))?.credentials['client_id'], 'a');
});

test('broker down, then up: failure conditions, retries with backoff, then recovery', async () => {
    await broker.stop();
    // A change while the broker is down: the operator cannot apply it.
    const r = (await getResource(cluster, native, 'slack'))!;
    await cluster.custom.replaceNamespacedCustomObject({
        ...native,
        namespace: 'default',
        name: 'slack',
        body: { ...r, spec: { ...r.spec, displayName: 'Slack (down)' } }
    });
    const failed = await eventually('BrokerUnavailable', async () => {
        const x = await getResource(cluster, native, 'slack');
        return condition(x, 'Ready')?.status === 'False' ? x : undefined;
    });
    assert.equal(failed.status?.status, 'Failed');
    assert.equal(condition(failed, 'Ready')?.reason, 'BrokerUnavailable');
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.status, 'True');
    // It was created before, so it still exists: IntegrationCreated stays True.
    assert.equal(condition(failed, 'IntegrationCreated')?.status, 'True');
    assert.match(failed.status!.error_message!, /could not be reached/);
    // Several tries while down, each recorded as a Warning event.
    await eventually('retries', async () =>
        (await eventsFor(cluster, 'slack')).filter((e) => e.reason === 'BrokerUnavailable').length >= 3 ? true : undefined
    );
    broker = await startBroker();
    const ok = await readyAt('slack', (x) => condition(x, 'IntegrationCreationFailed')?.status === 'False');
    assert.equal(ok.status?.status, 'Created');
    assert.equal(ok.status?.error_message, '');
    assert.equal((await brokerGet('slack-team'))?.display_name, 'Slack (down)');
});

test('deleting removes the integration through the finalizer', async () => {
    await cluster.custom.deleteNamespacedCustomObject({ ...native, namespace: 'default', name: 'slack' });
    await eventually('gone', async () => ((await getResource(cluster, native, 'slack')) === undefined ? true : undefined));
    assert.equal(await brokerGet('slack-team'), null);
    assert.equal((await brokerGet('slack-missing'))?.provider, 'slack');
});
