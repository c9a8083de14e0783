import { integrationSchema } from '@switchboard/apply';
import { z } from 'zod';
import type { BrokerTarget, DesiredIntegration } from './broker.ts';

/** The custom resource kinds the operator reconciles. */
export interface KindInfo {
    group: string;
    version: string;
    kind: string;
    plural: string;
}

export const nangoKind: KindInfo = { group: 'nango.nango.dev', version: 'v1alpha1', kind: 'NangoIntegration', plural: 'nangointegrations' };
export const switchboardKind: KindInfo = { group: 'switchboard.dev', version: 'v1alpha1', kind: 'SwitchboardIntegration', plural: 'switchboardintegrations' };
export const kinds = [nangoKind, switchboardKind];

/** The finalizer that holds a resource until its integration is removed from the broker. */
export const finalizer = 'switchboard.dev/integration';

/** A Secret's decoded data, or undefined when it does not exist (or is not yet in the cache). */
export type SecretReader = (namespace: string, name: string) => Record<string, string> | undefined;

/** Where a broker is when a resource does not say (SWITCHBOARD_URL and SWITCHBOARD_SECRET_KEY of the operator). */
export interface BrokerDefaults {
    baseUrl?: string | undefined;
    secretKey?: string | undefined;
}

/** A resource that cannot be turned into a broker call (a missing Secret, no broker URL): reported, retried. */
export class SpecError extends Error {
    readonly reason: string;
    constructor(reason: string, message: string) {
        super(message);
        this.name = 'SpecError';
        this.reason = reason;
    }
}

export interface Resolved {
    target: BrokerTarget;
    integration: DesiredIntegration;
    /** Names of the Secrets (same namespace) the resource reads: a change to one re-reconciles it. */
    secrets: string[];
}

// NangoIntegration's spec exactly as Nango's operator users write it. Credentials are passed through as written:
// whether their type fits the provider is the broker's call (an OAUTH1 type for an OAuth 2 provider is refused there
// and reported as IntegrationCreationFailed).
const nangoSpec = z.object({
    unique_key: z.string().min(1),
    provider: z.string().min(1),
    display_name: z.string().optional(),
    credentials: z.record(z.string(), z.string()).optional(),
    nango_token: z.string().optional(),
    nango_base_url: z.string().optional()
});

const secretKeyRef = z.object({ name: z.string().min(1), key: z.string().min(1).default('secret-key') });
const switchboardSpec = z.object({
    uniqueKey: z.string().min(1),
    provider: z.string().min(1),
    displayName: z.string().optional(),
    forwardWebhooks: z.boolean().optional(),
    credentials: z
        .object({
            type: z.string().min(1),
            clientId: z.string().optional(),
            scopes: z.array(z.string()).optional(),
            secretRef: z.object({ name: z.string().min(1) }).optional()
        })
        .optional(),
    broker: z.object({ url: z.string().optional(), secretKeyRef: secretKeyRef.optional() }).optional()
});

/** The keys of a credentials Secret, named as in the broker's `credentials` object. */
const secretCredentialKeys = ['client_id', 'client_secret', 'private_key', 'app_id', 'app_link', 'webhook_secret', 'scopes'];

const trimSlash = (u: string) => u.replace(/\/+$/, '');

function target(url: string | undefined, key: string | undefined, defaults: BrokerDefaults): BrokerTarget {
    const baseUrl = url ?? defaults.baseUrl;
    const secretKey = key ?? defaults.secretKey;
    if (!baseUrl) throw new SpecError('NoBrokerURL', 'no broker URL: set it on the resource or SWITCHBOARD_URL on the operator');
    if (!secretKey) throw new SpecError('NoBrokerKey', 'no broker secret key: set it on the resource or SWITCHBOARD_SECRET_KEY on the operator');
    return { baseUrl: trimSlash(baseUrl), secretKey };
}

function parseSpec<T>(schema: z.ZodType<T>, spec: unknown): T {
    const r = schema.safeParse(spec);
    if (!r.success) {
        throw new SpecError('InvalidSpec', r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
    }
    return r.data;
}

function readSecret(secrets: SecretReader, namespace: string, name: string): Record<string, string> {
    const data = secrets(namespace, name);
    if (!data) throw new SpecError('SecretNotFound', `Secret ${namespace}/${name} does not exist`);
    return data;
}

/** The annotation that allows a provider change to replace the integration (deleting its connections). */
export const allowReplaceAnnotation = 'switchboard.dev/allow-replace';

/** The desired integration in the model of `switchboard apply`; its checks are reported as the resource's fields. */
function desired(uniqueKey: string, raw: Record<string, unknown>, fieldNames: Record<string, string>, allowReplace: boolean): DesiredIntegration {
    const r = integrationSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
    if (!r.success) {
        const where = (path: PropertyKey[]) => `spec.${[fieldNames[String(path[0])] ?? String(path[0]), ...path.slice(1).map(String)].join('.')}`;
        throw new SpecError('InvalidSpec', r.error.issues.map((i) => `${where(i.path)}: ${i.message}`).join('; '));
    }
    return { uniqueKey, integration: r.data, allowReplace };
}

/** Turns a resource's spec into the broker call it stands for, reading the Secrets it references. */
export function resolve(
    kind: KindInfo,
    namespace: string,
    spec: unknown,
    secrets: SecretReader,
    defaults: BrokerDefaults,
    annotations: Record<string, string> = {}
): Resolved {
    const allowReplace = annotations[allowReplaceAnnotation] === 'true';
    if (kind === nangoKind) {
        const s = parseSpec(nangoSpec, spec);
        return {
            target: target(s.nango_base_url, s.nango_token, defaults),
            integration: desired(s.unique_key, { provider: s.provider, display_name: s.display_name, credentials: s.credentials }, {}, allowReplace),
            secrets: []
        };
    }
    const s = parseSpec(switchboardSpec, spec);
    const used: string[] = [];
    let key: string | undefined;
    if (s.broker?.secretKeyRef) {
        const ref = s.broker.secretKeyRef;
        used.push(ref.name);
        key = readSecret(secrets, namespace, ref.name)[ref.key];
        if (!key) throw new SpecError('SecretKeyNotFound', `Secret ${namespace}/${ref.name} has no key "${ref.key}"`);
    }
    let credentials: Record<string, string> | undefined;
    if (s.credentials) {
        credentials = { type: s.credentials.type };
        if (s.credentials.clientId) credentials['client_id'] = s.credentials.clientId;
        if (s.credentials.scopes) credentials['scopes'] = s.credentials.scopes.join(',');
        if (s.credentials.secretRef) {
            used.push(s.credentials.secretRef.name);
            const data = readSecret(secrets, namespace, s.credentials.secretRef.name);
            for (const k of secretCredentialKeys) if (data[k] !== undefined && credentials[k] === undefined) credentials[k] = data[k];
        }
    }
    return {
        target: target(s.broker?.url, key, defaults),
        integration: desired(
            s.uniqueKey,
            { provider: s.provider, display_name: s.displayName, forward_webhooks: s.forwardWebhooks, credentials },
            { display_name: 'displayName', forward_webhooks: 'forwardWebhooks' },
            allowReplace
        ),
        secrets: used
    };
}

/** The Secret names a resource references (to re-reconcile it when one changes), read without failing. */
export function referencedSecrets(kind: KindInfo, spec: unknown): string[] {
    if (kind !== switchboardKind) return [];
    const s = switchboardSpec.safeParse(spec);
    if (!s.success) return [];
    return [s.data.broker?.secretKeyRef?.name, s.data.credentials?.secretRef?.name].filter((n): n is string => Boolean(n));
}
