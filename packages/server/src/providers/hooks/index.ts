// The typed hook registry: every name a provider definition may give a hook, resolved to code here. A
// definition's hook names are data; an unknown name is reported at start (and is a test failure for our own
// catalogue), never looked up anywhere else.
import type { StoredCredentials } from '../../connections/credentials.ts';
import type { Integration } from '../../integrations/store.ts';
import { inboundHandlers } from '../../webhooks/inbound/registry.ts';
import type { ProviderDefinition } from '../schema.ts';
import { hookInput } from './call.ts';
import { credentialChecks, postConnectionHooks } from './post-connection.ts';
import type { HookDeps } from './types.ts';

/** Steps Nango runs before a connection is deleted; none of ours needs one yet. */
const preDeletionHooks: Readonly<Record<string, unknown>> = {};

/** The hook names `def` gives that no registry holds, as `field: name`. */
export function missingHooks(def: ProviderDefinition): string[] {
    const out: string[] = [];
    const check = (field: string, name: string | undefined, registry: Readonly<Record<string, unknown>>) => {
        if (name !== undefined && !Object.hasOwn(registry, name)) out.push(`${field}: ${name}`);
    };
    check('post_connection_script', def.post_connection_script, postConnectionHooks);
    check('credentials_verification_script', def.credentials_verification_script, credentialChecks);
    check('webhook_routing_script', def.webhook_routing_script, inboundHandlers);
    check('pre_connection_deletion_script', def.pre_connection_deletion_script, preDeletionHooks);
    return out;
}

/** Runs the definition's post-connection step, if any: the connection_config values to store with the connection. */
export async function runPostConnection(
    deps: HookDeps,
    def: ProviderDefinition,
    integration: Integration,
    credentials: StoredCredentials,
    connectionConfig: Record<string, unknown>
): Promise<Record<string, unknown>> {
    const name = def.post_connection_script;
    const hook = name !== undefined && Object.hasOwn(postConnectionHooks, name) ? postConnectionHooks[name] : undefined;
    if (!hook) return {};
    const out = await hook(hookInput(deps, def, integration, credentials, connectionConfig));
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** Runs the definition's credential check, if any; throws (connection_test_failed) to refuse the credentials. */
export async function runCredentialCheck(
    deps: HookDeps,
    def: ProviderDefinition,
    integration: Integration,
    credentials: StoredCredentials,
    connectionConfig: Record<string, unknown>
): Promise<void> {
    const name = def.credentials_verification_script;
    const check = name !== undefined && Object.hasOwn(credentialChecks, name) ? credentialChecks[name] : undefined;
    if (check) await check(hookInput(deps, def, integration, credentials, connectionConfig));
}
