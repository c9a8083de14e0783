import { readFileSync } from 'node:fs';
import type { TestServer } from './server.ts';
import { api } from './webhooks.ts';

const fixtures = new URL('../fixtures/functions/', import.meta.url);

export interface FixtureScript {
    type: 'sync' | 'action';
    name: string;
    file: string;
    providerConfigKey: string;
    models?: string[];
    input?: string;
    runs?: string;
    autoStart?: boolean;
    webhookSubscriptions?: string[];
}

/** The deploy body the official CLI sends (docs/scripts-compatibility.md, "Deploy"), built around a hand-written bundle. */
export function deployBody(scripts: FixtureScript[], extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        flowConfigs: scripts.map((f) => ({
            type: f.type,
            syncName: f.name,
            providerConfigKey: f.providerConfigKey,
            models: f.models ?? [],
            ...(f.input ? { input: f.input } : {}),
            runs: f.type === 'sync' ? (f.runs ?? 'every hour') : null,
            auto_start: f.autoStart ?? f.type === 'sync',
            track_deletes: false,
            sync_type: 'full',
            endpoints: [],
            metadata: { description: f.name, scopes: [] },
            attributes: {},
            version: '1.0.0',
            fileBody: { js: readFileSync(new URL(f.file, fixtures), 'utf8'), ts: '// source' },
            models_json_schema: { definitions: Object.fromEntries([...(f.models ?? []), ...(f.input ? [f.input] : [])].map((m) => [m, { type: 'object' }])) },
            features: [],
            ...(f.webhookSubscriptions ? { webhookSubscriptions: f.webhookSubscriptions } : {})
        })),
        nangoYamlBody: '',
        reconcile: false,
        debug: false,
        sdkVersion: '0.71.10-zero',
        ...extra
    };
}

export async function deploy(server: TestServer, scripts: FixtureScript[], extra: Record<string, unknown> = {}) {
    return api(server, 'POST', '/sync/deploy', deployBody(scripts, extra));
}

export interface OnEventFixture {
    name: string;
    file: string;
    providerConfigKey: string;
    event: 'post-connection-creation' | 'pre-connection-deletion' | 'validate-connection';
}

/** `onEventScriptsByProvider` as the CLIs send it (docs/scripts-compatibility.md, "Deploy"): each integration's on-event scripts. */
export function onEventGroups(scripts: OnEventFixture[]): Array<{ providerConfigKey: string; scripts: unknown[] }> {
    const groups = new Map<string, unknown[]>();
    for (const f of scripts) {
        const list = groups.get(f.providerConfigKey) ?? [];
        list.push({ name: f.name, event: f.event, fileBody: { js: readFileSync(new URL(f.file, fixtures), 'utf8'), ts: '// source' } });
        groups.set(f.providerConfigKey, list);
    }
    return [...groups].map(([providerConfigKey, list]) => ({ providerConfigKey, scripts: list }));
}
