/** Picks and calls the script entry point for a run kind (docs/scripts-compatibility.md, "Run kinds"). */
import { SdkError } from './sdk/errors.ts';
import type { ScriptKind } from './types.ts';

/** `type` a zero-YAML default export must carry for each run kind (webhook runs belong to a sync). */
const ZERO_YAML_TYPE: Record<ScriptKind, string> = { sync: 'sync', action: 'action', 'on-event': 'onEvent', webhook: 'sync' };

type Entry = (...args: unknown[]) => unknown;

/** Calls the entry; returns its result (`true` for syncs, as the Nango runner reports). */
export async function dispatch(moduleExports: Record<string, unknown>, kind: ScriptKind, nango: unknown, input: unknown): Promise<unknown> {
    const def = moduleExports['default'];
    if (typeof def === 'object' && def !== null) return callZeroYaml(def as Record<string, unknown>, kind, nango, input);
    if (typeof def === 'function') return callLegacy(def as Entry, moduleExports, kind, nango, input);
    throw new SdkError('invalid_script', 'The bundle has no default export (expected a createSync/createAction/createOnEvent object or a function)');
}

async function callZeroYaml(def: Record<string, unknown>, kind: ScriptKind, nango: unknown, input: unknown): Promise<unknown> {
    const expected = ZERO_YAML_TYPE[kind];
    if (def['type'] !== expected) {
        throw new SdkError('invalid_script', `The script is of type '${String(def['type'])}' but was run as '${kind}' (expected type '${expected}')`);
    }
    if (kind === 'webhook') {
        const onWebhook = def['onWebhook'];
        if (typeof onWebhook !== 'function') throw new SdkError('invalid_script', 'The sync has no onWebhook handler');
        return (onWebhook as Entry).call(def, nango, input);
    }
    const exec = def['exec'];
    if (typeof exec !== 'function') throw new SdkError('invalid_script', 'The script object has no exec function');
    if (kind === 'sync') {
        await (exec as Entry).call(def, nango);
        return true;
    }
    // A zero-YAML action receives its input exactly as sent, `{}` included (issue #11 item 1).
    if (kind === 'action') return (exec as Entry).call(def, nango, input);
    return (exec as Entry).call(def, nango);
}

async function callLegacy(def: Entry, moduleExports: Record<string, unknown>, kind: ScriptKind, nango: unknown, input: unknown): Promise<unknown> {
    if (kind === 'webhook') {
        const handler = moduleExports['onWebhookPayloadReceived'];
        if (typeof handler !== 'function') throw new SdkError('invalid_script', 'The sync bundle exports no onWebhookPayloadReceived function');
        return (handler as Entry)(nango, input);
    }
    if (kind === 'sync') {
        await def(nango);
        return true;
    }
    if (kind === 'action') return def(nango, legacyActionInput(input));
    return def(nango);
}

/** Legacy default-exported actions get `undefined` rather than an empty-object input, as on Nango's runner (only them). */
function legacyActionInput(input: unknown): unknown {
    if (typeof input === 'object' && input !== null && !Array.isArray(input) && Object.keys(input).length === 0) return undefined;
    return input;
}
