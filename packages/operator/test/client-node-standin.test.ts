import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { ApiException, CoordinationV1Api, makeInformer, Watch } from '@kubernetes/client-node';
import { condition, getResource, loadYaml, nango, startCluster, type Cluster, type Resource } from './support/cluster.ts';
import { eventually } from './support/operator.ts';

// The stand-in's fidelity, checked with the other real client: @kubernetes/client-node gets through every call the
// operator makes, and sees the API server's semantics (409, 410, bookmarks, finalizers, the status subresource).

let cluster: Cluster;
before(async () => {
    cluster = await startCluster();
});
after(() => cluster.stop());

const seedPath = new URL('./fixtures/github-integration.yaml', import.meta.url).pathname;
const ns = { ...nango, namespace: 'default' };
const code = async (p: Promise<unknown>) => {
    try {
        await p;
        return 0;
    } catch (err) {
        assert.ok(err instanceof ApiException, String(err));
        return err.code;
    }
};

test('the CRDs from deploy/ are served: discovery lists the kind and the seed is created, read and listed', async () => {
    const created = (await cluster.objects.create(loadYaml(seedPath)[0]!)) as Resource;
    assert.equal(created.metadata?.generation, 1);
    assert.ok(created.metadata?.uid && created.metadata.resourceVersion);
    const read = (await cluster.objects.read({
        apiVersion: 'nango.nango.dev/v1alpha1',
        kind: 'NangoIntegration',
        metadata: { name: 'github-integration', namespace: 'default' }
    })) as Resource;
    assert.equal(read.spec['unique_key'], 'github-my-app');
    const list = (await cluster.custom.listCustomObjectForAllNamespaces({ ...nango, resourcePlural: nango.plural })) as {
        items: Resource[];
        metadata: { resourceVersion: string };
    };
    assert.deepEqual(
        list.items.map((i) => i.metadata?.name),
        ['github-integration']
    );
    assert.ok(Number(list.metadata.resourceVersion) >= Number(created.metadata?.resourceVersion));
    assert.equal(await code(cluster.objects.create(loadYaml(seedPath)[0]!)), 409); // AlreadyExists
});

test('a write with a stale resourceVersion is 409 Conflict', async () => {
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    await cluster.custom.replaceNamespacedCustomObject({ ...ns, name: 'github-integration', body: { ...r, spec: { ...r.spec, display_name: 'first' } } });
    assert.equal(
        await code(
            cluster.custom.replaceNamespacedCustomObject({ ...ns, name: 'github-integration', body: { ...r, spec: { ...r.spec, display_name: 'second' } } })
        ),
        409
    );
    const now = (await getResource(cluster, nango, 'github-integration'))!;
    assert.equal(now.spec['display_name'], 'first');
    assert.equal(now.metadata?.generation, 2);
});

