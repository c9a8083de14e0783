import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../../server/test/support/server.ts';
import { condition, eventsFor, getResource, nango, native, startCluster, type Cluster, type Resource } from './support/cluster.ts';
import { eventually, startOperator, type RunningOperator } from './support/operator.ts';

// Which resource owns which integration, what deleting and renaming remove, Secrets read by name, and the
// annotations that are new work. Failed reconciles back off for ten minutes here, so anything that recovers within
// a test was started by the change the test made, not by a retry.

let cluster: Cluster;
let broker: TestServer;
let operator: RunningOperator;

type Integration = { provider: string; display_name: string; custom?: Record<string, string> | null; credentials: Record<string, string | null> };
const brokerGet = async (key: string): Promise<Integration | null> => {
    const res = await fetch(`${broker.url}/integrations/${encodeURIComponent(key)}?include=credentials&include=config`, {
        headers: { authorization: `Bearer ${broker.secretKey}` }
    });
    return res.status === 404 ? null : ((await res.json()) as { data: Integration }).data;
};

const putSecret = async (namespace: string, name: string, stringData: Record<string, string>) => {
    const data = Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    // Created without reading first, so the API's request log shows only the operator's reads of a new Secret.
    try {
        await cluster.core.createNamespacedSecret({ namespace, body: { metadata: { name }, data } });
    } catch {
        const s = await cluster.core.readNamespacedSecret({ namespace, name });
        await cluster.core.replaceNamespacedSecret({ namespace, name, body: { ...s, data } });
    }
};

const nangoResource = (namespace: string, name: string, uniqueKey: string, displayName: string): Resource => ({
    apiVersion: 'nango.nango.dev/v1alpha1',
    kind: 'NangoIntegration',
    metadata: { name, namespace },
    spec: {
        unique_key: uniqueKey,
        provider: 'github',
        display_name: displayName,
        credentials: { type: 'OAUTH2', client_id: `id-${name}`, client_secret: `s-${name}` }
    }
});

const edit = async (kind: typeof nango, namespace: string, name: string, change: (r: Resource) => Resource) => {
    const r = (await getResource(cluster, kind, name, namespace))!;
    await cluster.custom.replaceNamespacedCustomObject({ ...kind, namespace, name, body: change(r) });
};

const readyAt = (kind: typeof nango, namespace: string, name: string, check: (r: Resource) => boolean = () => true) =>
    eventually(`${namespace}/${name} Ready`, async () => {
        const r = await getResource(cluster, kind, name, namespace);
        return r && condition(r, 'Ready')?.status === 'True' && check(r) ? r : undefined;
    });

const failedAt = (kind: typeof nango, namespace: string, name: string, reason: string) =>
    eventually(`${namespace}/${name} ${reason}`, async () => {
        const r = await getResource(cluster, kind, name, namespace);
        return condition(r, 'IntegrationCreationFailed')?.reason === reason && condition(r, 'IntegrationCreationFailed')?.status === 'True' ? r : undefined;
    });

const gone = (kind: typeof nango, namespace: string, name: string) =>
    eventually(`${namespace}/${name} gone`, async () => ((await getResource(cluster, kind, name, namespace)) === undefined ? true : undefined));

before(async () => {
    cluster = await startCluster();
    for (const name of ['team-a', 'team-b']) await cluster.core.createNamespace({ body: { metadata: { name } } });
    broker = await startServer();
    operator = await startOperator({
        KUBECONFIG: cluster.kubeconfig,
        SWITCHBOARD_URL: broker.url,
        SWITCHBOARD_SECRET_KEY: broker.secretKey,
        SWITCHBOARD_OPERATOR_RETRY_BASE_MS: '600000',
        SWITCHBOARD_OPERATOR_RETRY_MAX_MS: '600000'
    });
});
after(async () => {
    await operator?.stop();
    await broker?.stop();
    await cluster?.stop();
});

