// The one run table (issue #10 item 9), on both storage backends: every kind is reaped by the same statement
// once its heartbeat is old, a sync's schedule is freed, and rows nobody reads back are purged a day after they end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../src/storage/db.ts';
import { Vault } from '../src/vault/vault.ts';
import { makeKeyring } from '../src/vault/keys.ts';
import { Environments } from '../src/environments/environments.ts';
import { IntegrationStore } from '../src/integrations/store.ts';
import { ConnectionStore } from '../src/connections/store.ts';
import { FunctionStore } from '../src/functions/store.ts';
import { SyncStore } from '../src/functions/syncs.ts';
import { RunStore } from '../src/runs/store.ts';
import { backends, type OpenedBackend } from './support/storage-backends.ts';

const firstKey = randomBytes(32);
const vault = new Vault(makeKeyring(firstKey, []));

for (const backend of backends) {
    describe(`runs on ${backend.name}`, () => {
        let opened: OpenedBackend;
        let db: Db;
        let runs: RunStore;
        let syncs: SyncStore;
        let envId: number;
        let connectionDbId: number;
        let actionId: number;
        let syncFunctionId: number;

        before(async () => {
            opened = await backend.open();
            db = opened.db;
            runs = new RunStore(db, vault);
            syncs = new SyncStore(db);
            envId = (await new Environments(db).bootstrap(randomUUID())).environment.id;
            const integration = await new IntegrationStore(db, vault).create(envId, {
                uniqueKey: 'items',
                provider: 'github',
                credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'cs' }
            });
            assert.ok(integration);
            connectionDbId = (
                await new ConnectionStore(db, vault).upsert(integration.id, envId, { connectionId: 'c-1', credentials: { type: 'API_KEY', apiKey: 'k' } })
            ).connection.id;
            const functions = new FunctionStore(db);
            actionId = await functions.upsert(db, {
                integrationId: integration.id,
                type: 'action',
                name: 'act',
                version: null,
                js: '//',
                ts: '',
                config: {},
                sdkVersion: null
            });
            syncFunctionId = await functions.upsert(db, {
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

        test('a lost run of every kind ends ERROR worker_lost; a sync schedule is freed; live and ended runs are left alone', async () => {
            const syncId = await syncs.createVariant({ functionId: syncFunctionId, connectionDbId, variant: 'v1', started: false });
            assert.ok(syncId);
            await syncs.requestRun([syncId], { reset: false, emptyCache: false });
            const [claimed] = await db.transaction((tx) => syncs.claimDue(tx, 10));
            assert.ok(claimed && (await runs.start(claimed.jobId)));
            const uuid = randomUUID();
            await db.transaction((tx) =>
                runs.queueAction(tx, { uuid, environmentId: envId, connectionDbId, functionId: actionId, input: { a: 1 }, maxRetries: 0 })
            );
            const asyncAction = await runs.start({ uuid });
            assert.ok(asyncAction);
            assert.equal(asyncAction.uuid, uuid);
            assert.deepEqual(asyncAction.input, { a: 1 });
            const inline = await runs.startInline({ kind: 'on-event', environmentId: envId, connectionDbId: null, functionId: actionId });
            const ended = await runs.startInline({ kind: 'action', environmentId: envId, connectionDbId, functionId: actionId });
            await db.transaction((tx) => runs.finish(tx, ended.id, { status: 'SUCCESS', output: { ok: true } }));
            const live = await runs.startInline({ kind: 'action', environmentId: envId, connectionDbId, functionId: actionId });
            await db.query("UPDATE runs SET heartbeat_at = now() - interval '1 minute' WHERE id <> $1", [live.id]);

            const lost = await db.transaction((tx) => runs.reapLost(tx, 30_000));
            assert.deepEqual(
                lost.map((r) => [r.id, r.kind]).sort(),
                [
                    [claimed.jobId, 'sync'],
                    [asyncAction.id, 'action'],
                    [inline.id, 'on-event']
                ].sort()
            );
            assert.equal(lost.find((r) => r.kind === 'action')?.uuid, uuid);
            const view = await runs.action(envId, uuid);
            assert.equal(view?.status, 'ERROR');
            assert.equal((view!.error as { type: string }).type, 'worker_lost');
            assert.equal((await syncs.byId(syncId))?.runningJobId, null, 'the schedule is free for its next slot');
            assert.equal(await runs.status(live.id), 'RUNNING');
            assert.equal(await runs.status(ended.id), 'SUCCESS');
            assert.equal(await runs.heartbeat(inline.id, {}), false, 'a reaped run learns it was given up at its next beat');
        });

        test("an asynchronous action's input and output are sealed with the vault, earlier plaintext rows are sealed, rotation re-encrypts them", async () => {
            const marker = `personal-${randomUUID()}`;
            const uuid = randomUUID();
            await db.transaction((tx) =>
                runs.queueAction(tx, { uuid, environmentId: envId, connectionDbId, functionId: actionId, input: { email: marker }, maxRetries: 0 })
            );
            const started = await runs.start({ uuid });
            assert.deepEqual(started?.input, { email: marker });
            assert.ok(await runs.finish(db, started!.id, { status: 'SUCCESS', output: { echoed: marker }, uuid }));
            assert.deepEqual((await runs.action(envId, uuid))?.output, { echoed: marker });
            // What did not happen: the marker is nowhere in the stored row.
            const raw = async (u: string) => JSON.stringify(await db.query('SELECT * FROM runs WHERE uuid = $1', [u]));
            assert.ok(!(await raw(uuid)).includes(marker), await raw(uuid));
            // Another action's ciphertext does not open as this one's (owner-bound).
            const other = randomUUID();
            await db.transaction((tx) =>
                runs.queueAction(tx, { uuid: other, environmentId: envId, connectionDbId, functionId: actionId, input: 1, maxRetries: 0 })
            );
            await db.query('UPDATE runs SET output_sealed = (SELECT output_sealed FROM runs WHERE uuid = $1) WHERE uuid = $2', [uuid, other]);
            await assert.rejects(runs.action(envId, other), /another owner/);
            await db.query('DELETE FROM runs WHERE uuid = $1', [other]);

            // A row an earlier version wrote in plaintext is sealed (and still reads the same).
            const legacy = randomUUID();
            await db.query(
                `INSERT INTO runs (kind, uuid, environment_id, connection_id, function_id, status, input, output) VALUES ('action', $1, $2, $3, $4, 'SUCCESS', $5, $6)`,
                [legacy, envId, connectionDbId, actionId, JSON.stringify({ email: marker }), JSON.stringify({ echoed: marker })]
            );
            assert.ok((await raw(legacy)).includes(marker));
            assert.equal(await runs.sealPlaintext(), 1);
            assert.equal(await runs.sealPlaintext(), 0, 'nothing left to seal');
            assert.ok(!(await raw(legacy)).includes(marker), await raw(legacy));
            assert.deepEqual((await runs.action(envId, legacy))?.output, { echoed: marker });

            // Key rotation re-encrypts every sealed value under the new key; they still open.
            const rotated = new Vault(makeKeyring(randomBytes(32), [firstKey]));
            const store = new RunStore(db, rotated);
            const failed: string[] = [];
            assert.ok((await store.reencryptAll(failed)) >= 4, 'input and output of both actions');
            assert.deepEqual(failed, []);
            const rows = await db.query<{ input_sealed: string | null; output_sealed: string | null }>(
                'SELECT input_sealed, output_sealed FROM runs WHERE uuid = ANY($1::uuid[])',
                [[uuid, legacy]]
            );
            for (const r of rows) for (const ct of [r.input_sealed, r.output_sealed]) assert.equal(rotated.keyIdOf(ct!), rotated.currentKeyId);
            assert.deepEqual((await store.action(envId, legacy))?.output, { echoed: marker });
        });

        test('answered runs (synchronous actions, on-event scripts) are purged a day after they end; async actions stay', async () => {
            const sync = await runs.startInline({ kind: 'action', environmentId: envId, connectionDbId, functionId: actionId });
            const uuid = randomUUID();
            await db.transaction((tx) =>
                runs.queueAction(tx, { uuid, environmentId: envId, connectionDbId, functionId: actionId, input: null, maxRetries: 0 })
            );
            const queued = await runs.start({ uuid });
            assert.ok(queued);
            for (const id of [sync.id, queued.id]) await db.transaction((tx) => runs.finish(tx, id, { status: 'SUCCESS', output: null }));
            const recent = await runs.startInline({ kind: 'on-event', environmentId: envId, connectionDbId, functionId: actionId });
            await db.transaction((tx) => runs.finish(tx, recent.id, { status: 'ERROR', error: { type: 'x', message: 'y' } }));
            await db.query(`UPDATE runs SET finished_at = now() - interval '2 days' WHERE id = ANY($1::bigint[])`, [[sync.id, queued.id]]);
            await runs.purgeAnswered();
            assert.equal(await runs.status(sync.id), undefined);
            assert.equal((await runs.action(envId, uuid))?.status, 'SUCCESS');
            assert.equal(await runs.status(recent.id), 'ERROR');
        });
    });
}
