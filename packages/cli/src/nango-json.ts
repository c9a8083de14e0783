import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledScript } from './types.ts';

/**
 * `.nango/nango.json`: one entry per integration with its syncs, actions and on-event scripts, in the shape the
 * official CLI writes (recorded in test/fixtures; `usedModels` + `json_schema` per script).
 */
export function writeNangoJson(projectDir: string, scripts: CompiledScript[]): string {
    const byKey = new Map<string, CompiledScript[]>();
    for (const s of scripts) byKey.set(s.providerConfigKey, [...(byKey.get(s.providerConfigKey) ?? []), s]);
    const out = [...byKey].map(([providerConfigKey, list]) => ({
        providerConfigKey,
        actions: list
            .filter((s) => s.type === 'action')
            .map((s) => ({
                type: 'action',
                description: s.description,
                endpoint: s.endpoints[0] ?? null,
                input: s.input,
                name: s.name,
                output: s.output,
                scopes: s.scopes,
                usedModels: Object.keys(s.jsonSchema.definitions),
                version: s.version,
                json_schema: s.jsonSchema,
                features: s.features
            })),
        syncs: list
            .filter((s) => s.type === 'sync')
            .map((s) => ({
                type: 'sync',
                description: s.description,
                auto_start: s.autoStart,
                endpoints: s.endpoints,
                input: s.input,
                name: s.name,
                output: s.output,
                runs: s.runs,
                scopes: s.scopes,
                sync_type: s.syncType,
                track_deletes: s.trackDeletes,
                usedModels: Object.keys(s.jsonSchema.definitions),
                version: s.version,
                webhookSubscriptions: s.webhookSubscriptions,
                json_schema: s.jsonSchema,
                features: s.features
            })),
        onEventScripts: {
            'post-connection-creation': names(list, 'post-connection-creation'),
            'pre-connection-deletion': names(list, 'pre-connection-deletion'),
            'validate-connection': names(list, 'validate-connection')
        }
    }));
    const dir = join(projectDir, '.nango');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'nango.json');
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    return file;
}

function names(list: CompiledScript[], event: string): string[] {
    return list.filter((s) => s.type === 'on-event' && s.event === event).map((s) => s.name);
}
