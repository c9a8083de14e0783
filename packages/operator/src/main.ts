#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, type OperatorConfig } from './config.ts';
import { jsonLogger } from './log.ts';

const serviceAccountNamespace = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Prints a configuration error and exits with EX_CONFIG (78), as the server does. */
function configurationError(err: unknown): never {
    process.stderr.write(`switchboard-operator: configuration error: ${(err as Error).message}\n`);
    process.exit(78);
}

const log = jsonLogger({ name: 'switchboard-operator' });
let config: OperatorConfig;
try {
    config = loadConfig(process.env, () => (existsSync(serviceAccountNamespace) ? readFileSync(serviceAccountNamespace, 'utf8').trim() : undefined));
} catch (err) {
    configurationError(err);
}
// Loaded after the variables are checked: the Kubernetes client is large, and a typo should fail at once.
const { KubeConfig } = await import('@kubernetes/client-node');
const { Operator } = await import('./operator.ts');
const { ApplyIntegrationBroker } = await import('./apply-broker.ts');
const kc = new KubeConfig();
try {
    // KUBECONFIG when set; otherwise the in-cluster service account (loadFromDefault falls back to it), then ~/.kube/config.
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
    if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster: set KUBECONFIG, or run in a pod with a service account');
} catch (err) {
    configurationError(err);
}

const operator = new Operator(config, kc, new ApplyIntegrationBroker(), log);
const { healthPort } = await operator.start();
log.info('started', { identity: config.lease.identity, lease: `${config.lease.namespace}/${config.lease.name}`, healthPort });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        void operator.stop().then(() => {
            log.info('stopped', { identity: config.lease.identity });
            process.exit(0);
        });
    });
}
