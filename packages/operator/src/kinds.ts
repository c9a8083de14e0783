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

/**
 * The operator's own broker (SWITCHBOARD_URL and SWITCHBOARD_SECRET_KEY), used by resources that name none, and
 * the broker URLs a resource may name instead (SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS; any when undefined).
 */
export interface BrokerDefaults {
    baseUrl?: string | undefined;
    secretKey?: string | undefined;
    allowedUrls?: string[] | undefined;
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

/** The integration a spec describes; the reconciler adds who owns it. */
export type SpecIntegration = Omit<DesiredIntegration, 'owner' | 'ownerRef'>;

export interface Resolved {
    target: BrokerTarget;
    /** True when the key came from the resource (nango_token, spec.broker.secretKeyRef), not the operator. */
    ownKey: boolean;
    integration: SpecIntegration;
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

/** A broker base URL in one spelling (WHATWG-parsed, no trailing slash), so that two spellings compare equal. */
export function normalizeUrl(url: string, field: string): string {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new SpecError('InvalidSpec', `${field}: not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SpecError('InvalidSpec', `${field}: only http and https URLs are allowed`);
    if (u.username || u.password || u.search || u.hash) throw new SpecError('InvalidSpec', `${field}: a broker URL has no credentials, query or fragment`);
    return u.href.replace(/\/+$/, '');
}

/** True when `url` is one of the allowed base URLs, or below one of them on a path boundary. */
function allowedUrl(url: string, allowed: string[]): boolean {
    return allowed.some((a) => url === a || url.startsWith(`${a}/`));
}

/** The resource fields that name a broker and its key, for messages. */
export interface BrokerFields {
    url: string;
    key: string;
}

/**
 * Where a resource's integration goes. The operator's key is only ever sent to the operator's URL: a resource that
 * names another broker must name that broker's key too, so a resource cannot make the operator send its key to an
 * address of the resource's choosing. A named URL must also be on the operator's allow-list when it has one.
 */
export function brokerTarget(url: string | undefined, key: string | undefined, defaults: BrokerDefaults, fields: BrokerFields): BrokerTarget {
    const defaultUrl = defaults.baseUrl ? normalizeUrl(defaults.baseUrl, 'SWITCHBOARD_URL') : undefined;
    if (url !== undefined && normalizeUrl(url, fields.url) !== defaultUrl) {
        const baseUrl = normalizeUrl(url, fields.url);
        if (!key) {
            throw new SpecError(
                'BrokerKeyRequired',
                `${fields.url} names a broker other than the operator's: give that broker's key in ${fields.key} (the operator's own key is only sent to its SWITCHBOARD_URL)`
            );
        }
        if (defaults.allowedUrls && !allowedUrl(baseUrl, defaults.allowedUrls)) {
            throw new SpecError(
                'BrokerURLNotAllowed',
                `${fields.url}: ${baseUrl} is not one of the brokers the operator may call (SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS)`
            );
        }
        return { baseUrl, secretKey: key };
    }
    if (!defaultUrl) throw new SpecError('NoBrokerURL', `no broker URL: set ${fields.url} on the resource or SWITCHBOARD_URL on the operator`);
    const secretKey = key ?? defaults.secretKey;
    if (!secretKey) throw new SpecError('NoBrokerKey', `no broker secret key: set ${fields.key} on the resource or SWITCHBOARD_SECRET_KEY on the operator`);
    return { baseUrl: defaultUrl, secretKey };
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
function desired(uniqueKey: string, raw: Record<string, unknown>, fieldNames: Record<string, string>, allowReplace: boolean): SpecIntegration {
    const r = integrationSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
    if (!r.success) {
        const where = (path: PropertyKey[]) => `spec.${[fieldNames[String(path[0])] ?? String(path[0]), ...path.slice(1).map(String)].join('.')}`;
        throw new SpecError('InvalidSpec', r.error.issues.map((i) => `${where(i.path)}: ${i.message}`).join('; '));
    }
    return { uniqueKey, integration: r.data, allowReplace };
}

const nangoFields: BrokerFields = { url: 'spec.nango_base_url', key: 'spec.nango_token' };
const switchboardFields: BrokerFields = { url: 'spec.broker.url', key: 'spec.broker.secretKeyRef' };

/** The key a SwitchboardIntegration names in a Secret, read (throws SecretNotFound / SecretKeyNotFound). */
function keyFromSecret(secrets: SecretReader, namespace: string, ref: { name: string; key: string }): string {
    const key = readSecret(secrets, namespace, ref.name)[ref.key];
    if (!key) throw new SpecError('SecretKeyNotFound', `Secret ${namespace}/${ref.name} has no key "${ref.key}"`);
    return key;
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
        const key = s.nango_token || undefined;
        return {
            target: brokerTarget(s.nango_base_url, key, defaults, nangoFields),
            ownKey: key !== undefined,
            integration: desired(s.unique_key, { provider: s.provider, display_name: s.display_name, credentials: s.credentials }, {}, allowReplace),
            secrets: []
        };
    }
    const s = parseSpec(switchboardSpec, spec);
    const used: string[] = [];
    let key: string | undefined;
    if (s.broker?.secretKeyRef) {
        used.push(s.broker.secretKeyRef.name);
        key = keyFromSecret(secrets, namespace, s.broker.secretKeyRef);
    }
    // Checked before the credentials Secret is read: a resource naming a broker without its key learns that first.
    const target = brokerTarget(s.broker?.url, key, defaults, switchboardFields);
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
        target,
        ownKey: key !== undefined,
        integration: desired(
            s.uniqueKey,
            { provider: s.provider, display_name: s.displayName, forward_webhooks: s.forwardWebhooks, credentials },
            { display_name: 'displayName', forward_webhooks: 'forwardWebhooks' },
            allowReplace
        ),
        secrets: used
    };
}

