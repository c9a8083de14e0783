import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaderElector } from '../src/leader.ts';
import { jsonLogger } from '../src/log.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { eventually } from './support/operator.ts';

// Leader election against the API stand-in, with Lease calls that never answer (an API server or network that
// hangs): the leader must stop leading at its renew deadline even while its renewal is still pending, and the hung
// call must not stop it from trying again.

let cluster: Cluster;
before(async () => {
    cluster = await startCluster();
});
after(() => cluster.stop());

test('a hung Lease renewal: the leader stops leading at the renew deadline while the call is pending, then leads again once the API answers', async () => {
    const lines: string[] = [];
    let openWhenStopped: number | undefined;
    const held = new Set<string>();
    let holding = false;
    let seq = 0;
    cluster.api.gate = (_method, path, req) => {
        if (!holding || !path.includes('/leases/')) return undefined;
        // Never answered: only the client giving up (its timeout) ends it.
        const id = String(seq++);
        held.add(id);
        return new Promise<void>((resolve) => {
            req.once('close', () => {
                held.delete(id);
                resolve();
            });
        });
    };
    const elector = new LeaderElector({
        coordination: cluster.kc.makeApiClient(CoordinationV1Api),
        namespace: 'default',
        name: 'hung-lease',
        identity: 'replica-x',
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        // A renewal is sent a retry period after the last one answered, so a watchdog armed at the last renewal
        // fires a full period before that renewal's own timeout would.
        retryPeriodMs: 1000,
        log: jsonLogger({}, (l) => lines.push(l)),
        onStartedLeading: async () => undefined,
        onStoppedLeading: async () => {
            openWhenStopped ??= held.size;
        }
    });
    elector.start();
    try {
        await eventually('leading', async () => (elector.leading ? true : undefined));
        holding = true;
        await eventually('stopped leading', async () => (!elector.leading && openWhenStopped !== undefined ? true : undefined));
        // It stopped on its own deadline: the renewal it was waiting for was still pending (not timed out yet).
        assert.ok(openWhenStopped! >= 1, 'leadership ended only when the hung call gave up');
        assert.ok(lines.some((l) => l.includes('"msg":"lost leadership"') && l.includes('renew deadline')));
        // The hung call is abandoned by its timeout: once the API answers again, the same replica leads again.
        holding = false;
        await eventually('leading again', async () => (elector.leading ? true : undefined));
        assert.equal(held.size, 0);
    } finally {
        holding = false;
        cluster.api.gate = undefined;
        await elector.stop();
    }
});
