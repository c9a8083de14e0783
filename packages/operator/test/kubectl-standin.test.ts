import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeKubeApi } from './support/kube/server.ts';
import { kubectl } from './support/kubectl.ts';

// The stand-in's fidelity, checked with a real client: kubectl gets through what the operator's users do with it
// (apply the CRDs and the seed's resource, get, re-apply a change, delete), and the server refuses what a real
// one refuses (an unknown field under kubectl's strict validation). It runs with whichever kubectl is installed:
// Debian bookworm's 1.20 (what .ci/run installs on a fresh machine) or a newer one; SWITCHBOARD_TEST_KUBECTL picks another.

const crds = new URL('../../../deploy/operator/crds/', import.meta.url).pathname;
const seed = new URL('./fixtures/github-integration.yaml', import.meta.url).pathname;

let api: FakeKubeApi;
let kubeconfig: string;
const home = mkdtempSync(join(tmpdir(), 'sb-kubectl-'));
const run = (...args: string[]) => kubectl(kubeconfig, args, home);
/** kubectl 1.25 and later validate on the server (?fieldValidation=Strict); Debian bookworm's 1.20 does not. */
let serverSideValidation = true;

before(async () => {
    api = await FakeKubeApi.start();
    kubeconfig = api.writeKubeconfig();
    const version = JSON.parse((await run('version', '--client', '-o', 'json')).stdout) as { clientVersion: { minor: string } };
    serverSideValidation = Number.parseInt(version.clientVersion.minor, 10) >= 25;
});
after(() => api.stop());

test('kubectl apply -f creates both CRDs, and they are Established', async () => {
    const r = await run('apply', '-f', crds);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /customresourcedefinition.apiextensions.k8s.io\/nangointegrations.nango.nango.dev created/);
    assert.match(r.stdout, /customresourcedefinition.apiextensions.k8s.io\/switchboardintegrations.switchboard.dev created/);
    if (serverSideValidation) {
        // kubectl let the server validate: it found fieldValidation on the PATCH operation of the OpenAPI v3 document.
        assert.ok(
            api.requests.some((l) => l.startsWith('POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions?') && l.includes('fieldValidation=Strict'))
        );
    } else {
        // An older kubectl downloaded the OpenAPI v2 document (protobuf) to validate on its side first.
        assert.ok(api.requests.some((l) => l.startsWith('GET /openapi/v2')));
    }
    const established = await run('get', 'crd', 'nangointegrations.nango.nango.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}');
    assert.equal(established.stdout, 'True', established.stderr);
});

test('kubectl apply -f of the NangoIntegration exactly as users write it, then get shows the printer columns', async () => {
    const r = await run('apply', '-f', seed);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nangointegration.nango.nango.dev\/github-integration created/);
    const table = await run('get', 'nangointegrations');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /NAME\s+UNIQUE KEY\s+PROVIDER\s+STATUS\s+AGE/);
    assert.match(table.stdout, /github-integration\s+github-my-app\s+github/);
    const json = await run('get', 'nangointegration', 'github-integration', '-o', 'json');
    const obj = JSON.parse(json.stdout) as { spec: Record<string, unknown>; metadata: { generation: number; resourceVersion: string } };
    assert.deepEqual(obj.spec, {
        unique_key: 'github-my-app',
        provider: 'github',
        display_name: 'GitHub',
        credentials: { type: 'OAUTH2', client_id: 'gh-client-id', client_secret: 'gh-client-secret', scopes: 'repo,user' }
    });
    assert.equal(obj.metadata.generation, 1);
    // Applying the same file again changes nothing.
    const again = await run('apply', '-f', seed);
    assert.match(again.stdout, /github-integration unchanged/);
});