test('security: a resource in another namespace naming the same unique key is refused, and cannot change or delete the owner’s integration', async () => {
    await cluster.objects.create(nangoResource('team-a', 'github', 'shared-key', 'Team A'));
    const a = await readyAt(nango, 'team-a', 'github');
    const owned = await brokerGet('shared-key');
    assert.equal(owned?.custom?.['k8s_owner'], a.metadata!.uid);
    assert.equal(owned?.custom?.['k8s_owner_ref'], 'NangoIntegration/team-a/github');

    // team-b first holds an integration of its own, so its finalizer is set when it turns to team-a's key.
    await cluster.objects.create(nangoResource('team-b', 'github', 'team-b-own', 'Team B'));
    await readyAt(nango, 'team-b', 'github');
    await edit(nango, 'team-b', 'github', (r) => ({
        ...r,
        spec: { ...r.spec, unique_key: 'shared-key', credentials: { type: 'OAUTH2', client_id: 'b', client_secret: 'b' } }
    }));
    const refused = await failedAt(nango, 'team-b', 'github', 'OwnedByAnother');
    assert.equal(refused.status?.status, 'Failed');
    assert.match(refused.status!.error_message!, /integration "shared-key" in the broker belongs to another Kubernetes resource/);
    // Not named to team-b: team-a's namespace stays out of team-b's status.
    assert.doesNotMatch(refused.status!.error_message!, /team-a/);
    assert.ok((await eventsFor(cluster, 'github', 'team-b')).some((e) => e.type === 'Warning' && e.reason === 'OwnedByAnother'));
    const after = await brokerGet('shared-key');
    assert.equal(after?.display_name, 'Team A');
    assert.equal(after?.credentials['client_id'], 'id-github');
    assert.equal(after?.custom?.['k8s_owner'], a.metadata!.uid);
    // What team-b applied before stays until it is deleted.
    assert.equal((await brokerGet('team-b-own'))?.display_name, 'Team B');

    // Deleting team-b removes what it owns, and not team-a's integration that its spec names now.
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'team-b', name: 'github' });
    await gone(nango, 'team-b', 'github');
    assert.equal(await brokerGet('team-b-own'), null);
    const kept = await brokerGet('shared-key');
    assert.equal(kept?.display_name, 'Team A');
    assert.equal(kept?.custom?.['k8s_owner'], a.metadata!.uid);
    assert.ok((await eventsFor(cluster, 'github', 'team-b')).some((e) => e.reason === 'IntegrationKept'));
    // A resource created with the key from the start is refused too, and its deletion leaves team-a's integration.
    await cluster.objects.create(nangoResource('team-b', 'github-2', 'shared-key', 'Team B again'));
    const second = await failedAt(nango, 'team-b', 'github-2', 'OwnedByAnother');
    assert.equal(second.metadata?.finalizers, undefined);
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'team-b', name: 'github-2' });
    await gone(nango, 'team-b', 'github-2');
    assert.equal((await brokerGet('shared-key'))?.display_name, 'Team A');
    // team-a is untouched throughout.
    assert.equal(condition(await getResource(cluster, nango, 'github', 'team-a'), 'Ready')?.status, 'True');
});

test('an invalid spec holds no finalizer: it is deleted at once', async () => {
    const bad = nangoResource('team-a', 'invalid', 'invalid-key', 'Invalid');
    bad.spec['credentials'] = { type: 'OAUTH2', client_id: 'only-an-id' };
    await cluster.objects.create(bad);
    const failed = await failedAt(nango, 'team-a', 'invalid', 'InvalidSpec');
    assert.match(failed.status!.error_message!, /spec\.credentials\.client_secret/);
    assert.equal(failed.metadata?.finalizers, undefined);
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'team-a', name: 'invalid' });
    await gone(nango, 'team-a', 'invalid');
    assert.equal(await brokerGet('invalid-key'), null);
});

test('deleting a resource whose key Secret is gone (as when its namespace is deleted) does not hang: the finalizer goes, with a Warning', async () => {
    await putSecret('team-a', 'broker-key', { 'secret-key': broker.secretKey });
    await putSecret('team-a', 'slack-oauth', { client_id: 'slack-id', client_secret: 'slack-secret' });
    await cluster.objects.create({
        apiVersion: 'switchboard.dev/v1alpha1',
        kind: 'SwitchboardIntegration',
        metadata: { name: 'slack', namespace: 'team-a' },
        spec: {
            uniqueKey: 'slack-team-a',
            provider: 'slack',
            credentials: { type: 'OAUTH2', secretRef: { name: 'slack-oauth' } },
            broker: { url: broker.url, secretKeyRef: { name: 'broker-key' } }
        }
    });
    const ready = await readyAt(native, 'team-a', 'slack');
    assert.ok(ready.metadata?.finalizers?.includes('switchboard.dev/integration'));
    assert.deepEqual(ready.status?.applied, { uniqueKey: 'slack-team-a', brokerUrl: broker.url });
    // The Secrets go first (a namespace's deletion takes them in no set order), then the resource.
    await cluster.core.deleteNamespacedSecret({ namespace: 'team-a', name: 'broker-key' });
    await cluster.core.deleteNamespacedSecret({ namespace: 'team-a', name: 'slack-oauth' });
    await cluster.custom.deleteNamespacedCustomObject({ ...native, namespace: 'team-a', name: 'slack' });
    await gone(native, 'team-a', 'slack');
    const left = (await eventsFor(cluster, 'slack', 'team-a')).find((e) => e.reason === 'IntegrationLeft');
    assert.equal(left?.type, 'Warning');
    assert.match(left!.message!, /integration "slack-team-a" at .* is left in the broker/);
    // The operator did not fall back to its own key: the integration is still there.
    assert.equal((await brokerGet('slack-team-a'))?.provider, 'slack');
});

