import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../../src/conditions.ts';
import { FakeKubeApi } from './kube/server.ts';

const crdDir = new URL('../../../../deploy/operator/crds/', import.meta.url).pathname;

export interface Cluster {
    api: FakeKubeApi;
    kubeconfig: string;
    kc: KubeConfig;
    core: CoreV1Api;
    custom: CustomObjectsApi;
    objects: KubernetesObjectApi;
    stop(): Promise<void>;
}

/** The stand-in API server with the operator's CRDs applied from deploy/operator/crds through @kubernetes/client-node. */
export async function startCluster(): Promise<Cluster> {
    const api = await FakeKubeApi.start({ bookmarkIntervalMs: 500 });
    const kubeconfig = api.writeKubeconfig();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml'))) {
        for (const doc of loadAllYaml(readFileSync(join(crdDir, f), 'utf8')) as KubernetesObject[]) await objects.create(doc);
    }
    return { api, kubeconfig, kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi), objects, stop: () => api.stop() };
}

export type Resource = KubernetesObject & { spec: Record<string, unknown>; status?: IntegrationStatus };

export const nango = { group: 'nango.nango.dev', version: 'v1alpha1', plural: 'nangointegrations' };
export const native = { group: 'switchboard.dev', version: 'v1alpha1', plural: 'switchboardintegrations' };

export async function getResource(c: Cluster, kind: typeof nango, name: string, namespace = 'default'): Promise<Resource | undefined> {
    try {
        return (await c.custom.getNamespacedCustomObject({ ...kind, namespace, name })) as Resource;
    } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
    }
}

export const condition = (r: Resource | undefined, type: string) => r?.status?.conditions?.find((c) => c.type === type);

/** Events recorded on one object, oldest first. */
export async function eventsFor(c: Cluster, name: string, namespace = 'default') {
    const list = await c.core.listNamespacedEvent({ namespace });
    return list.items.filter((e) => e.involvedObject.name === name).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export function loadYaml(file: string): KubernetesObject[] {
    return loadAllYaml(readFileSync(file, 'utf8')) as KubernetesObject[];
}
