// The Helm chart (issue #14 item 3), rendered by the real helm binary (test/support/helm.ts) in each values variant
// (embedded, PostgreSQL with replicas, the public/admin port split, the operator, a config file); every rendered
// manifest is parsed and checked against the Kubernetes API schemas (test/support/kube-schema.ts), then against
// what the variant must produce.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { parseConfigText } from '@switchboard/apply';
import { helm, helmBinary, HELM_VERSION } from './support/helm.ts';
import { schemaProblems } from './support/kube-schema.ts';

const chart = new URL('../switchboard/', import.meta.url).pathname;
const operatorCrds = new URL('../../operator/crds/', import.meta.url).pathname;
const chartCrds = join(chart, 'files', 'crds');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } } & Record<
    string,
    unknown
>;
type Container = {
    name: string;
    env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    ports: Array<{ name: string; containerPort: number }>;
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    startupProbe?: { httpGet: { path: string; port: string } };
    volumeMounts: Array<{ name: string; mountPath: string }>;
};
type DeploymentSpec = {
    replicas: number;
    strategy: { type: string };
    template: { spec: { containers: Container[]; volumes: Array<Record<string, unknown> & { name: string }> } };
};

let binary: string;
const valueFiles = mkdtempSync(join(tmpdir(), 'sb-chart-'));

async function render(values: Record<string, unknown>, namespace = 'switchboard'): Promise<Manifest[]> {
    const file = join(valueFiles, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(values));
    const out = await helm(binary, ['template', 'sb', chart, '--namespace', namespace, '--values', file]);
    const docs = parseAllDocuments(out);
    for (const d of docs) assert.deepEqual(d.errors, [], `helm rendered YAML that does not parse: ${d.errors.map((e) => e.message).join('; ')}`);
    return docs.map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
}

