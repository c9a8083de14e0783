import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../../server/test/support/server.ts';
import { condition, eventsFor, getResource, loadYaml, nango, startCluster, type Cluster, type Resource } from './support/cluster.ts';
import { kubectl } from './support/kubectl.ts';
import { eventually, startOperator, type RunningOperator } from './support/operator.ts';

// The operator against the Kubernetes API stand-in and a real Switchboard (spawned, embedded storage): the
// NangoIntegration resource exactly as its users write it.

let cluster: Cluster;
let broker: TestServer;
let operator: RunningOperator;
// A server the operator must never call: it records every request it gets.
let attacker: { url: string; requests: string[]; server: Server };

const brokerGet = async (key: string) => {
    const res = await fetch(`${broker.url}/integrations/${encodeURIComponent(key)}?include=credentials`, {
        headers: { authorization: `Bearer ${broker.secretKey}` }
    });
    return res.status === 404
        ? null
        : ((await res.json()) as { data: { provider: string; display_name: string; credentials: Record<string, string | null> } }).data;
};

before(async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
        requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    attacker = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
    cluster = await startCluster();
    broker = await startServer();
    // A short resync so that a change made in the broker itself is seen within the test.
    operator = await startOperator({
        KUBECONFIG: cluster.kubeconfig,
        SWITCHBOARD_URL: broker.url,
        SWITCHBOARD_SECRET_KEY: broker.secretKey,
        SWITCHBOARD_OPERATOR_RESYNC_MS: '1000',
        SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS: broker.url
    });
});
after(async () => {
    await operator?.stop();
    await broker?.stop();
    await cluster?.stop();
    attacker?.server.close();
});

const seedPath = new URL('./fixtures/github-integration.yaml', import.meta.url).pathname;
const seed = () => loadYaml(seedPath)[0] as Resource;

test('create (kubectl apply -f): the integration exists in the broker, status Created and Ready, with an Event', async () => {
    const applied = await kubectl(cluster.kubeconfig, ['apply', '-f', seedPath]);
    assert.equal(applied.code, 0, applied.stderr);
    const ready = await eventually('Ready=True', async () => {
        const r = await getResource(cluster, nango, 'github-integration');
        return condition(r, 'Ready')?.status === 'True' ? r : undefined;
    });
    assert.equal(ready!.status!.status, 'Created');
    assert.equal(ready!.status!.error_message, '');
    assert.equal(condition(ready, 'IntegrationCreated')?.status, 'True');
    assert.equal(condition(ready, 'IntegrationCreationFailed')?.status, 'False');
    assert.equal(condition(ready, 'Ready')?.observedGeneration, 1);
    assert.equal(condition(ready, 'Ready')?.reason, 'IntegrationCreated');
    assert.ok(ready!.metadata!.finalizers?.includes('switchboard.dev/integration'));
    const inBroker = await brokerGet('github-my-app');
    assert.equal(inBroker?.provider, 'github');
    assert.equal(inBroker?.display_name, 'GitHub');
    assert.deepEqual(
        { ...inBroker?.credentials },
        { type: 'OAUTH2', client_id: 'gh-client-id', client_secret: 'gh-client-secret', scopes: 'repo,user', webhook_secret: null }
    );
    const events = await eventsFor(cluster, 'github-integration');
    assert.ok(events.some((e) => e.reason === 'IntegrationCreated' && e.type === 'Normal' && e.reportingInstance === operator.identity));
    // The operator never logs the client secret.
    assert.doesNotMatch(operator.output(), /gh-client-secret/);
    const table = await kubectl(cluster.kubeconfig, ['get', 'nangointegrations']);
    assert.match(table.stdout, /github-integration\s+github-my-app\s+github\s+Created/);
});