test('kubectl apply of a changed file patches the resource and bumps its generation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-seed-'));
    const changed = join(dir, 'changed.yaml');
    writeFileSync(changed, readFileSync(seed, 'utf8').replace('display_name: "GitHub"', 'display_name: "GitHub (prod)"'));
    const r = await run('apply', '-f', changed);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /github-integration configured/);
    // A custom resource takes a JSON merge patch (a strategic one is refused for custom resources).
    assert.ok(api.requests.some((l) => l.startsWith('PATCH /apis/nango.nango.dev/v1alpha1/namespaces/default/nangointegrations/github-integration')));
    const got = await run('get', 'nangointegration', 'github-integration', '-o', 'jsonpath={.spec.display_name} {.metadata.generation}');
    assert.equal(got.stdout, 'GitHub (prod) 2');
});

test('an unknown field is refused under strict validation (pruned with a warning otherwise); a wrong enum value is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-seed-'));
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(
        unknown,
        readFileSync(seed, 'utf8').replace('github-integration', 'typo').replace('provider: "github"', 'provider: "github"\n  providr: "x"')
    );
    const r = await run('apply', '-f', unknown);
    assert.match(r.stderr, /unknown field "spec.providr"/);
    if (serverSideValidation) {
        assert.notEqual(r.code, 0);
    } else {
        // Without ?fieldValidation the server prunes the field and says so in a Warning header, which kubectl prints.
        assert.equal(r.code, 0, r.stderr);
        const stored = await run('get', 'nangointegration', 'typo', '-o', 'json');
        assert.equal((JSON.parse(stored.stdout) as { spec: Record<string, unknown> }).spec['providr'], undefined);
        assert.equal((await run('delete', 'nangointegration', 'typo')).code, 0);
    }
    const badType = join(dir, 'bad-type.yaml');
    writeFileSync(badType, readFileSync(seed, 'utf8').replace('github-integration', 'bad-type').replace('type: "OAUTH2"', 'type: "PASSWORD"'));
    const bad = await run('apply', '-f', badType);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec.credentials.type: Unsupported value: "PASSWORD"/);
    const none = await run('get', 'nangointegration', 'typo');
    assert.match(none.stderr, /NotFound|not found/);
});

test('kubectl apply of a Secret, and kubectl delete waits until the resource is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-secret-'));
    const secret = join(dir, 'secret.yaml');
    writeFileSync(
        secret,
        'apiVersion: v1\nkind: Secret\nmetadata: { name: github-oauth, namespace: default }\nstringData: { client_id: a, client_secret: b }\n'
    );
    const r = await run('apply', '-f', secret);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secret\/github-oauth created/);
    const del = await run('delete', '-f', seed);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /nangointegration.nango.nango.dev "github-integration" deleted/);
    const gone = await run('get', 'nangointegration', 'github-integration');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /nangointegrations.nango.nango.dev "github-integration" not found/);
});

test('kubectl apply -R -f deploy/operator/ installs the namespace, RBAC, the Deployment and the CRDs', async () => {
    const r = await run('apply', '-R', '-f', new URL('../../../deploy/operator/', import.meta.url).pathname);
    assert.equal(r.code, 0, r.stderr);
    for (const line of [
        'namespace/switchboard-system created',
        'serviceaccount/switchboard-operator created',
        'clusterrole.rbac.authorization.k8s.io/switchboard-operator created',
        'clusterrolebinding.rbac.authorization.k8s.io/switchboard-operator created',
        'role.rbac.authorization.k8s.io/switchboard-operator-leader-election created',
        'rolebinding.rbac.authorization.k8s.io/switchboard-operator-leader-election created',
        'deployment.apps/switchboard-operator created',
        'customresourcedefinition.apiextensions.k8s.io/nangointegrations.nango.nango.dev unchanged'
    ]) {
        assert.ok(r.stdout.includes(line), `missing "${line}" in:\n${r.stdout}`);
    }
    const replicas = await run('get', 'deployment', 'switchboard-operator', '-n', 'switchboard-system', '-o', 'jsonpath={.spec.replicas}');
    assert.equal(replicas.stdout, '2');
});
