import { fingerprint } from './fingerprint.ts';
import type { CurrentEnvironment, CurrentIntegration, CurrentState } from './current.ts';
import { secretFingerprints } from './current.ts';
import type { DesiredEnvironment, DesiredIntegration, DesiredState } from './model.ts';

/**
 * A field that differs. Secret fields carry no value, only what happens to them (`set`, `changed`, `removed`);
 * maps that may hold secrets (`custom`, `integration_config`, variables) name their keys only.
 */
export type FieldChange = { field: string; from?: unknown; to?: unknown } | { field: string; secret: true; change: 'set' | 'changed' | 'removed' };

export type Action =
    | { kind: 'create-environment'; environment: string }
    | { kind: 'create-integration'; environment: string; key: string; provider: string; changes: FieldChange[] }
    | { kind: 'update-integration'; environment: string; key: string; changes: FieldChange[] }
    /** The provider of an integration cannot change in place: delete it (and its connections) and create it anew. */
    | { kind: 'replace-integration'; environment: string; key: string; provider: string; changes: FieldChange[] }
    | { kind: 'delete-integration'; environment: string; key: string }
    | { kind: 'set-variables'; environment: string; changes: FieldChange[] }
    | { kind: 'update-webhooks'; environment: string; changes: FieldChange[] };

/** What apply() would do, printable as it is: it holds no secret value (the values travel in a private side table). */
export interface Plan {
    actions: Action[];
    /** Integrations the broker holds in a managed environment that the desired state does not name (kept without prune). */
    unmanaged: Array<{ environment: string; key: string }>;
}

/** The request bodies behind each action: never enumerable from the plan, so printing or serialising it shows none. */
export type Payload =
    | { kind: 'integration'; body: Record<string, unknown> }
    | { kind: 'variables'; variables: Record<string, string> }
    | { kind: 'webhooks'; body: { url?: string | null; secondary_url?: string | null; secret?: string } };
const payloads = new WeakMap<Action, Payload>();

/** The request body apply() sends for an action (undefined for those without one). */
export function payloadOf(action: Action): Payload | undefined {
    return payloads.get(action);
}

function withPayload<A extends Action>(action: A, payload: Payload): A {
    payloads.set(action, payload);
    return action;
}

/** True when applying the plan would change nothing. */
export function isEmpty(plan: Plan): boolean {
    return plan.actions.length === 0;
}

