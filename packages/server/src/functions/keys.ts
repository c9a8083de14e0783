/** Where a sync's data lives: its records' model key and its checkpoint keys, all variant-aware (docs/scripts-compatibility.md, "Records" and "Checkpoints"). */
export const BASE_VARIANT = 'base';

export function recordModelKey(model: string, variant: string): string {
    return variant && variant !== BASE_VARIANT ? `${model}::${variant}` : model;
}

export function syncCheckpointKey(name: string, variant: string): string {
    return `sync:${name}${variant && variant !== BASE_VARIANT ? `:${variant}` : ''}`;
}

/**
 * A sync's webhook runs keep their own checkpoint, `webhook:<name>[:variant]` (docs/scripts-compatibility.md, "Checkpoints"), so an
 * onWebhook handler never moves the scheduled run's cursor.
 */
export function webhookCheckpointKey(name: string, variant: string): string {
    return `webhook:${name}${variant && variant !== BASE_VARIANT ? `:${variant}` : ''}`;
}

/** The trackDeletes window of one model sits under its sync's checkpoint key: `sync:<name>[:variant]:trackDeletes:<Model>`. */
export const TRACK_DELETES_INFIX = ':trackDeletes:';

export function trackDeletesKey(checkpointKey: string, model: string): string {
    return `${checkpointKey}${TRACK_DELETES_INFIX}${model}`;
}
