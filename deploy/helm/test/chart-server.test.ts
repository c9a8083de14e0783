// The chart's container spec against the real server: the environment a rendered Deployment gives Switchboard
// (generated keys, the port split, PostgreSQL from its Secret, SWITCHBOARD_CONFIG from the ConfigMap) is handed to
// `node src/main.ts` as the kubelet would hand it to the container, and the probes' paths, the keys and the public
// listener are then used as the chart's Services and probes would use them. Only what a process on this machine
// cannot take is changed: ports are chosen by the OS (3003 may be taken), the data folder and the config file live
// in temp folders, and HOST is loopback.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { createTestDatabase, removeDir, startServer, type TestServer } from '../../../packages/server/test/support/server.ts';
import { helm, helmBinary } from './support/helm.ts';

const chart = new URL('../switchboard/', import.meta.url).pathname;

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } };
type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: unknown };
type PodContainer = {
    env: EnvVar[];
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    startupProbe: { httpGet: { path: string; port: string } };
};

async function render(values: Record<string, unknown>): Promise<Manifest[]> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-chart-run-'));
    writeFileSync(join(dir, 'values.yaml'), stringify(values));
    const out = await helm(await helmBinary(), ['template', 'sb', chart, '--namespace', 'switchboard', '--values', join(dir, 'values.yaml')]);
    removeDir(dir);
    return parseAllDocuments(out)
        .map((d) => d.toJS() as Manifest | null)
        .filter((m): m is Manifest => m !== null);
}

/** The container's environment as the kubelet resolves it from the rendered Secrets and ConfigMap. */
function containerEnv(ms: Manifest[], dirs: string[]): { env: Record<string, string>; container: PodContainer } {
    const deployment = ms.find((m) => m.kind === 'Deployment' && m.metadata.name === 'sb-switchboard')!;
    const container = (deployment.spec as { template: { spec: { containers: PodContainer[] } } }).template.spec.containers[0]!;
    const env: Record<string, string> = {};
    for (const e of container.env) {
        if (e.value !== undefined) env[e.name] = e.value;
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
            const secret = ms.find((m) => m.kind === 'Secret' && m.metadata.name === ref.name);
            assert.ok(secret?.data?.[ref.key], `${e.name} refers to ${ref.name}/${ref.key}, which the chart does not render`);
            env[e.name] = Buffer.from(secret!.data![ref.key]!, 'base64').toString('utf8');
        }
    }
    const data = mkdtempSync(join(tmpdir(), 'sb-chart-data-'));
    dirs.push(data);
    env['SWITCHBOARD_DATA_DIR'] = data;
    env['HOST'] = '127.0.0.1';
    env['PORT'] = '0';
    if (env['SWITCHBOARD_PUBLIC_PORT']) {
        env['SWITCHBOARD_PUBLIC_PORT'] = '0';
        env['SWITCHBOARD_PUBLIC_HOST'] = '127.0.0.1';
    }
    if (env['SWITCHBOARD_CONFIG']) {
        const cm = ms.find((m) => m.kind === 'ConfigMap')!;
        const file = join(data, 'switchboard.yaml');
        writeFileSync(file, cm.data!['switchboard.yaml']!);
        env['SWITCHBOARD_CONFIG'] = file;
    }
    return { env, container };
}

const get = async (url: string, key?: string) => {
    const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
};

describe("the chart's settings start the real server", () => {
    const dirs: string[] = [];
    const servers: TestServer[] = [];
    const drops: Array<() => Promise<void>> = [];
    after(async () => {
        for (const s of servers) await s.stop();
        for (const d of dirs) removeDir(d);
        for (const drop of drops) await drop();
    });

    it('embedded, port split, config file: the probes answer, the keys work, the public port hides the API', async () => {
        const ms = await render({
            ports: { public: { enabled: true } },
            configFile:
                'environments:\n  dev:\n    integrations:\n      gh:\n        provider: github\n        credentials: { type: OAUTH2, client_id: a, client_secret: { fromEnv: GH_SECRET } }\n',
            env: { GH_SECRET: 'from-the-chart-env', SWITCHBOARD_ALLOW_PRIVATE_EGRESS: true, SWITCHBOARD_BACKGROUND_REFRESH_SECONDS: 0 }
        });
        const { env, container } = containerEnv(ms, dirs);
        const server = await startServer(env);
        servers.push(server);
        assert.ok(server.publicUrl, 'no public listener');
        for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
            assert.equal(probe.httpGet.port, 'http');
            assert.equal((await get(`${server.url}${probe.httpGet.path}`)).status, 200, `${probe.httpGet.path} on the main port`);
        }
        const gh = await get(`${server.url}/integrations/gh?include=credentials`, env['SWITCHBOARD_SECRET_KEY']);
        assert.equal(gh.status, 200, 'the config file was not applied with the chart secret key');
        assert.equal((gh.body['data'] as { credentials: { client_secret: string } }).credentials.client_secret, 'from-the-chart-env');
        assert.equal((await get(`${server.url}/admin/environments`, env['SWITCHBOARD_ADMIN_KEY'])).status, 200, 'the generated admin key is refused');
        assert.equal((await get(`${server.publicUrl}/health`)).status, 200);
        assert.equal((await get(`${server.publicUrl}/integrations/gh`, env['SWITCHBOARD_SECRET_KEY'])).status, 404, 'the API is on the public port');
        assert.ok(!server.output().includes('generated an encryption key'), 'the chart key was not used');
    });

    it('postgres: the database URL and the keys from the chart Secrets; readiness reads the database', async () => {
        const db = await createTestDatabase();
        drops.push(db.drop);
        const ms = await render({ storage: 'postgres', postgres: { url: db.url }, replicaCount: 2 });
        const { env } = containerEnv(ms, dirs);
        assert.equal(env['SWITCHBOARD_DATABASE_URL'], db.url);
        const a = await startServer(env);
        servers.push(a);
        const secondData = mkdtempSync(join(tmpdir(), 'sb-chart-data-'));
        dirs.push(secondData);
        const b = await startServer({ ...env, SWITCHBOARD_DATA_DIR: secondData });
        servers.push(b);
        for (const s of [a, b]) {
            assert.deepEqual((await get(`${s.url}/health/ready`)).body, { result: 'ok' });
            assert.equal((await get(`${s.url}/integrations`, env['SWITCHBOARD_SECRET_KEY'])).status, 200);
        }
    });
});
