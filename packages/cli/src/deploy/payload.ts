import { readFileSync } from 'node:fs';
import type { CompileResult, CompiledScript } from '../types.ts';
import { CLI_VERSION } from '../version.ts';

export type DeployMode = 'all' | 'integration' | 'single';

export interface DeploySelection {
    integration?: string | undefined;
    sync?: string | undefined;
    action?: string | undefined;
    version?: string | undefined;
    debug?: boolean;
}

/** Which scripts a deploy sends, and the deployMode that tells the server what `reconcile` may remove. */
export function selectScripts(result: CompileResult, sel: DeploySelection): { scripts: CompiledScript[]; mode: DeployMode } {
    const name = sel.sync ?? sel.action;
    const type = sel.sync ? 'sync' : 'action';
    let scripts = result.scripts;
    if (sel.integration) scripts = scripts.filter((s) => s.providerConfigKey === sel.integration);
    if (name) scripts = scripts.filter((s) => s.name === name && s.type === type);
    return { scripts, mode: name ? 'single' : sel.integration ? 'integration' : 'all' };
}

/** One `flowConfigs[]` entry (docs/scripts-compatibility.md, "Deploy"), field order as the official CLI sends it. */
function flowConfig(s: CompiledScript, version: string | undefined): Record<string, unknown> {
    const fileBody = { js: readFileSync(s.bundlePath, 'utf8'), ts: readFileSync(s.entryPath, 'utf8') };
    const common = {
        syncName: s.name,
        providerConfigKey: s.providerConfigKey,
        models: s.output,
        version: version ?? s.version,
        runs: s.runs
    };
    if (s.type === 'sync') {
        return {
            ...common,
            track_deletes: s.trackDeletes,
            auto_start: s.autoStart,
            attributes: {},
            metadata: { description: s.description, scopes: s.scopes },
            ...(s.input ? { input: s.input } : {}),
            sync_type: s.syncType,
            type: 'sync',
            fileBody,
            endpoints: s.endpoints,
            webhookSubscriptions: s.webhookSubscriptions,
            models_json_schema: s.jsonSchema,
            features: s.features
        };
    }
    return {
        ...common,
        metadata: { description: s.description, scopes: s.scopes, ...(s.annotations ? { annotations: s.annotations } : {}) },
        ...(s.input ? { input: s.input } : {}),
        type: 'action',
        fileBody,
        endpoints: s.endpoints,
        track_deletes: false,
        models_json_schema: s.jsonSchema,
        features: s.features
    };
}

function onEventsByProvider(scripts: CompiledScript[]): Array<{ providerConfigKey: string; scripts: Array<Record<string, unknown>> }> {
    const byKey = new Map<string, Array<Record<string, unknown>>>();
    for (const s of scripts.filter((x) => x.type === 'on-event')) {
        const list = byKey.get(s.providerConfigKey) ?? [];
        list.push({ name: s.name, event: s.event, fileBody: { js: readFileSync(s.bundlePath, 'utf8'), ts: readFileSync(s.entryPath, 'utf8') } });
        byKey.set(s.providerConfigKey, list);
    }
    return [...byKey].map(([providerConfigKey, list]) => ({ providerConfigKey, scripts: list }));
}

/**
 * The `POST /sync/deploy` body. The confirmation request gets the same body with `reconcile: false` and without
 * `nangoYamlBody`/`source`, as the official CLI 0.71.10 sends it (test/fixtures/nango-cli-deploy-body.json).
 */
export function deployBody(result: CompileResult, sel: DeploySelection): { confirmation: Record<string, unknown>; deploy: Record<string, unknown> } {
    const { scripts, mode } = selectScripts(result, sel);
    const flowConfigs = scripts.filter((s) => s.type !== 'on-event').map((s) => flowConfig(s, sel.version));
    const base = {
        flowConfigs,
        // Single-script deploys leave on-event scripts alone (§3.2).
        onEventScriptsByProvider: mode === 'single' ? [] : onEventsByProvider(scripts),
        deployMode: mode,
        reconcile: false,
        debug: sel.debug ?? false
    };
    const sdkVersion = `${CLI_VERSION}-${result.format === 'legacy' ? 'yaml' : 'zero'}`;
    return {
        confirmation: { ...base, sdkVersion },
        deploy: { ...base, reconcile: true, nangoYamlBody: result.yamlText, sdkVersion, source: 'repo' }
    };
}