test('update: a spec change is applied; a change made in the broker behind its back is corrected', async () => {
    const r = (await getResource(cluster, nango, 'github-integration'))!;
    await cluster.custom.replaceNamespacedCustomObject({
        ...nango,
        namespace: 'default',
        name: 'github-integration',
        body: {
            ...r,
            spec: { ...r.spec, display_name: 'GitHub (prod)', credentials: { type: 'OAUTH2', client_id: 'gh-2', client_secret: 's-2', scopes: 'repo' } }
        }
    });
    await eventually('broker has the new spec', async () => {
        const i = await brokerGet('github-my-app');
        return i?.display_name === 'GitHub (prod)' && i.credentials['client_id'] === 'gh-2' ? i : undefined;
    });
    const updated = await eventually('observedGeneration 2', async () => {
        const x = await getResource(cluster, nango, 'github-integration');
        return condition(x, 'Ready')?.observedGeneration === 2 ? x : undefined;
    });
    assert.equal(condition(updated, 'Ready')?.reason, 'IntegrationUpdated');
    assert.equal(updated.status?.observedGeneration, 2);
    // Someone edits the integration in the broker directly: the next resync puts the resource's values back.
    const patched = await fetch(`${broker.url}/integrations/github-my-app`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${broker.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ display_name: 'edited by hand', credentials: { type: 'OAUTH2', client_id: 'hand', client_secret: 'hand' } })
    });
    assert.equal(patched.status, 200);
    await eventually('drift corrected', async () => {
        const i = await brokerGet('github-my-app');
        return i?.display_name === 'GitHub (prod)' && i.credentials['client_id'] === 'gh-2' && i.credentials['client_secret'] === 's-2' ? i : undefined;
    });
});

test('OAUTH1 credentials for an OAuth 2 provider: IntegrationCreationFailed with the broker’s reason, no crash', async () => {
    const bad = seed();
    bad.metadata!.name = 'github-oauth1';
    bad.spec = { ...bad.spec, unique_key: 'github-oauth1', credentials: { type: 'OAUTH1', client_id: 'x', client_secret: 'y', scopes: 'repo,user' } };
    await cluster.objects.create(bad);
    const failed = await eventually('IntegrationCreationFailed', async () => {
        const r = await getResource(cluster, nango, 'github-oauth1');
        return condition(r, 'IntegrationCreationFailed')?.status === 'True' ? r : undefined;
    });
    assert.equal(failed.status?.status, 'Failed');
    assert.match(failed.status!.error_message!, /Provider "github" uses OAUTH2; credentials of type OAUTH1 do not apply/);
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.reason, 'BrokerRejected');
    assert.equal(condition(failed, 'Ready')?.status, 'False');
    assert.equal(condition(failed, 'IntegrationCreated')?.status, 'False');
    assert.equal(await brokerGet('github-oauth1'), null);
    const events = await eventsFor(cluster, 'github-oauth1');
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'BrokerRejected'));
    // The operator is still up and still serves the other resource.
    assert.ok((await getResource(cluster, nango, 'github-integration'))?.status?.status === 'Created');
    // Fixing the type recovers.
    const r = (await getResource(cluster, nango, 'github-oauth1'))!;
    await cluster.custom.replaceNamespacedCustomObject({
        ...nango,
        namespace: 'default',
        name: 'github-oauth1',
        body: { ...r, spec: { ...r.spec, credentials: { type: 'OAUTH2', client_id: 'x', client_secret: 'y' } } }
    });
    await eventually('fixed resource Ready', async () => {
        const x = await getResource(cluster, nango, 'github-oauth1');
        return condition(x, 'Ready')?.status === 'True' && condition(x, 'IntegrationCreationFailed')?.status === 'False' ? x : undefined;
    });
    assert.equal((await brokerGet('github-oauth1'))?.provider, 'github');
});

