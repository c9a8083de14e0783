import type { Db, Queryable } from '../storage/db.ts';
import type { IntegrationStore } from '../integrations/store.ts';
import type { ConnectionStore } from '../connections/store.ts';
import type { SyncStore } from './syncs.ts';
import { fail } from '../errors.ts';
import type { DeployBody, FlowConfig } from './deploy-schema.ts';
import type { DeployedFunction, FunctionConfig, FunctionInput, FunctionStore, FunctionType } from './store.ts';
import { parseFrequency } from './frequency.ts';

/** What deploying uses, by name. */
export interface DeployDeps {
    db: Db;
    integrations: IntegrationStore;
    connections: ConnectionStore;
    functions: FunctionStore;
    syncs: SyncStore;
}

interface Planned {
    input: FunctionInput;
    providerConfigKey: string;
    models: string[];
}

/** Nango's ScriptDifferences, items shaped as its SlimSync / SlimAction / SlimOnEventScript (@nangohq/types deploy/api). */
export interface DeployDiff {
    newSyncs: DiffItem[];
    updatedSyncs: DiffItem[];
    deletedSyncs: DiffItem[];
    newActions: DiffItem[];
    updatedActions: DiffItem[];
    deletedActions: DiffItem[];
    newOnEventScripts: DiffItem[];
    updatedOnEventScripts: DiffItem[];
    deletedOnEventScripts: DiffItem[];
    deletedModels: string[];
}
/**
 * The official CLI prints `connections` per sync ("N impacted connections") and asks before a deploy that deletes
 * a sync with connections > 0 (nango dist/zeroYaml/deploy.js handleLegacyConfirmation); without the field it
 * printed "undefined impacted connections" and never asked for that reason.
 */
type DiffItem =
    | { name: string; providerConfigKey: string }
    | { name: string; providerConfigKey: string; auto_start: boolean; connections: number }
    | { name: string; providerConfigKey: string; event: string };

/** A script as a plan item. Every connection of the integration has (or, at deploy, gets) one schedule of each sync. */
function diffItem(type: FunctionType, name: string, providerConfigKey: string, config: FunctionConfig, connections: number): DiffItem {
    if (type === 'sync') return { name, providerConfigKey, auto_start: config.autoStart === true, connections };
    if (type === 'on-event') return { name, providerConfigKey, event: config.event ?? '' };
    return { name, providerConfigKey };
}

const keyOf = (providerConfigKey: string, type: FunctionType, name: string) => `${providerConfigKey}\u0000${type}\u0000${name}`;

function configOf(f: FlowConfig): FunctionConfig {
    const syncType = f.sync_type ? f.sync_type.toLowerCase() : null;
    return {
        runs: f.runs ?? null,
        autoStart: f.auto_start === true,
        models: f.models,
        input: f.input ?? null,
        endpoints: f.endpoints ?? [],
        trackDeletes: f.track_deletes === true,
        syncType,
        webhookSubscriptions: f.webhookSubscriptions ?? [],
        jsonSchema: f.models_json_schema ?? null,
        features: f.features ?? [],
        description: f.metadata?.description ?? '',
        scopes: f.metadata?.scopes ?? [],
        ...(f.metadata?.annotations ? { annotations: f.metadata.annotations } : {}),
        attributes: f.attributes ?? {}
    };
}

/** Checks every script and resolves its integration; nothing is written. */
async function plan(s: DeployDeps, environmentId: number, body: DeployBody): Promise<Planned[]> {
    const out: Planned[] = [];
    const integrationId = async (key: string) => {
        const integration = await s.integrations.get(environmentId, key);
        if (!integration)
            throw fail('unknown_provider_config', { status: 400, message: `Integration "${key}" does not exist: create it before deploying its scripts` });
        return integration.id;
    };
    const seen = new Set<string>();
    for (const f of body.flowConfigs) {
        const where = `${f.providerConfigKey}/${f.syncName}`;
        if (f.type === 'sync') {
            const freq = parseFrequency(f.runs ?? '');
            if (!freq.ok) throw fail('invalid_body', { message: `${where}: ${freq.reason}` });
            if (f.sync_type?.toLowerCase() === 'incremental' && f.track_deletes)
                throw fail('invalid_body', { message: `${where}: track_deletes cannot be used with an incremental sync` });
        }
        const schema = f.models_json_schema?.definitions;
        for (const model of [...f.models, ...(f.input ? [f.input] : [])]) {
            if (schema && !(model in schema)) throw fail('invalid_body', { message: `${where}: model "${model}" is missing from models_json_schema` });
        }
        const key = keyOf(f.providerConfigKey, f.type, f.syncName);
        if (seen.has(key)) throw fail('invalid_body', { message: `${where}: deployed twice in one request` });
        seen.add(key);
        out.push({
            providerConfigKey: f.providerConfigKey,
            models: f.type === 'sync' ? f.models : [],
            input: {
                integrationId: await integrationId(f.providerConfigKey),
                type: f.type,
                name: f.syncName,
                version: f.version ?? null,
                js: f.fileBody.js,
                ts: f.fileBody.ts,
                config: configOf(f),
                sdkVersion: body.sdkVersion ?? null
            }
        });
    }
    for (const group of body.onEventScriptsByProvider ?? []) {
        const id = await integrationId(group.providerConfigKey);
        for (const script of group.scripts) {
            out.push({
                providerConfigKey: group.providerConfigKey,
                models: [],
                input: {
                    integrationId: id,
                    type: 'on-event',
                    name: script.name,
                    version: script.version ?? null,
                    js: script.fileBody.js,
                    ts: script.fileBody.ts,
                    config: { event: script.event },
                    sdkVersion: body.sdkVersion ?? null
                }
            });
        }
    }
    return out;
}

