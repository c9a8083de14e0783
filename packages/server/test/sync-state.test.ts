// The sync state stores under variants, on both storage backends: which checkpoints a reset or a variant delete
// forgets, and the write fence that keeps a stopped or deleted run from writing (CONTRIBUTING.md, "Test rules").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../src/storage/db.ts';
import { Vault } from '../src/vault/vault.ts';
import { makeKeyring } from '../src/vault/keys.ts';
import { Environments } from '../src/environments/environments.ts';
import { IntegrationStore } from '../src/integrations/store.ts';
import { ConnectionStore } from '../src/connections/store.ts';
import { CheckpointStore } from '../src/functions/checkpoints.ts';
import { FunctionStore } from '../src/functions/store.ts';
import { SyncStore } from '../src/functions/syncs.ts';
import { RunStore } from '../src/runs/store.ts';
import { syncCheckpointKey, trackDeletesKey } from '../src/functions/keys.ts';
import { backends, deferred, sleep, withTimeout, type OpenedBackend } from './support/storage-backends.ts';

const vault = new Vault(makeKeyring(randomBytes(32), []));

for (const backend of backends) {
    describe(`sync state on ${backend.name}`, () => {
        let opened: OpenedBackend;
        let db: Db;
        let checkpoints: CheckpointStore;
        let syncs: SyncStore;
        let runs: RunStore;
        let connectionDbId: number;
        let functionId: number;

        before(async () => {
            opened = await backend.open();
            db = opened.db;
            checkpoints = new CheckpointStore(db);
            syncs = new SyncStore(db);
            runs = new RunStore(db, vault);
            const env = (await new Environments(db).bootstrap(randomUUID())).environment;
            const integration = await new IntegrationStore(db, vault).create(env.id, {
                uniqueKey: 'items',
                provider: 'github',
                credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'cs' }
            });
            assert.ok(integration);
            const connection = await new ConnectionStore(db, vault).upsert(integration.id, env.id, {
                connectionId: 'c-1',
                credentials: { type: 'API_KEY', apiKey: 'k' }
            });
            connectionDbId = connection.connection.id;
            functionId = await new FunctionStore(db).upsert(db, {
                integrationId: integration.id,
                type: 'sync',
                name: 'items',
                version: null,
                js: '//',
                ts: '',
                config: { runs: 'every hour', autoStart: false, models: ['Item'] },
                sdkVersion: null
            });
        });
        after(async () => {
            await opened?.cleanup();
        });

        test('a reset or a variant delete forgets that variant checkpoint and trackDeletes windows, nothing else', async () => {
            const base = syncCheckpointKey('items', 'base');
            const eu = syncCheckpointKey('items', 'eu');
            // A variant may be called `trackDeletes`: its keys share a prefix with the base windows.
            const odd = syncCheckpointKey('items', 'trackDeletes');
            const keys = {
                base: [base, trackDeletesKey(base, 'Item'), trackDeletesKey(base, 'Gone')],
                eu: [eu, trackDeletesKey(eu, 'Item')],
                odd: [odd, trackDeletesKey(odd, 'Item')],
                others: ['sync:items-2', 'sync:items-2:trackDeletes:Item', 'action:items']
            };
            const reset = async () => {
                for (const key of Object.values(keys).flat()) await checkpoints.put(connectionDbId, key, { k: key });
            };
            const left = async () =>
                (await db.query<{ key: string }>('SELECT key FROM checkpoints WHERE connection_id = $1 ORDER BY key', [connectionDbId])).map((r) => r.key);
            const all = (...groups: Array<keyof typeof keys>) => groups.flatMap((g) => keys[g]).sort();
            assert.deepEqual(keys.base, ['sync:items', 'sync:items:trackDeletes:Item', 'sync:items:trackDeletes:Gone']);
            assert.deepEqual(keys.odd, ['sync:items:trackDeletes', 'sync:items:trackDeletes:trackDeletes:Item']);

            await reset();
            await checkpoints.deleteSyncState(connectionDbId, base);
            assert.deepEqual(await left(), all('eu', 'odd', 'others'));
            await reset();
            await checkpoints.deleteSyncState(connectionDbId, eu);
            assert.deepEqual(await left(), all('base', 'odd', 'others'));
            await reset();
            await checkpoints.deleteSyncState(connectionDbId, odd);
            assert.deepEqual(await left(), all('base', 'eu', 'others'));
            await db.query('DELETE FROM checkpoints WHERE connection_id = $1', [connectionDbId]);
        });

        test('the write fence: a held run delays the delete of its schedule; a stopped or deleted run is refused', async () => {
            const id = await syncs.createVariant({ functionId, connectionDbId, variant: `v${randomUUID().slice(0, 8)}`, started: false });
            assert.ok(id);
            await syncs.requestRun([id], { reset: false, emptyCache: false });
            const [claimed] = await db.transaction((tx) => syncs.claimDue(tx, 10));
            assert.equal(claimed?.syncId, id);
            const jobId = claimed.jobId;
            assert.equal(await runs.holdRunning(db, jobId), false, 'a queued job is not running yet');
            assert.ok(await runs.start(jobId));

            const release = deferred();
            const held = deferred<boolean>();
            const writer = db.transaction(async (tx) => {
                held.resolve(await runs.holdRunning(tx, jobId));
                await release.promise;
            });
            assert.equal(await held.promise, true);
            if (backend.name === 'postgres') {
                // The fence is a KEY SHARE lock: the run's heartbeat (a plain update) is not held up by a write.
                assert.equal(await withTimeout(runs.heartbeat(jobId, {}), 5000, 'the heartbeat waited for the fence'), true);
            }
            let removed = false;
            const removal = syncs.remove(id).then((r) => (removed = r));
            await sleep(150);
            assert.equal(removed, false, 'the schedule was deleted under a write in flight');
            release.resolve();
            await writer;
            assert.equal(await withTimeout(removal, 5000, 'the delete never went through'), true);
            assert.equal(await runs.holdRunning(db, jobId), false, 'a write after the delete is refused');
            assert.equal(await syncs.byId(id), undefined);
        });

        test('a stopped run is refused too (a full resync replaces it)', async () => {
            const id = await syncs.createVariant({ functionId, connectionDbId, variant: `v${randomUUID().slice(0, 8)}`, started: false });
            assert.ok(id);
            assert.equal(
                await syncs.createVariant({ functionId, connectionDbId, variant: (await syncs.byId(id))!.variant, started: true }),
                undefined,
                'one schedule per variant'
            );
            await syncs.requestRun([id], { reset: false, emptyCache: false });
            const [claimed] = await db.transaction((tx) => syncs.claimDue(tx, 10));
            assert.ok(claimed && (await runs.start(claimed.jobId)));
            assert.equal(await runs.holdRunning(db, claimed.jobId), true);
            await runs.stop(claimed.jobId);
            assert.equal(await runs.holdRunning(db, claimed.jobId), false);
        });
    });
}