// Only the fields that say where the integration is, read leniently: deleting needs these and nothing else.
const nangoBroker = z.looseObject({ unique_key: z.string().min(1).optional(), nango_token: z.string().optional(), nango_base_url: z.string().optional() });
const switchboardBroker = z.looseObject({
    uniqueKey: z.string().min(1).optional(),
    broker: z.looseObject({ url: z.string().optional(), secretKeyRef: secretKeyRef.optional() }).optional()
});

/** Where a resource says its integration is, without credentials: what removing it needs. */
export interface BrokerRef {
    uniqueKey: string | undefined;
    url: string | undefined;
    /** The key the resource gives inline (nango_token). */
    key: string | undefined;
    /** The Secret the resource takes its key from. */
    keyRef: { name: string; key: string } | undefined;
    fields: BrokerFields;
}

/** The broker part of a spec (throws InvalidSpec only when even that cannot be read). */
export function brokerRef(kind: KindInfo, spec: unknown): BrokerRef {
    if (kind === nangoKind) {
        const s = parseSpec(nangoBroker, spec);
        return { uniqueKey: s.unique_key, url: s.nango_base_url, key: s.nango_token || undefined, keyRef: undefined, fields: nangoFields };
    }
    const s = parseSpec(switchboardBroker, spec);
    return { uniqueKey: s.uniqueKey, url: s.broker?.url, key: undefined, keyRef: s.broker?.secretKeyRef, fields: switchboardFields };
}

/**
 * The target for removing an integration the resource applied at `url` (the URL recorded in its status), with only
 * the key Secret read. Undefined when no key may be used there: the resource names a key that is gone (its Secret
 * was deleted, as when the namespace is deleted), or the URL is not the operator's and the resource names no key.
 */
export function removalTarget(ref: BrokerRef, url: string, namespace: string, secrets: SecretReader, defaults: BrokerDefaults): BrokerTarget | undefined {
    let key = ref.key;
    if (ref.keyRef) {
        try {
            key = keyFromSecret(secrets, namespace, ref.keyRef);
        } catch (err) {
            if (err instanceof SpecError) return undefined;
            throw err;
        }
    }
    try {
        return brokerTarget(url, key, defaults, ref.fields);
    } catch (err) {
        if (err instanceof SpecError) return undefined;
        throw err;
    }
}

/** The Secret names a resource references, read without failing: the Secrets a reconcile reads. */
export function referencedSecrets(kind: KindInfo, spec: unknown): string[] {
    if (kind !== switchboardKind) return [];
    const s = switchboardSpec.safeParse(spec);
    if (!s.success) {
        const b = switchboardBroker.safeParse(spec);
        return b.success && b.data.broker?.secretKeyRef ? [b.data.broker.secretKeyRef.name] : [];
    }
    return [s.data.broker?.secretKeyRef?.name, s.data.credentials?.secretRef?.name].filter((n): n is string => Boolean(n));
}