test('nango_token and nango_base_url on the resource: the integration lands in that key’s environment only; a wrong key is refused', async () => {
    const made = await fetch(`${broker.url}/admin/environments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${broker.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'team-b' })
    });
    assert.equal(made.status, 201);
    const teamBKey = ((await made.json()) as { data: { secret_key: string } }).data.secret_key;
    const r = seed();
    r.metadata!.name = 'team-b';
    r.spec = { ...r.spec, unique_key: 'team-b-github', nango_token: teamBKey, nango_base_url: broker.url };
    await cluster.objects.create(r);
    await eventually('team-b Ready', async () => (condition(await getResource(cluster, nango, 'team-b'), 'Ready')?.status === 'True' ? true : undefined));
    const inB = await fetch(`${broker.url}/integrations/team-b-github`, { headers: { authorization: `Bearer ${teamBKey}` } });
    assert.equal(inB.status, 200);
    // Not in the operator's default environment.
    assert.equal(await brokerGet('team-b-github'), null);

    const wrong = seed();
    wrong.metadata!.name = 'wrong-key';
    wrong.spec = { ...wrong.spec, unique_key: 'wrong-key', nango_token: 'not-a-key-of-this-broker' };
    await cluster.objects.create(wrong);
    const failed = await eventually('wrong key refused', async () => {
        const x = await getResource(cluster, nango, 'wrong-key');
        return condition(x, 'IntegrationCreationFailed')?.status === 'True' ? x : undefined;
    });
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.reason, 'BrokerRejected');
    assert.match(failed.status!.error_message!, /401/);
    assert.equal(await brokerGet('wrong-key'), null);
    // The key is never echoed into the status, the Events or the logs.
    assert.doesNotMatch(JSON.stringify(failed.status), /not-a-key-of-this-broker/);
    assert.doesNotMatch(JSON.stringify(await eventsFor(cluster, 'wrong-key')), /not-a-key-of-this-broker/);
    assert.doesNotMatch(operator.output(), new RegExp(`${teamBKey}|not-a-key-of-this-broker`));
    // Nothing was created, so nothing holds the resource: deleting it does not wait for the broker (regression:
    // the finalizer was added before the first broker call and held such a resource until the key was corrected).
    assert.equal(failed.metadata?.finalizers, undefined);
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'default', name: 'wrong-key' });
    await eventually('wrong-key gone', async () => ((await getResource(cluster, nango, 'wrong-key')) === undefined ? true : undefined));
    assert.ok(!(await eventsFor(cluster, 'wrong-key')).some((e) => e.reason === 'DeletionFailed'));
});

test('security: a resource naming another broker without its key is refused, and the operator’s key is never sent there', async () => {
    const r = seed();
    r.metadata!.name = 'elsewhere';
    r.spec = { ...r.spec, unique_key: 'elsewhere', nango_base_url: attacker.url };
    await cluster.objects.create(r);
    const failed = await eventually('BrokerKeyRequired', async () => {
        const x = await getResource(cluster, nango, 'elsewhere');
        return condition(x, 'IntegrationCreationFailed')?.status === 'True' ? x : undefined;
    });
    assert.equal(failed.status?.status, 'Failed');
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.reason, 'BrokerKeyRequired');
    assert.match(failed.status!.error_message!, /spec\.nango_base_url names a broker other than the operator's: give that broker's key in spec\.nango_token/);
    // The other server never heard from the operator: no request, so no key.
    assert.deepEqual(attacker.requests, []);
    assert.equal(await brokerGet('elsewhere'), null);
    assert.equal(failed.metadata?.finalizers, undefined);
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'default', name: 'elsewhere' });
    await eventually('elsewhere gone', async () => ((await getResource(cluster, nango, 'elsewhere')) === undefined ? true : undefined));
    assert.deepEqual(attacker.requests, []);
});

test('security: with SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS, a URL off the list is refused even with its own key, before any request', async () => {
    const r = seed();
    r.metadata!.name = 'off-list';
    r.spec = { ...r.spec, unique_key: 'off-list', nango_base_url: `${attacker.url}/`, nango_token: 'a-key-for-that-server' };
    await cluster.objects.create(r);
    const failed = await eventually('BrokerURLNotAllowed', async () => {
        const x = await getResource(cluster, nango, 'off-list');
        return condition(x, 'IntegrationCreationFailed')?.status === 'True' ? x : undefined;
    });
    assert.equal(condition(failed, 'IntegrationCreationFailed')?.reason, 'BrokerURLNotAllowed');
    assert.match(failed.status!.error_message!, /is not one of the brokers the operator may call/);
    assert.deepEqual(attacker.requests, []);
    assert.doesNotMatch(JSON.stringify(failed.status), /a-key-for-that-server/);
    await cluster.custom.deleteNamespacedCustomObject({ ...nango, namespace: 'default', name: 'off-list' });
    await eventually('off-list gone', async () => ((await getResource(cluster, nango, 'off-list')) === undefined ? true : undefined));
});

test('delete (kubectl delete, which waits): the finalizer removes the integration from the broker, then the resource is gone', async () => {
    const deleted = await kubectl(cluster.kubeconfig, ['delete', 'nangointegration', 'github-integration', '--timeout=60s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await getResource(cluster, nango, 'github-integration'), undefined);
    assert.equal(await brokerGet('github-my-app'), null);
    const events = await eventsFor(cluster, 'github-integration');
    assert.ok(events.some((e) => e.reason === 'IntegrationDeleted'));
});
