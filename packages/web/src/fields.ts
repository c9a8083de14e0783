// What the end user is asked for, per provider: credentials for API_KEY / BASIC / OAUTH2_CC, plus the provider's
// connection_config fields that are neither automated nor hidden nor already set by the session's defaults.
import type { Provider, ProviderField, Session } from './api.ts';
import type { StringKey, Translate } from './i18n.ts';

export type Flow =
    | 'oauth'
    | 'api_key'
    | 'basic'
    | 'client_credentials'
    | 'none'
    | 'two_step'
    | 'jwt'
    | 'aws_sigv4'
    | 'tba'
    | 'signature'
    | 'bill'
    | 'unsupported';

export interface FormField {
    /** `credentials.<name>` or `params.<name>` */
    id: string;
    name: string;
    kind: 'credential' | 'param';
    label: string;
    description: string | undefined;
    placeholder: string | undefined;
    secret: boolean;
    required: boolean;
    pattern: RegExp | undefined;
    format: string | undefined;
    /** The only values accepted: a select instead of a text box. */
    options: string[] | undefined;
    prefix: string | undefined;
    suffix: string | undefined;
    initial: string;
}

/** AWS_SIGV4 asks for an access key, or for an IAM role the integration's own key assumes. */
export type AwsVariant = 'key' | 'role';

const OAUTH_MODES = new Set(['OAUTH1', 'OAUTH2', 'APP', 'CUSTOM', 'MCP_OAUTH2']);

export function flowOf(authMode: string): Flow {
    if (OAUTH_MODES.has(authMode)) return 'oauth';
    if (authMode === 'API_KEY') return 'api_key';
    if (authMode === 'BASIC') return 'basic';
    if (authMode === 'OAUTH2_CC') return 'client_credentials';
    if (authMode === 'NONE') return 'none';
    if (authMode === 'TWO_STEP') return 'two_step';
    if (authMode === 'JWT') return 'jwt';
    if (authMode === 'AWS_SIGV4') return 'aws_sigv4';
    if (authMode === 'TBA') return 'tba';
    if (authMode === 'SIGNATURE') return 'signature';
    if (authMode === 'BILL') return 'bill';
    return 'unsupported';
}

function compile(pattern: string | undefined): RegExp | undefined {
    if (!pattern) return undefined;
    try {
        return new RegExp(pattern);
    } catch {
        return undefined;
    }
}

function field(
    kind: FormField['kind'],
    name: string,
    def: ProviderField | undefined,
    fallback: { label: StringKey; secret: boolean; required: boolean },
    t: Translate
): FormField {
    return {
        id: `${kind}.${name}`,
        name,
        kind,
        label: def?.title ?? t(fallback.label),
        description: def?.description,
        placeholder: def?.example,
        secret: def?.secret ?? fallback.secret,
        required: def ? !def.optional : fallback.required,
        pattern: compile(def?.pattern),
        format: def?.format,
        options: def?.enum,
        prefix: def?.prefix,
        suffix: def?.suffix,
        initial: def?.default_value ?? ''
    };
}

const CREDENTIALS: Record<Flow, Array<{ name: string; label: StringKey; secret: boolean; required: boolean }>> = {
    api_key: [{ name: 'apiKey', label: 'fieldApiKey', secret: true, required: true }],
    basic: [
        { name: 'username', label: 'fieldUsername', secret: false, required: true },
        { name: 'password', label: 'fieldPassword', secret: true, required: true }
    ],
    client_credentials: [
        { name: 'client_id', label: 'fieldClientId', secret: false, required: true },
        { name: 'client_secret', label: 'fieldClientSecret', secret: true, required: true }
    ],
    aws_sigv4: [
        { name: 'access_key_id', label: 'fieldAccessKeyId', secret: false, required: true },
        { name: 'secret_access_key', label: 'fieldSecretAccessKey', secret: true, required: true },
        { name: 'region', label: 'fieldRegion', secret: false, required: true },
        { name: 'service', label: 'fieldService', secret: false, required: true }
    ],
    // NetSuite TBA: the end user's token; the account id is the provider's connection_config field.
    tba: [
        { name: 'token_id', label: 'fieldTokenId', secret: false, required: true },
        { name: 'token_secret', label: 'fieldTokenSecret', secret: true, required: true }
    ],
    signature: [
        { name: 'username', label: 'fieldUsername', secret: false, required: true },
        { name: 'password', label: 'fieldPassword', secret: true, required: true }
    ],
    bill: [
        { name: 'username', label: 'fieldUsername', secret: false, required: true },
        { name: 'password', label: 'fieldPassword', secret: true, required: true },
        { name: 'organization_id', label: 'fieldOrganizationId', secret: false, required: true },
        { name: 'dev_key', label: 'fieldDevKey', secret: true, required: true }
    ],
    oauth: [],
    none: [],
    // TWO_STEP and JWT ask for exactly the provider's declared credential fields.
    two_step: [],
    jwt: [],
    unsupported: []
};

// A role: its ARN; the region and service may be the integration's defaults (custom.aws_region / aws_service).
const AWS_ROLE: Array<{ name: string; label: StringKey; secret: boolean; required: boolean }> = [
    { name: 'role_arn', label: 'fieldRoleArn', secret: false, required: true },
    { name: 'region', label: 'fieldRegion', secret: false, required: false },
    { name: 'service', label: 'fieldService', secret: false, required: false }
];

/** The provider's own credential fields, in their order, for the modes whose inputs the provider declares. */
function declaredCredentials(provider: Provider, t: Translate): FormField[] {
    return Object.entries(provider.credentials ?? {})
        .filter(([, def]) => !def.automated && !def.hidden)
        .sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0))
        .map(([name, def]) => field('credential', name, def, { label: 'fieldApiKey', secret: false, required: true }, t));
}

export function formFields(provider: Provider, integrationKey: string, session: Session | undefined, t: Translate, aws: AwsVariant = 'key'): FormField[] {
    const flow = flowOf(provider.auth_mode);
    const asked = flow === 'aws_sigv4' && aws === 'role' ? AWS_ROLE : CREDENTIALS[flow];
    const credentials =
        flow === 'two_step' || flow === 'jwt'
            ? declaredCredentials(provider, t)
            : asked.map((c) => field('credential', c.name, provider.credentials?.[c.name], c, t));
    const preset = session?.integrations_config_defaults?.[integrationKey]?.connection_config ?? {};
    const params = Object.entries(provider.connection_config ?? {})
        .filter(([name, def]) => !def.automated && !def.hidden && !(name in preset))
        .sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0))
        .map(([name, def]) => field('param', name, def, { label: 'fieldUsername', secret: false, required: true }, t));
    return [...credentials, ...params];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The message key of the first problem with a value, or undefined when it is fine. */
export function validate(f: FormField, raw: string): StringKey | undefined {
    const value = f.secret ? raw : raw.trim();
    if (value === '') return f.required ? 'required' : undefined;
    if (f.format === 'email' && !EMAIL.test(value)) return 'invalidEmail';
    if (f.format === 'uri' && !/^https:\/\/\S+$/.test(value)) return 'invalidUrl';
    if (f.format === 'hostname' && !HOSTNAME.test(value)) return 'invalidFormat';
    if (f.format === 'uuid' && !UUID.test(value)) return 'invalidFormat';
    if (f.pattern && !f.pattern.test(value)) return 'invalidFormat';
    if (f.options && !f.options.includes(value)) return 'invalidFormat';
    return undefined;
}
