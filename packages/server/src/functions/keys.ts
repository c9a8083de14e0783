/** Where a sync's data lives: its records' model key and its checkpoint key, both variant-aware (nango-functions.md §2.4, §2.5). */
export function recordModelKey(model: string, variant: string): string {
    return variant && variant !== 'base' ? `${model}::${variant}` : model;
}

export function syncCheckpointKey(name: string, variant: string): string {
    return `sync:${name}${variant && variant !== 'base' ? `:${variant}` : ''}`;
}