test('changing the unique key moves the integration: the new one is made, the old one deleted, status.applied follows', async () => {
    await cluster.objects.create(nangoResource('team-a', 'renamed', 'rename-1', 'Renamed'));
    await readyAt(nango, 'team-a', 'renamed');
    await edit(nango, 'team-a', 'renamed', (r) => ({ ...r, spec: { ...r.spec, unique_key: 'rename-2' } }));
    const moved = await readyAt(nango, 'team-a', 'renamed', (r) => r.status?.applied?.uniqueKey === 'rename-2');
    assert.deepEqual(moved.status?.applied, { uniqueKey: 'rename-2', brokerUrl: broker.url });
    assert.equal((await brokerGet('rename-2'))?.display_name, 'Renamed');
    assert.equal(await brokerGet('rename-1'), null);
    assert.ok((await eventsFor(cluster, 'renamed', 'team-a')).some((e) => e.reason === 'PreviousIntegrationDeleted' && /rename-1/.test(e.message ?? '')));
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'team-a', name: 'renamed' });
    await gone(nango, 'team-a', 'renamed');
    assert.equal(await brokerGet('rename-2'), null);
});

test('adding switchboard.dev/allow-replace is picked up at once, not at the next retry or resync', async () => {
    await cluster.objects.create(nangoResource('team-a', 'replace-me', 'replace-me', 'Replace me'));
    await readyAt(nango, 'team-a', 'replace-me');
    await edit(nango, 'team-a', 'replace-me', (r) => ({ ...r, spec: { ...r.spec, provider: 'gitlab' } }));
    const refused = await eventually('replace refused', async () => {
        const r = await getResource(cluster, nango, 'replace-me', 'team-a');
        return condition(r, 'Ready')?.status === 'False' && /allow-replace/.test(r?.status?.error_message ?? '') ? r : undefined;
    });
    assert.equal(condition(refused, 'IntegrationCreationFailed')?.reason, 'BrokerRejected');
    assert.equal((await brokerGet('replace-me'))?.provider, 'github');
    await edit(nango, 'team-a', 'replace-me', (r) => ({
        ...r,
        metadata: { ...r.metadata, annotations: { ...r.metadata?.annotations, 'switchboard.dev/allow-replace': 'true' } }
    }));
    await readyAt(nango, 'team-a', 'replace-me', (r) => condition(r, 'Ready')?.reason === 'IntegrationReplaced');
    assert.equal((await brokerGet('replace-me'))?.provider, 'gitlab');
});

test('Secrets: only the referenced ones are read, by name; none is listed or watched; a rotation is applied on the next reconcile', async () => {
    await putSecret('team-b', 'unrelated', { password: 'not-for-the-operator' });
    await putSecret('team-b', 'notion-oauth', { client_id: 'notion-1', client_secret: 'notion-secret-1' });
    await cluster.objects.create({
        apiVersion: 'switchboard.dev/v1alpha1',
        kind: 'SwitchboardIntegration',
        metadata: { name: 'notion', namespace: 'team-b' },
        spec: { uniqueKey: 'notion-team-b', provider: 'notion', credentials: { type: 'OAUTH2', secretRef: { name: 'notion-oauth' } } }
    });
    await readyAt(native, 'team-b', 'notion');
    assert.equal((await brokerGet('notion-team-b'))?.credentials['client_id'], 'notion-1');
    await putSecret('team-b', 'notion-oauth', { client_id: 'notion-2', client_secret: 'notion-secret-2' });
    // Any switchboard.dev/ annotation is new work: the rotated Secret is read now instead of at the next resync.
    await edit(native, 'team-b', 'notion', (r) => ({ ...r, metadata: { ...r.metadata, annotations: { 'switchboard.dev/rotated': '1' } } }));
    await eventually('rotated', async () => ((await brokerGet('notion-team-b'))?.credentials['client_id'] === 'notion-2' ? true : undefined));
    // No list and no watch of Secrets, in any namespace or across all of them.
    assert.deepEqual(
        cluster.api.requests.filter((r) => /^GET \/api\/v1\/(namespaces\/[^/]+\/)?secrets(\?|$)/.test(r)),
        []
    );
    // A Secret no resource names is never read.
    assert.deepEqual(
        cluster.api.requests.filter((r) => r.includes('/secrets/unrelated')),
        []
    );
    // The ones named are read by name.
    assert.ok(cluster.api.requests.includes('GET /api/v1/namespaces/team-b/secrets/notion-oauth'));
    assert.doesNotMatch(operator.output(), /notion-secret|not-for-the-operator/);
});
