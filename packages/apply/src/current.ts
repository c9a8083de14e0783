import type { ApiIntegration, BrokerClient, EnvironmentClient } from './client.ts';
import { fingerprint } from './fingerprint.ts';
import type { DesiredState } from './model.ts';

/**
 * What the broker holds, as plan() compares it: every secret (client secrets, private keys, webhook secrets,
 * variable values) is reduced to a per-process fingerprint the moment it is read, so a snapshot holds none.
 */
export interface CurrentCredentials {
    type: string;
    client_id: string | undefined;
    scopes: string | undefined;
    app_id: string | undefined;
    app_link: string | undefined;
    /** Fingerprint of each secret field that is set. */
    secrets: Record<string, string>;
}

export interface CurrentIntegration {
    provider: string;
    display_name: string;
    forward_webhooks: boolean | undefined;
    /** Without base_url_allowlist, which is split out below. */
    integration_config: Record<string, string> | undefined;
    base_url_allowlist: string[] | undefined;
    custom: Record<string, string> | undefined;
    credentials: CurrentCredentials | null;
}

export interface CurrentEnvironment {
    /** False when the environment does not exist yet (only known with the admin key). */
    exists: boolean;
    integrations: Record<string, CurrentIntegration>;
    /** Variable name → fingerprint of its value; undefined when not read (the file does not manage variables). */
    variables: Record<string, string> | undefined;
    webhooks: { url: string | null; secondary_url: string | null; secret: string | undefined } | undefined;
}

export interface CurrentState {
    environments: Record<string, CurrentEnvironment>;
}

const orUndefined = (v: string | null | undefined) => v ?? undefined;

/** Splits a comma-separated allow-list the way the broker reads it (proxy/target.ts). */
export function splitAllowlist(v: string | undefined): string[] | undefined {
    if (v === undefined) return undefined;
    return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** The secret-free snapshot of one integration as the API returned it. */
export function snapshotIntegration(i: ApiIntegration): CurrentIntegration {
    const { base_url_allowlist, ...config } = i.integration_config ?? {};
    const c = i.credentials;
    return {
        provider: i.provider,
        display_name: i.display_name,
        forward_webhooks: i.forward_webhooks,
        integration_config: i.integration_config ? config : undefined,
        base_url_allowlist: splitAllowlist(base_url_allowlist),
        custom: i.custom ?? undefined,
        credentials: c
            ? {
                  type: c.type,
                  client_id: orUndefined(c.client_id),
                  scopes: orUndefined(c.scopes),
                  app_id: orUndefined(c.app_id),
                  app_link: orUndefined(c.app_link),
                  secrets: secretFingerprints(c)
              }
            : null
    };
}

/** One fingerprint per secret credential field that is set. */
export function secretFingerprints(c: { client_secret?: string | null; private_key?: string | null; webhook_secret?: string | null }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const field of ['client_secret', 'private_key', 'webhook_secret'] as const) {
        const v = c[field];
        if (typeof v === 'string' && v !== '') out[field] = fingerprint({ [field]: v });
    }
    return out;
}

/** Reads one integration (undefined when absent). */
export async function readIntegration(env: EnvironmentClient, uniqueKey: string): Promise<CurrentIntegration | undefined> {
    const i = await env.getIntegration(uniqueKey);
    return i ? snapshotIntegration(i) : undefined;
}

/** A secret key used with a desired state naming an environment that is not the key's. */
export class WrongEnvironment extends Error {
    /** The environment the key belongs to. */
    readonly keyEnvironment: string;
    /** The environments the desired state names. */
    readonly named: string[];
    constructor(keyEnvironment: string, named: string[]) {
        super(
            `the secret key belongs to environment "${keyEnvironment}", but the file names ${named.map((n) => `"${n}"`).join(', ')}: nothing was read or changed; use that environment's key, or the admin key`
        );
        this.name = 'WrongEnvironment';
        this.keyEnvironment = keyEnvironment;
        this.named = named;
    }
}

/**
 * With a secret key the environment in a request is only a label: the key decides. So the desired state must name
 * exactly the key's environment, which the broker tells (GET /environment); otherwise a file for `prod` applied
 * with `dev`'s key would change (and prune) dev.
 */
async function checkKeyEnvironment(broker: BrokerClient, names: string[]): Promise<void> {
    const own = await broker.keyEnvironment();
    if (names.length !== 1 || names[0] !== own) throw new WrongEnvironment(own, names);
}

/**
 * Reads what the desired state's environments hold: every integration (so prune can see the unnamed ones), and
 * variables and webhook settings only where the desired state manages them. Other environments are not read.
 */
export async function readCurrent(broker: BrokerClient, desired: DesiredState): Promise<CurrentState> {
    const names = Object.keys(desired.environments);
    if (broker.auth === 'secret') await checkKeyEnvironment(broker, names);
    const existing = broker.auth === 'admin' ? new Set(await broker.listEnvironments()) : new Set(names);
    const environments: Record<string, CurrentEnvironment> = {};
    for (const name of names) {
        const want = desired.environments[name]!;
        if (!existing.has(name)) {
            environments[name] = { exists: false, integrations: {}, variables: want.variables ? {} : undefined, webhooks: undefined };
            continue;
        }
        const env = broker.environment(name);
        const integrations: Record<string, CurrentIntegration> = {};
        if (want.integrations) {
            for (const key of await env.listIntegrationKeys()) {
                const i = await readIntegration(env, key);
                if (i) integrations[key] = i;
            }
        }
        let variables: Record<string, string> | undefined;
        if (want.variables) {
            variables = {};
            for (const [k, v] of Object.entries(await env.getVariables())) variables[k] = fingerprint({ value: v });
        }
        let webhooks: CurrentEnvironment['webhooks'];
        if (want.webhooks) {
            const w = await env.getWebhookSettings();
            webhooks = { url: w.url, secondary_url: w.secondary_url, secret: w.secret ? fingerprint({ secret: w.secret }) : undefined };
        }
        environments[name] = { exists: true, integrations, variables, webhooks };
    }
    return { environments };
}
