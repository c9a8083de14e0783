import type { DeployedFunction } from './store.ts';

/** `GET /scripts/config` (docs/compatibility.md, "Actions and syncs"): deployed scripts per integration, or as OpenAI tool definitions. */
export function scriptsConfig(fns: DeployedFunction[], format: 'nango' | 'openai'): unknown {
    if (format === 'openai') {
        return {
            data: fns
                .filter((f) => f.type === 'action')
                .map((f) => {
                    const input = f.config.input
                        ? (f.config.jsonSchema?.['definitions'] as Record<string, { properties?: unknown; required?: unknown }> | undefined)?.[f.config.input]
                        : undefined;
                    return {
                        name: f.name,
                        description: f.config.description ?? '',
                        parameters: { type: 'object', properties: input?.properties ?? {}, required: input?.required ?? [] }
                    };
                })
        };
    }
    const byKey = new Map<string, { providerConfigKey: string; provider: string; syncs: unknown[]; actions: unknown[]; 'on-events': unknown[] }>();
    for (const f of fns) {
        let entry = byKey.get(f.providerConfigKey);
        if (!entry)
            byKey.set(f.providerConfigKey, (entry = { providerConfigKey: f.providerConfigKey, provider: f.provider, syncs: [], actions: [], 'on-events': [] }));
        const item = {
            name: f.name,
            type: f.type,
            runs: f.config.runs ?? null,
            auto_start: f.config.autoStart ?? false,
            description: f.config.description ?? '',
            scopes: f.config.scopes ?? [],
            returns: f.config.models ?? [],
            endpoints: f.config.endpoints ?? [],
            input: f.config.input ?? null,
            version: f.version,
            track_deletes: f.config.trackDeletes ?? false,
            sync_type: f.config.syncType ?? 'full',
            webhookSubscriptions: f.config.webhookSubscriptions ?? [],
            json_schema: f.config.jsonSchema ?? null,
            last_deployed: f.deployedAt.toISOString(),
            ...(f.config.event ? { event: f.config.event } : {})
        };
        (f.type === 'sync' ? entry.syncs : f.type === 'action' ? entry.actions : entry['on-events']).push(item);
    }
    return [...byKey.values()];
}