/** Actions that lose data: deleting or replacing an integration drops its connections. */
export function destructiveActions(plan: Plan): Action[] {
    return plan.actions.filter((a) => a.kind === 'delete-integration' || a.kind === 'replace-integration');
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
const changedKeys = (from: Record<string, string> | undefined, to: Record<string, string>) => {
    const a = from ?? {};
    const keys = new Set([...Object.keys(a), ...Object.keys(to)]);
    return [...keys].filter((k) => a[k] !== to[k]).sort();
};
const blankToUndefined = (v: string | undefined) => (v === '' ? undefined : v);

/** The integration_config the broker should hold: the managed parts from the desired state, the rest as it is. */
function desiredConfig(want: DesiredIntegration, have: CurrentIntegration | undefined): Record<string, string> | undefined {
    if (!want.integration_config && !want.base_url_allowlist) return undefined;
    const config = { ...(want.integration_config ?? have?.integration_config ?? {}) };
    const allowlist = want.base_url_allowlist ?? have?.base_url_allowlist;
    if (allowlist?.length) config['base_url_allowlist'] = allowlist.join(',');
    return config;
}

function credentialChanges(want: NonNullable<DesiredIntegration['credentials']>, have: CurrentIntegration['credentials']): FieldChange[] {
    const wantPublic: Record<string, string | undefined> = {
        type: want.type,
        client_id: 'client_id' in want ? want.client_id : undefined,
        scopes: 'scopes' in want ? blankToUndefined(want.scopes) : undefined,
        app_id: 'app_id' in want ? want.app_id : undefined,
        app_link: 'app_link' in want ? want.app_link : undefined
    };
    const havePublic: Record<string, string | undefined> = have
        ? { type: have.type, client_id: have.client_id, scopes: blankToUndefined(have.scopes), app_id: have.app_id, app_link: have.app_link }
        : {};
    const changes: FieldChange[] = [];
    for (const field of Object.keys(wantPublic)) {
        if (wantPublic[field] !== havePublic[field])
            changes.push({ field: `credentials.${field}`, from: havePublic[field] ?? null, to: wantPublic[field] ?? null });
    }
    const wantSecrets = secretFingerprints(want as { client_secret?: string; private_key?: string; webhook_secret?: string });
    const haveSecrets = have?.secrets ?? {};
    for (const field of ['client_secret', 'private_key', 'webhook_secret']) {
        const w = wantSecrets[field];
        const h = haveSecrets[field];
        if (w === h) continue;
        changes.push({ field: `credentials.${field}`, secret: true, change: w === undefined ? 'removed' : h === undefined ? 'set' : 'changed' });
    }
    return changes;
}

/** The body of POST /integrations for a new integration, and what it sets (secret-free). */
function createIntegration(environment: string, key: string, want: DesiredIntegration, kind: 'create-integration' | 'replace-integration'): Action {
    const body: Record<string, unknown> = { provider: want.provider, unique_key: key };
    const changes: FieldChange[] = [{ field: 'provider', to: want.provider }];
    if (want.display_name !== undefined) {
        body['display_name'] = want.display_name;
        changes.push({ field: 'display_name', to: want.display_name });
    }
    if (want.forward_webhooks !== undefined) {
        body['forward_webhooks'] = want.forward_webhooks;
        changes.push({ field: 'forward_webhooks', to: want.forward_webhooks });
    }
    const config = desiredConfig(want, undefined);
    if (config) {
        body['integration_config'] = config;
        if (want.base_url_allowlist) changes.push({ field: 'base_url_allowlist', to: want.base_url_allowlist });
        if (want.integration_config) changes.push({ field: 'integration_config', to: Object.keys(want.integration_config).sort() });
    }
    if (want.custom) {
        body['custom'] = want.custom;
        changes.push({ field: 'custom', to: Object.keys(want.custom).sort() });
    }
    if (want.credentials) {
        body['credentials'] = want.credentials;
        changes.push(...credentialChanges(want.credentials, null));
    }
    return withPayload({ kind, environment, key, provider: want.provider, changes }, { kind: 'integration', body });
}

/**
 * The action that makes one integration as desired, or undefined when it already is. Exported for the operator,
 * which reconciles one integration at a time.
 */
export function planIntegration(environment: string, key: string, want: DesiredIntegration, have: CurrentIntegration | undefined): Action | undefined {
    if (!have) return createIntegration(environment, key, want, 'create-integration');
    if (have.provider !== want.provider) {
        const a = createIntegration(environment, key, want, 'replace-integration');
        if ('changes' in a) a.changes[0] = { field: 'provider', from: have.provider, to: want.provider };
        return a;
    }
    const body: Record<string, unknown> = {};
    const changes: FieldChange[] = [];
    if (want.display_name !== undefined && want.display_name !== have.display_name) {
        body['display_name'] = want.display_name;
        changes.push({ field: 'display_name', from: have.display_name, to: want.display_name });
    }
    if (want.forward_webhooks !== undefined && want.forward_webhooks !== (have.forward_webhooks ?? false)) {
        body['forward_webhooks'] = want.forward_webhooks;
        changes.push({ field: 'forward_webhooks', from: have.forward_webhooks ?? false, to: want.forward_webhooks });
    }
    const config = desiredConfig(want, have);
    if (config) {
        const allowChanged = want.base_url_allowlist !== undefined && !sameList(want.base_url_allowlist, have.base_url_allowlist);
        const configKeys = want.integration_config ? changedKeys(have.integration_config, want.integration_config) : [];
        if (allowChanged) changes.push({ field: 'base_url_allowlist', from: have.base_url_allowlist ?? [], to: want.base_url_allowlist });
        if (configKeys.length) changes.push({ field: 'integration_config', to: configKeys });
        if (allowChanged || configKeys.length) body['integration_config'] = config;
    }
    if (want.custom) {
        const keys = changedKeys(have.custom, want.custom);
        if (keys.length) {
            body['custom'] = want.custom;
            changes.push({ field: 'custom', to: keys });
        }
    }
    if (want.credentials) {
        const c = credentialChanges(want.credentials, have.credentials);
        if (c.length) {
            body['credentials'] = want.credentials;
            changes.push(...c);
        }
    }
    if (!changes.length) return undefined;
    return withPayload({ kind: 'update-integration', environment, key, changes }, { kind: 'integration', body });
}

function planVariables(environment: string, want: Record<string, string>, have: Record<string, string> | undefined): Action | undefined {
    const current = have ?? {};
    const changes: FieldChange[] = [];
    for (const name of [...new Set([...Object.keys(current), ...Object.keys(want)])].sort()) {
        const w = want[name] === undefined ? undefined : fingerprint({ value: want[name] });
        const h = current[name];
        if (w !== h) changes.push({ field: name, secret: true, change: w === undefined ? 'removed' : h === undefined ? 'set' : 'changed' });
    }
    if (!changes.length) return undefined;
    return withPayload({ kind: 'set-variables', environment, changes }, { kind: 'variables', variables: want });
}

function planWebhooks(environment: string, want: NonNullable<DesiredEnvironment['webhooks']>, have: CurrentEnvironment['webhooks']): Action | undefined {
    const current = have ?? { url: null, secondary_url: null, secret: undefined };
    const body: { url?: string | null; secondary_url?: string | null; secret?: string } = {};
    const changes: FieldChange[] = [];
    for (const field of ['url', 'secondary_url'] as const) {
        const w = want[field];
        if (w !== undefined && w !== current[field]) {
            body[field] = w;
            changes.push({ field: `webhooks.${field}`, from: current[field], to: w });
        }
    }
    if (want.secret !== undefined && fingerprint({ secret: want.secret }) !== current.secret) {
        body.secret = want.secret;
        changes.push({ field: 'webhooks.secret', secret: true, change: current.secret ? 'changed' : 'set' });
    }
    if (!changes.length) return undefined;
    return withPayload({ kind: 'update-webhooks', environment, changes }, { kind: 'webhooks', body });
}

/**
 * The actions that make `current` match `desired`. Environments the desired state does not name are not
 * touched; integrations it does not name are deleted only with `prune`.
 */
export function plan(desired: DesiredState, current: CurrentState, opts: { prune?: boolean } = {}): Plan {
    const actions: Action[] = [];
    const unmanaged: Plan['unmanaged'] = [];
    for (const [environment, want] of Object.entries(desired.environments)) {
        const have: CurrentEnvironment = current.environments[environment] ?? { exists: false, integrations: {}, variables: undefined, webhooks: undefined };
        if (!have.exists) actions.push({ kind: 'create-environment', environment });
        for (const [key, integration] of Object.entries(want.integrations ?? {})) {
            const a = planIntegration(environment, key, integration, have.integrations[key]);
            if (a) actions.push(a);
        }
        if (want.integrations) {
            for (const key of Object.keys(have.integrations).sort()) {
                if (key in want.integrations) continue;
                if (opts.prune) actions.push({ kind: 'delete-integration', environment, key });
                else unmanaged.push({ environment, key });
            }
        }
        if (want.variables) {
            const a = planVariables(environment, want.variables, have.variables);
            if (a) actions.push(a);
        }
        if (want.webhooks) {
            const a = planWebhooks(environment, want.webhooks, have.webhooks);
            if (a) actions.push(a);
        }
    }
    return { actions, unmanaged };
}