async function lint(values: Record<string, unknown>): Promise<void> {
    const file = join(valueFiles, `lint-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(values));
    await helm(binary, ['lint', '--strict', chart, '--values', file]);
}

const one = (ms: Manifest[], kind: string, name?: string): Manifest => {
    const found = ms.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
    assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.map((m) => m.metadata.name).join(', ') || 'none'}`);
    return found[0]!;
};
const kinds = (ms: Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
const switchboard = (ms: Manifest[]) => one(ms, 'Deployment', 'sb-switchboard')['spec'] as DeploymentSpec;
const container = (spec: DeploymentSpec) => spec.template.spec.containers[0]!;
const env = (c: Container, name: string) => c.env.find((e) => e.name === name);

const variants: Record<string, Record<string, unknown>> = {
    embedded: {},
    'postgres with replicas': { storage: 'postgres', postgres: { url: 'postgresql://switchboard@db.example:5432/switchboard' }, replicaCount: 3 },
    'port split with an ingress': {
        ports: { public: { enabled: true } },
        serverUrl: 'https://connect.example.com',
        ingress: { enabled: true, host: 'connect.example.com', tls: [{ secretName: 'connect-tls', hosts: ['connect.example.com'] }] }
    },
    operator: { operator: { enabled: true } },
    'operator in one namespace, keys from an existing Secret': {
        operator: { enabled: true, watchNamespace: 'apps' },
        keys: { existingSecret: 'my-switchboard-keys' },
        storage: 'postgres',
        postgres: { existingSecret: 'my-db', existingSecretKey: 'url' }
    },
    'config file': {
        configFile:
            'environments:\n  dev:\n    integrations:\n      github:\n        provider: github\n        credentials: { type: OAUTH2, client_id: abc, client_secret: { fromEnv: GITHUB_CLIENT_SECRET } }\n',
        extraEnv: [{ name: 'GITHUB_CLIENT_SECRET', valueFrom: { secretKeyRef: { name: 'github-oauth', key: 'client-secret' } } }],
        env: { SWITCHBOARD_LOG_LEVEL: 'warn', SWITCHBOARD_RUNNER_PROCESSES: 4 }
    }
};

describe(`helm chart deploy/helm/switchboard (helm ${HELM_VERSION})`, () => {
    before(async () => {
        binary = await helmBinary();
    });

    it('the schema check is not vacuous: it refuses a missing field, a wrong type and an unknown field', () => {
        const good = {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'x' },
            spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } }
        };
        assert.deepEqual(schemaProblems(good), []);
        const noContainers = structuredClone(good) as { spec: { template: { spec: Record<string, unknown> } } };
        delete noContainers.spec.template.spec['containers'];
        assert.match(schemaProblems(noContainers as never).join('\n'), /containers/);
        const wrongType = structuredClone(good) as { spec: Record<string, unknown> };
        wrongType.spec['replicas'] = 'three';
        assert.match(schemaProblems(wrongType as never).join('\n'), /replicas/);
        const typo = structuredClone(good) as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
        typo.spec.template.spec.containers[0]!['readinesProbe'] = { httpGet: { path: '/', port: 80 } };
        assert.deepEqual(schemaProblems(typo as never), ['apps/v1/Deployment: unknown field spec.template.spec.containers[0].readinesProbe']);
        assert.match(schemaProblems({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }).join(''), /no schema here/);
    });

    for (const [name, values] of Object.entries(variants)) {
        it(`${name}: every rendered manifest matches the Kubernetes schemas, and helm lint --strict passes`, async () => {
            const manifests = await render(values);
            assert.ok(manifests.length >= 4, `only ${manifests.length} manifests`);
            const problems = manifests.flatMap((m) => schemaProblems(m).map((p) => `${m.metadata.name}: ${p}`));
            assert.deepEqual(problems, []);
            await lint(values);
        });
    }

    it('embedded: one replica on a PersistentVolumeClaim, replaced (not rolled), probes on /health and /health/ready', async () => {
        const ms = await render({ replicaCount: 5 });
        const spec = switchboard(ms);
        assert.equal(spec.replicas, 1, 'embedded storage runs one process');
        assert.equal(spec.strategy.type, 'Recreate');
        const pvc = one(ms, 'PersistentVolumeClaim', 'sb-switchboard-data');
        assert.equal(pvc.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
        assert.deepEqual(spec.template.spec.volumes.find((v) => v.name === 'data')?.['persistentVolumeClaim'], { claimName: 'sb-switchboard-data' });
        const c = container(spec);
        assert.equal(env(c, 'SWITCHBOARD_DATABASE_URL'), undefined);
        assert.deepEqual(c.livenessProbe.httpGet, { path: '/health', port: 'http' });
        assert.deepEqual(c.readinessProbe.httpGet, { path: '/health/ready', port: 'http' });
        assert.deepEqual(c.startupProbe?.httpGet, { path: '/health', port: 'http' });
        assert.equal(ms.filter((m) => m.kind === 'PodDisruptionBudget').length, 0);
        for (const key of ['SWITCHBOARD_ENCRYPTION_KEY', 'SWITCHBOARD_SECRET_KEY', 'SWITCHBOARD_ADMIN_KEY'])
            assert.deepEqual(env(c, key)?.valueFrom?.secretKeyRef, { name: 'sb-switchboard-keys', key });
        assert.equal(ms.filter((m) => m.kind === 'CustomResourceDefinition' || m.metadata.name.includes('operator')).length, 0, 'operator off by default');
    });

    it('values.schema.json refuses a misspelt value, a bad key and a bad port before anything renders', async () => {
        await assert.rejects(render({ replicas: 3 }), /replicas/);
        await assert.rejects(render({ keys: { adminKey: 'short' } }), /adminKey/);
        await assert.rejects(render({ keys: { encryptionKey: 'not-a-key' } }), /encryptionKey/);
        await assert.rejects(render({ ports: { public: { enabled: true, port: 70000 } } }), /port/);
        await assert.rejects(render({ operator: { enabld: true } }), /enabld/);
    });

    it('generated keys have the shapes the server accepts; given keys are used as they are', async () => {
        const secret = one(await render({}), 'Secret', 'sb-switchboard-keys') as Manifest & { data: Record<string, string> };
        const decoded = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
        assert.equal(Buffer.from(decoded['SWITCHBOARD_ENCRYPTION_KEY']!, 'base64').length, 32);
        assert.match(decoded['SWITCHBOARD_ENCRYPTION_KEY']!, /^[A-Za-z0-9+/]{43}=$/);
        assert.ok(decoded['SWITCHBOARD_ADMIN_KEY']!.length >= 16);
        assert.notEqual(decoded['SWITCHBOARD_ADMIN_KEY'], decoded['SWITCHBOARD_SECRET_KEY']);
        const given = one(
            await render({ keys: { secretKey: 'sk-given-12345', adminKey: 'admin-given-0123456789' } }),
            'Secret',
            'sb-switchboard-keys'
        ) as Manifest & {
            data: Record<string, string>;
        };
        assert.equal(Buffer.from(given.data['SWITCHBOARD_SECRET_KEY']!, 'base64').toString(), 'sk-given-12345');
        assert.equal(Buffer.from(given.data['SWITCHBOARD_ADMIN_KEY']!, 'base64').toString(), 'admin-given-0123456789');
    });

    it('postgres: N replicas rolled one at a time, the URL from a Secret, no claim, a disruption budget', async () => {
        const ms = await render(variants['postgres with replicas']!);
        const spec = switchboard(ms);
        assert.equal(spec.replicas, 3);
        assert.equal(spec.strategy.type, 'RollingUpdate');
        assert.equal(ms.filter((m) => m.kind === 'PersistentVolumeClaim').length, 0);
        assert.deepEqual(spec.template.spec.volumes.find((v) => v.name === 'data')?.['emptyDir'], {});
        assert.deepEqual(env(container(spec), 'SWITCHBOARD_DATABASE_URL')?.valueFrom?.secretKeyRef, { name: 'sb-switchboard-database', key: 'database-url' });
        const db = one(ms, 'Secret', 'sb-switchboard-database') as Manifest & { data: Record<string, string> };
        assert.equal(Buffer.from(db.data['database-url']!, 'base64').toString(), 'postgresql://switchboard@db.example:5432/switchboard');
        one(ms, 'PodDisruptionBudget', 'sb-switchboard');
        await assert.rejects(render({ storage: 'postgres' }), /storage=postgres needs postgres\.url or postgres\.existingSecret/);
        await assert.rejects(render({ storage: 'sqlite' }), /storage/);
    });

    it('port split: a second container port and Service for the public listener, and the Ingress reaches only it', async () => {
        const ms = await render(variants['port split with an ingress']!);
        const c = container(switchboard(ms));
        assert.deepEqual(
            c.ports.map((p) => [p.name, p.containerPort]),
            [
                ['http', 3003],
                ['public', 3004]
            ]
        );
        assert.equal(env(c, 'SWITCHBOARD_PUBLIC_PORT')?.value, '3004');
        assert.equal(env(c, 'SWITCHBOARD_SERVER_URL')?.value, 'https://connect.example.com');
        const pub = one(ms, 'Service', 'sb-switchboard-public') as Manifest & { spec: { ports: Array<{ targetPort: string }> } };
        assert.deepEqual(
            pub.spec.ports.map((p) => p.targetPort),
            ['public']
        );
        const ingress = one(ms, 'Ingress', 'sb-switchboard') as Manifest & {
            spec: { rules: Array<{ host: string; http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }> };
        };
        assert.deepEqual(ingress.spec.rules[0]!.http.paths[0]!.backend.service, { name: 'sb-switchboard-public', port: { name: 'public' } });
        // Without the split there is no public Service and the Ingress goes to the main port.
        const plain = await render({ ingress: { enabled: true } });
        assert.equal(plain.filter((m) => m.metadata.name === 'sb-switchboard-public').length, 0);
        assert.deepEqual((one(plain, 'Ingress') as typeof ingress).spec.rules[0]!.http.paths[0]!.backend.service, {
            name: 'sb-switchboard',
            port: { name: 'http' }
        });
    });

    it('operator: its CRDs (kept on uninstall), cluster-wide RBAC, a Lease role, and a Deployment pointed at this release', async () => {
        const ms = await render(variants['operator']!);
        const crds = ms.filter((m) => m.kind === 'CustomResourceDefinition');
        const files = readdirSync(chartCrds).filter((f) => f.endsWith('.yaml'));
        assert.equal(crds.length, files.length);
        for (const f of files) {
            const source = parse(readFileSync(join(chartCrds, f), 'utf8')) as Manifest;
            const rendered = one(ms, 'CustomResourceDefinition', source.metadata.name);
            assert.equal(rendered.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
            const { annotations: _a, ...renderedMeta } = rendered.metadata;
            const { annotations: _b, ...sourceMeta } = source.metadata;
            assert.deepEqual({ ...rendered, metadata: renderedMeta }, { ...source, metadata: sourceMeta }, `${f} changed on its way through the chart`);
        }
        assert.deepEqual(
            kinds(ms).filter((k) => k.includes('operator')),
            [
                'ClusterRole/sb-switchboard-operator',
                'ClusterRoleBinding/sb-switchboard-operator',
                'Deployment/sb-switchboard-operator',
                'Role/sb-switchboard-operator-leader-election',
                'RoleBinding/sb-switchboard-operator-leader-election',
                'ServiceAccount/sb-switchboard-operator'
            ]
        );
        const op = container(one(ms, 'Deployment', 'sb-switchboard-operator')['spec'] as DeploymentSpec);
        assert.equal(env(op, 'SWITCHBOARD_URL')?.value, 'http://sb-switchboard.switchboard.svc:3003');
        assert.deepEqual(env(op, 'SWITCHBOARD_SECRET_KEY')?.valueFrom?.secretKeyRef, { name: 'sb-switchboard-keys', key: 'SWITCHBOARD_SECRET_KEY' });
        assert.equal(env(op, 'SWITCHBOARD_OPERATOR_WATCH_NAMESPACE'), undefined);
        const role = one(ms, 'ClusterRole', 'sb-switchboard-operator') as Manifest & {
            rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
        };
        const resources = role.rules.flatMap((r) => r.resources);
        for (const r of ['nangointegrations', 'nangointegrations/status', 'nangointegrations/finalizers', 'switchboardintegrations', 'secrets', 'events'])
            assert.ok(resources.includes(r), `the operator cannot reach ${r}`);
        // Secrets are read by name only: no list or watch, so the operator cannot enumerate the cluster's Secrets.
        assert.deepEqual(
            role.rules.filter((r) => r.resources.includes('secrets')).flatMap((r) => r.verbs),
            ['get']
        );
        const lease = one(ms, 'Role', 'sb-switchboard-operator-leader-election') as Manifest & { rules: Array<{ resourceNames?: string[] }> };
        assert.deepEqual(
            lease.rules.flatMap((r) => r.resourceNames ?? []),
            [env(op, 'SWITCHBOARD_OPERATOR_LEASE_NAME')?.value]
        );
        const noCrds = await render({ operator: { enabled: true, installCRDs: false } });
        assert.equal(noCrds.filter((m) => m.kind === 'CustomResourceDefinition').length, 0);
    });

    it('operator in one namespace: a Role there instead of a ClusterRole; existing Secrets are referenced, not made', async () => {
        const ms = await render(variants['operator in one namespace, keys from an existing Secret']!);
        assert.equal(ms.filter((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding').length, 0);
        assert.equal(one(ms, 'Role', 'sb-switchboard-operator').metadata.namespace, 'apps');
        assert.equal(one(ms, 'RoleBinding', 'sb-switchboard-operator').metadata.namespace, 'apps');
        assert.equal(ms.filter((m) => m.kind === 'Secret').length, 0);
        const c = container(switchboard(ms));
        assert.deepEqual(env(c, 'SWITCHBOARD_ADMIN_KEY')?.valueFrom?.secretKeyRef, { name: 'my-switchboard-keys', key: 'SWITCHBOARD_ADMIN_KEY' });
        assert.deepEqual(env(c, 'SWITCHBOARD_DATABASE_URL')?.valueFrom?.secretKeyRef, { name: 'my-db', key: 'url' });
        const op = container(one(ms, 'Deployment', 'sb-switchboard-operator')['spec'] as DeploymentSpec);
        assert.equal(env(op, 'SWITCHBOARD_OPERATOR_WATCH_NAMESPACE')?.value, 'apps');
    });

    it('config file: mounted from a ConfigMap as SWITCHBOARD_CONFIG, and a file the server accepts', async () => {
        const values = variants['config file']!;
        const ms = await render(values);
        const cm = one(ms, 'ConfigMap', 'sb-switchboard-config') as Manifest & { data: Record<string, string> };
        assert.equal(cm.data['switchboard.yaml'], values['configFile']);
        const loaded = parseConfigText(cm.data['switchboard.yaml']!, 'switchboard.yaml', { env: { GITHUB_CLIENT_SECRET: 's' } });
        assert.equal(loaded.desired.environments['dev']?.integrations?.['github']?.provider, 'github');
        const c = container(switchboard(ms));
        assert.equal(env(c, 'SWITCHBOARD_CONFIG')?.value, '/etc/switchboard/switchboard.yaml');
        assert.ok(c.volumeMounts.some((m) => m.name === 'config' && m.mountPath === '/etc/switchboard'));
        assert.deepEqual(env(c, 'GITHUB_CLIENT_SECRET')?.valueFrom?.secretKeyRef, { name: 'github-oauth', key: 'client-secret' });
        assert.equal(env(c, 'SWITCHBOARD_RUNNER_PROCESSES')?.value, '4');
    });

    it("the operator's permissions in the chart are those of deploy/operator/10-rbac.yaml", async (t) => {
        const plain = new URL('../../operator/10-rbac.yaml', import.meta.url).pathname;
        if (!existsSync(plain)) {
            t.skip('deploy/operator/10-rbac.yaml is not in this tree');
            return;
        }
        type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
        const norm = (rules: Rule[]) =>
            rules
                .map((r) => JSON.stringify({ g: [...r.apiGroups].sort(), r: [...r.resources].sort(), v: [...r.verbs].sort(), n: r.resourceNames ?? [] }))
                .sort();
        const theirs = parseAllDocuments(readFileSync(plain, 'utf8')).map((d) => d.toJS() as Manifest & { rules?: Rule[] });
        const ms = (await render({ operator: { enabled: true } })) as Array<Manifest & { rules?: Rule[] }>;
        const cluster = (list: Array<Manifest & { rules?: Rule[] }>) => list.find((m) => m.kind === 'ClusterRole')?.rules ?? [];
        assert.deepEqual(norm(cluster(ms)), norm(cluster(theirs)));
        const leaseVerbs = (list: Array<Manifest & { rules?: Rule[] }>) =>
            (list.find((m) => m.kind === 'Role')?.rules ?? []).map((r) => [...r.verbs].sort().join(',')).sort();
        assert.deepEqual(leaseVerbs(ms), leaseVerbs(theirs));
    });

    it("the chart's CRDs are byte-identical to deploy/operator/crds/", (t) => {
        if (!existsSync(operatorCrds)) {
            t.skip('deploy/operator/crds/ is not in this tree');
            return;
        }
        const ours = readdirSync(chartCrds).sort();
        const theirs = readdirSync(operatorCrds)
            .filter((f) => f.endsWith('.yaml'))
            .sort();
        assert.deepEqual(ours, theirs, 'the chart and deploy/operator/crds/ list different CRDs');
        for (const f of ours)
            assert.equal(readFileSync(join(chartCrds, f), 'utf8'), readFileSync(join(operatorCrds, f), 'utf8'), `${f} differs; copy deploy/operator/crds/${f}`);
    });
});
