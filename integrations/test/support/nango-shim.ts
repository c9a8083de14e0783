// What the Switchboard CLI resolves `nango` to at compile time: createX(cfg) → { type, ...cfg }.
export const createSync = <T extends object>(cfg: T) => ({ type: 'sync' as const, ...cfg });
export const createAction = <T extends object>(cfg: T) => ({ type: 'action' as const, ...cfg });
export const createOnEvent = <T extends object>(cfg: T) => ({ type: 'onEvent' as const, ...cfg });