/** Which deployed scripts a reconciling deploy removes: all of the environment's, or only those of the integrations it names. */
function removals(body: DeployBody, planned: Planned[], existing: DeployedFunction[]): DeployedFunction[] {
    if (!body.reconcile || body.deployMode === 'single') return [];
    const keep = new Set(planned.map((p) => keyOf(p.providerConfigKey, p.input.type, p.input.name)));
    const scope = body.deployMode === 'integration' ? new Set(planned.map((p) => p.providerConfigKey)) : undefined;
    return existing.filter((f) => !keep.has(keyOf(f.providerConfigKey, f.type, f.name)) && (!scope || scope.has(f.providerConfigKey)));
}

function diffOf(body: DeployBody, planned: Planned[], existing: DeployedFunction[], connections: Map<number, number>): DeployDiff {
    const byKey = new Map(existing.map((f) => [keyOf(f.providerConfigKey, f.type, f.name), f]));
    const d: DeployDiff = {
        newSyncs: [],
        updatedSyncs: [],
        deletedSyncs: [],
        newActions: [],
        updatedActions: [],
        deletedActions: [],
        newOnEventScripts: [],
        updatedOnEventScripts: [],
        deletedOnEventScripts: [],
        deletedModels: []
    };
    const lists = {
        sync: ['newSyncs', 'updatedSyncs', 'deletedSyncs'],
        action: ['newActions', 'updatedActions', 'deletedActions'],
        'on-event': ['newOnEventScripts', 'updatedOnEventScripts', 'deletedOnEventScripts']
    } as const;
    for (const p of planned) {
        const [added, updated] = lists[p.input.type];
        const item = diffItem(p.input.type, p.input.name, p.providerConfigKey, p.input.config, connections.get(p.input.integrationId) ?? 0);
        (byKey.has(keyOf(p.providerConfigKey, p.input.type, p.input.name)) ? d[updated] : d[added]).push(item);
    }
    const keptModels = new Set(planned.flatMap((p) => p.models.map((m) => `${p.providerConfigKey}\u0000${m}`)));
    for (const f of removals(body, planned, existing)) {
        d[lists[f.type][2]].push(diffItem(f.type, f.name, f.providerConfigKey, f.config, connections.get(f.integrationId) ?? 0));
        for (const m of f.config.models ?? []) if (!keptModels.has(`${f.providerConfigKey}\u0000${m}`)) d.deletedModels.push(m);
    }
    return d;
}

export async function confirmDeploy(s: DeployDeps, environmentId: number, body: DeployBody): Promise<DeployDiff> {
    const planned = await plan(s, environmentId, body);
    // The CLIs (official and ours) send the confirmation with `reconcile: false` and the deploy that follows with
    // `reconcile: true`: the plan must show what that deploy will delete, or deletions are never confirmed.
    return diffOf({ ...body, reconcile: true }, planned, await s.functions.list(environmentId), await s.connections.countByIntegration(environmentId));
}

/** Stores every script in one transaction, removes what a reconciling deploy drops, and schedules new syncs on existing connections. */
export async function deploy(s: DeployDeps, environmentId: number, body: DeployBody): Promise<unknown[]> {
    const planned = await plan(s, environmentId, body);
    const existing = await s.functions.list(environmentId);
    const gone = removals(body, planned, existing);
    await s.db.transaction(async (tx: Queryable) => {
        for (const p of planned) await s.functions.upsert(tx, p.input);
        await s.functions.remove(
            tx,
            gone.map((f) => f.id)
        );
        await s.syncs.ensureSchedules(tx, { environmentId });
    });
    const after = await s.functions.list(environmentId);
    const deployedKeys = new Set(planned.map((p) => keyOf(p.providerConfigKey, p.input.type, p.input.name)));
    return after
        .filter((f) => deployedKeys.has(keyOf(f.providerConfigKey, f.type, f.name)))
        .map((f) => ({
            id: f.id,
            name: f.name,
            version: f.version,
            providerConfigKey: f.providerConfigKey,
            type: f.type,
            models: f.config.models ?? [],
            runs: f.config.runs ?? null,
            input: f.config.input ?? null,
            last_deployed: f.deployedAt.toISOString()
        }));
}
