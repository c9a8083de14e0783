import { BrokerError, type BrokerClient, type EnvironmentClient } from './client.ts';
import { readIntegration, type CurrentIntegration } from './current.ts';
import type { DesiredIntegration, StatePath } from './model.ts';
import { destructiveActions, payloadOf, planIntegration, type Action, type FieldChange, type Plan } from './plan.ts';

export class DestructiveChangeRefused extends Error {
    readonly actions: Action[];
    constructor(actions: Action[]) {
        super(`the plan deletes or replaces ${actions.length} integration(s) and their connections; apply it with allowDestructive`);
        this.name = 'DestructiveChangeRefused';
        this.actions = actions;
    }
}

/**
 * The broker changed since the plan was read in a way applying it would get wrong (an integration created meanwhile
 * with another provider): nothing was done to it; plan again.
 */
export class PlanOutdated extends Error {
    readonly environment: string;
    readonly key: string;
    constructor(environment: string, key: string, message: string) {
        super(message);
        this.name = 'PlanOutdated';
        this.environment = environment;
        this.key = key;
    }
}

export interface ApplyOptions {
    /** Required when the plan deletes or replaces an integration (its connections go with it). */
    allowDestructive?: boolean;
    /** Called after each action succeeded (progress output). */
    onApplied?: (action: Action) => void;
}

/** Where a broker's issue path (in a request body) sits in the desired state. */
function statePath(action: Action, issuePath: ReadonlyArray<string | number>): StatePath {
    const env = ['environments', action.environment];
    if (action.kind === 'set-variables') {
        const p = payloadOf(action);
        const index = issuePath[1];
        const names = p?.kind === 'variables' ? Object.keys(p.variables) : [];
        return typeof index === 'number' && names[index] ? [...env, 'variables', names[index]] : [...env, 'variables'];
    }
    if (action.kind === 'update-webhooks') return [...env, 'webhooks', ...issuePath];
    if (action.kind === 'create-environment') return env;
    const base = [...env, 'integrations', action.key];
    const [head, ...rest] = issuePath;
    if (head === 'unique_key' || head === 'uniqueKey' || head === undefined) return base;
    if (head === 'integration_config' && rest[0] === 'base_url_allowlist') return [...base, 'base_url_allowlist'];
    return [...base, head, ...rest];
}

async function run(broker: BrokerClient, action: Action): Promise<void> {
    const env = broker.environment(action.environment);
    const payload = payloadOf(action);
    switch (action.kind) {
        case 'create-environment':
            try {
                await broker.createEnvironment(action.environment);
            } catch (err) {
                // Created since the plan was read (another apply, another replica): the goal is reached.
                if (!(err instanceof BrokerError && err.status === 409)) throw err;
            }
            return;
        case 'set-variables':
            if (payload?.kind === 'variables') await env.putVariables(payload.variables);
            return;
        case 'update-webhooks':
            if (payload?.kind === 'webhooks') await env.patchWebhookSettings(payload.body);
            return;
        default:
            return runIntegration(env, action);
    }
}

type IntegrationAction = Extract<Action, { key: string }>;

async function runIntegration(env: EnvironmentClient, action: IntegrationAction): Promise<void> {
    const payload = payloadOf(action);
    const body = payload?.kind === 'integration' ? payload.body : undefined;
    switch (action.kind) {
        case 'create-integration':
            if (body) await createOrUpdate(env, action.key, body);
            return;
        case 'update-integration':
            if (body) await env.updateIntegration(action.key, body);
            return;
        case 'replace-integration':
            if (body) await replace(env, action.key, body);
            return;
        case 'delete-integration':
            await env.deleteIntegration(action.key);
            return;
    }
}

/**
 * Creates the integration; if it appeared since the plan was read with the same provider, updates it instead
 * (apply is idempotent). One with another provider is left alone: making it so would be a replace nobody planned.
 */
async function createOrUpdate(env: EnvironmentClient, key: string, body: Record<string, unknown>): Promise<void> {
    try {
        await env.createIntegration(body);
    } catch (err) {
        if (!(err instanceof BrokerError && err.uniqueKeyTaken)) throw err;
        const { provider, unique_key: _key, ...patch } = body;
        const found = await env.getIntegration(key);
        if (found && found.provider !== provider)
            throw new PlanOutdated(
                env.name,
                key,
                `integration "${key}" of environment "${env.name}" was created with provider "${found.provider}" since the plan was read (the plan creates it with "${String(provider)}"); nothing was changed: plan again`
            );
        await env.updateIntegration(key, patch);
    }
}

/** Replaces the integration in one step on the broker (a refusal leaves it as it was); creates it if it is gone. */
async function replace(env: EnvironmentClient, key: string, body: Record<string, unknown>): Promise<void> {
    const { unique_key: _key, ...replacement } = body;
    try {
        await env.replaceIntegration(key, replacement);
    } catch (err) {
        if (!(err instanceof BrokerError && err.status === 404 && err.code === 'not_found')) throw err;
        await createOrUpdate(env, key, body);
    }
}

/**
 * Carries out a plan, action by action, stopping at the first refusal: the BrokerError thrown carries `path`, the
 * place in the desired state the broker refused. Running the same desired state again plans nothing.
 */
export async function apply(broker: BrokerClient, plan: Plan, opts: ApplyOptions = {}): Promise<void> {
    const destructive = destructiveActions(plan);
    if (destructive.length && !opts.allowDestructive) throw new DestructiveChangeRefused(destructive);
    for (const action of plan.actions) {
        try {
            await run(broker, action);
        } catch (err) {
            if (err instanceof BrokerError) err.path = statePath(action, err.issues[0]?.path ?? []);
            throw err;
        }
        opts.onApplied?.(action);
    }
}

export interface UpsertResult {
    outcome: 'created' | 'updated' | 'replaced' | 'unchanged';
    /** What changed, secret-free (secret fields say only set/changed/removed). */
    changes: FieldChange[];
}

/**
 * Makes one integration of one environment as desired (the operator's reconcile step): reads it, plans it, and
 * applies the difference. A provider change replaces the integration only with `allowReplace`. `desired` may be a
 * function of what the broker holds (undefined when absent), called once after the read: it may refuse by throwing
 * (the operator refuses an integration another resource owns) or keep some of it (the other `custom` keys).
 */
export async function upsertIntegration(
    env: EnvironmentClient,
    key: string,
    desired: DesiredIntegration | ((have: CurrentIntegration | undefined) => DesiredIntegration),
    opts: { allowReplace?: boolean } = {}
): Promise<UpsertResult> {
    const have = await readIntegration(env, key);
    const want = typeof desired === 'function' ? desired(have) : desired;
    const action = planIntegration(env.name, key, want, have);
    if (!action) return { outcome: 'unchanged', changes: [] };
    if (action.kind === 'replace-integration' && !opts.allowReplace) throw new DestructiveChangeRefused([action]);
    try {
        if ('key' in action) await runIntegration(env, action);
    } catch (err) {
        if (err instanceof BrokerError) err.path = statePath(action, err.issues[0]?.path ?? []);
        throw err;
    }
    const outcome = action.kind === 'create-integration' ? 'created' : action.kind === 'replace-integration' ? 'replaced' : 'updated';
    return { outcome, changes: 'changes' in action ? action.changes : [] };
}

/** Deletes one integration of one environment; false when it did not exist (deleting twice is not an error). */
export function deleteIntegration(env: EnvironmentClient, key: string): Promise<boolean> {
    return env.deleteIntegration(key);
}