test('the status subresource: the main resource ignores .status, /status ignores the spec, and status writes keep the generation', async () => {
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    const status = { status: 'Created', conditions: [{ type: 'Ready', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    const viaMain = (await cluster.custom.replaceNamespacedCustomObject({ ...ns, name: 'github-integration', body: { ...r, status } })) as Resource;
    assert.equal(viaMain.status, undefined);
    const viaStatus = (await cluster.custom.replaceNamespacedCustomObjectStatus({
        ...ns,
        name: 'github-integration',
        body: { ...viaMain, spec: { ...viaMain.spec, provider: 'changed' }, status }
    })) as Resource;
    assert.equal(viaStatus.spec['provider'], 'github');
    assert.equal(condition(viaStatus, 'Ready')?.status, 'True');
    assert.equal(viaStatus.metadata?.generation, r.metadata?.generation);
});

test('watch: events after a resourceVersion, and bookmarks when allowed', async () => {
    const start = (await getResource(cluster, nango, 'github-integration'))!.metadata!.resourceVersion!;
    const seen: string[] = [];
    const watch = new Watch(cluster.kc);
    const req = await watch.watch(
        '/apis/nango.nango.dev/v1alpha1/namespaces/default/nangointegrations',
        { resourceVersion: start, allowWatchBookmarks: true },
        (type, obj: Resource) => seen.push(`${type}:${obj.metadata?.name ?? ''}:${type === 'BOOKMARK' ? 'rv' : (obj.spec?.['display_name'] ?? '')}`),
        () => undefined
    );
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    await cluster.custom.replaceNamespacedCustomObject({ ...ns, name: 'github-integration', body: { ...r, spec: { ...r.spec, display_name: 'watched' } } });
    await eventually('a MODIFIED event and a bookmark', async () =>
        seen.includes('MODIFIED:github-integration:watched') && seen.some((s) => s.startsWith('BOOKMARK')) ? true : undefined
    );
    req.abort();
});

test('a watch from a compacted resourceVersion gets 410 Gone; an informer relists and carries on', async () => {
    const informer = makeInformer<Resource>(cluster.kc, '/apis/nango.nango.dev/v1alpha1/nangointegrations', () =>
        cluster.custom.listCustomObjectForAllNamespaces({ ...nango, resourcePlural: nango.plural })
    );
    const names: string[] = [];
    informer.on('add', (o) => names.push(`add:${o.metadata?.name}`));
    await informer.start();
    const old = (await getResource(cluster, nango, 'github-integration'))!.metadata!.resourceVersion!;
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    await cluster.custom.replaceNamespacedCustomObject({
        ...ns,
        name: 'github-integration',
        body: { ...r, spec: { ...r.spec, display_name: 'before compaction' } }
    });
    cluster.api.compact();

    const events: Array<{ type: string; code?: number }> = [];
    const watch = new Watch(cluster.kc);
    await new Promise<void>((resolve) => {
        void watch.watch(
            '/apis/nango.nango.dev/v1alpha1/namespaces/default/nangointegrations',
            { resourceVersion: old },
            (type, obj: { code?: number }) => events.push({ type, code: obj.code }),
            () => resolve()
        );
    });
    assert.deepEqual(events, [{ type: 'ERROR', code: 410 }]);

    // The informer's watch is cut (as on an API server restart) and, before it reconnects, a change happens and the
    // history is compacted: its resume point is gone, so it must list again.
    const lists = () => cluster.api.requests.filter((l) => l === 'GET /apis/nango.nango.dev/v1alpha1/nangointegrations').length;
    const listsBefore = lists();
    cluster.api.dropWatches();
    const other = loadYaml(seedPath)[0] as Resource;
    other.metadata!.name = 'after-compaction';
    cluster.api.store.create(cluster.api.typeOf('nango.nango.dev', 'nangointegrations')!, 'default', other as never);
    cluster.api.compact();
    await eventually('informer sees the new object', async () => (informer.get('after-compaction', 'default') ? true : undefined));
    assert.ok(lists() > listsBefore, 'the informer listed again after the 410');
    await informer.stop();
    await cluster.objects.delete(other);
});

test('finalizers: DELETE marks the object, and removing the last finalizer deletes it', async () => {
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    await cluster.custom.replaceNamespacedCustomObject({
        ...ns,
        name: 'github-integration',
        body: { ...r, metadata: { ...r.metadata, finalizers: ['example.com/hold'] } }
    });
    await cluster.custom.deleteNamespacedCustomObject({ ...ns, name: 'github-integration' });
    const marked = (await getResource(cluster, nango, 'github-integration'))!;
    assert.ok(marked.metadata?.deletionTimestamp);
    assert.deepEqual(marked.metadata?.finalizers, ['example.com/hold']);
    // No new finalizer may be added once deletion started.
    assert.equal(
        await code(
            cluster.custom.replaceNamespacedCustomObject({
                ...ns,
                name: 'github-integration',
                body: { ...marked, metadata: { ...marked.metadata, finalizers: ['example.com/hold', 'x/y'] } }
            })
        ),
        409
    );
    await cluster.custom.replaceNamespacedCustomObject({
        ...ns,
        name: 'github-integration',
        body: { ...marked, metadata: { ...marked.metadata, finalizers: [] } }
    });
    assert.equal(await getResource(cluster, nango, 'github-integration'), undefined);
});

test('Secrets, Events and Leases: what the operator reads and writes', async () => {
    await cluster.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's' }, data: { k: Buffer.from('v').toString('base64') } } });
    const s = await cluster.core.readNamespacedSecret({ namespace: 'default', name: 's' });
    assert.equal(Buffer.from(s.data!['k']!, 'base64').toString(), 'v');
    await cluster.core.createNamespacedEvent({
        namespace: 'default',
        body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Secret', name: 's', namespace: 'default' }, reason: 'Test', message: 'm', type: 'Normal' }
    });
    assert.equal((await cluster.core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.reason === 'Test').length, 1);
    const coordination = cluster.kc.makeApiClient(CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({
        namespace: 'default',
        body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 5, renewTime: new Date() } }
    });
    await coordination.replaceNamespacedLease({ namespace: 'default', name: 'l', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
    assert.equal(
        await code(coordination.replaceNamespacedLease({ namespace: 'default', name: 'l', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } })),
        409
    );
    assert.equal((await coordination.readNamespacedLease({ namespace: 'default', name: 'l' })).spec?.holderIdentity, 'b');
    assert.equal(await code(cluster.core.createNamespacedSecret({ namespace: 'nowhere', body: { metadata: { name: 's' } } })), 404);
});

test('without the bearer token the API answers 401', async () => {
    const status = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
            https
                .get(`${cluster.api.url}/api/v1/namespaces/default/secrets`, { ca: cluster.api.caPem, headers }, (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                })
                .on('error', reject);
        });
    assert.equal(await status({}), 401);
    assert.equal(await status({ authorization: 'Bearer wrong' }), 401);
    assert.equal(await status({ authorization: `Bearer ${cluster.api.token}` }), 200);
});
