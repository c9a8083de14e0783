#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from './config.ts';
import { ApplyIntegrationBroker } from './apply-broker.ts';
import { jsonLogger } from './log.ts';
import { Operator } from './operator.ts';

const serviceAccountNamespace = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const log = jsonLogger({ name: 'switchboard-operator' });
const config = loadConfig(process.env, () => (existsSync(serviceAccountNamespace) ? readFileSync(serviceAccountNamespace, 'utf8').trim() : undefined));
const kc = new KubeConfig();
// KUBECONFIG when set; otherwise the in-cluster service account (loadFromDefault falls back to it), then ~/.kube/config.
if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
else kc.loadFromDefault();

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
