// Which connection_config values a provider accepts, from whom. The provider definition declares its fields
// (`connection_config` in the providers.yaml schema): their `pattern`, their `format`, and whether the server
// sets them (`automated`, e.g. Salesforce's instance_url from the token response). An end user's browser may
// set only declared, non-automated fields; every declared value must match its pattern wherever it comes from.
import type { z } from 'zod';
import type { fieldSchema, ProviderDefinition } from './schema.ts';

type Field = z.output<typeof fieldSchema>;

/** Who is supplying connection config: the end user's browser, or the app with its secret key. */
export type ConfigSource = 'browser' | 'app';

export interface ConfigIssue {
    key: string;
    message: string;
}

const compiled = new Map<string, RegExp>();

// Patterns are matched in full, as an HTML form's `pattern` attribute is, so a pattern without anchors
// cannot let a longer value through.
function fullMatch(pattern: string): RegExp {
    let re = compiled.get(pattern);
    if (!re) {
        re = new RegExp(`^(?:${pattern})$`);
        compiled.set(pattern, re);
    }
    return re;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function formatHolds(format: NonNullable<Field['format']>, value: string): boolean {
    switch (format) {
        case 'hostname':
            return HOSTNAME.test(value);
        case 'uri':
            return URL.canParse(value);
        case 'uuid':
            return UUID.test(value);
        case 'email':
            return EMAIL.test(value);
    }
}

/** Why a declared field refuses `value`, or undefined when it accepts it. */
export function fieldRefuses(field: Field, value: unknown): string | undefined {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return 'must be a string, number or boolean';
    const text = String(value);
    if (field.pattern !== undefined && !fullMatch(field.pattern).test(text)) return `does not match the pattern ${field.pattern}`;
    if (field.format !== undefined && !formatHolds(field.format, text)) return `is not a valid ${field.format}`;
    if (field.enum !== undefined && !field.enum.includes(text)) return `must be one of ${field.enum.map((v) => JSON.stringify(v)).join(', ')}`;
    return undefined;
}

/** The declared field `key` of a provider, own properties only. */
export function declaredField(def: ProviderDefinition, key: string): Field | undefined {
    const fields = def.connection_config;
    return fields && Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/**
 * What is wrong with connection config from `source`. The browser may set only declared, non-automated fields;
 * the app may also set automated ones and keep undeclared keys of its own (they never reach a URL: see
 * oauth/provider-endpoints.ts). Declared values must match their pattern and format, whoever sends them.
 */
export function connectionConfigIssues(def: ProviderDefinition, config: Record<string, unknown>, source: ConfigSource): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const [key, value] of Object.entries(config)) {
        const field = declaredField(def, key);
        if (!field) {
            if (source === 'browser') issues.push({ key, message: `"${key}" is not a connection_config field of this provider` });
            continue;
        }
        if (field.automated && source === 'browser') {
            issues.push({ key, message: `"${key}" is set by the server, not by the end user` });
            continue;
        }
        const why = fieldRefuses(field, value);
        if (why) issues.push({ key, message: `"${key}" ${why}` });
    }
    return issues;
}
