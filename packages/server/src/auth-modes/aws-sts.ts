// AWS_SIGV4 with a role: the integration's own AWS key assumes the end user's IAM role through STS AssumeRole
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), and the temporary key it answers
// signs the proxied requests until it is renewed, before it expires. The call is a form POST signed with SigV4
// (aws4, as for proxied requests). The answer is a small XML document of a fixed, documented shape whose values
// are base64, ISO dates, ARNs and error words; its few elements are read by name. (@xmldom/xmldom, the parser in
// the tree, declares the browser's DOM types for the whole program, which breaks Node's fetch types.)
import aws4 from 'aws4';
import type { Egress } from '../egress/egress.ts';
import type { AwsSigV4Credentials } from '../connections/credentials.ts';
import type { Integration, IntegrationStore } from '../integrations/store.ts';
import { TokenError } from '../oauth/token-request.ts';
import { fail } from '../errors.ts';

/** A role ARN (partition, 12-digit account, role path and name). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const DEFAULT_STS = 'https://sts.amazonaws.com';
const DURATION_SECONDS = 3600;

/** The integration's side of role assumption, from its `custom` (the secret key is stored encrypted). */
export interface StsConfig {
    accessKeyId: string;
    secretAccessKey: string;
    endpoint: URL;
    externalId: string | undefined;
}

export function stsConfigOf(integrations: IntegrationStore, integration: Integration): StsConfig {
    const custom = integrations.customOf(integration) ?? {};
    const accessKeyId = custom['aws_access_key_id'];
    const secretAccessKey = custom['aws_secret_access_key'];
    if (!accessKeyId || !secretAccessKey) {
        throw fail('invalid_auth_mode', {
            message: 'Assuming a role needs the integration’s own AWS key: set custom.aws_access_key_id and custom.aws_secret_access_key on the integration'
        });
    }
    let endpoint: URL;
    try {
        endpoint = new URL(custom['aws_sts_endpoint'] ?? DEFAULT_STS);
    } catch {
        throw fail('invalid_auth_mode', { message: 'custom.aws_sts_endpoint is not a URL' });
    }
    return { accessKeyId, secretAccessKey, endpoint, externalId: custom['aws_external_id'] || undefined };
}

/** RoleSessionName (2–64 of [\w+=,.@-]) naming the connection, so the role owner's CloudTrail says which it was. */
export function roleSessionName(connectionId: string): string {
    return `switchboard-${connectionId.replace(/[^\w+=,.@-]/g, '_')}`.slice(0, 64);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of the first `<tag>` element (no attributes in STS answers; the five XML entities decoded). */
function text(xml: string, tag: string): string | undefined {
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
    const value = m?.[1]?.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!).trim();
    return value || undefined;
}

/** One AssumeRole call; STS's refusal (AccessDenied, SignatureDoesNotMatch…) is a TokenError with its code. */
export async function assumeRole(
    egress: Egress,
    sts: StsConfig,
    role: { role_arn: string; region: string; service: string; session_name: string }
): Promise<AwsSigV4Credentials> {
    const form = new URLSearchParams({
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: role.role_arn,
        RoleSessionName: role.session_name,
        DurationSeconds: String(DURATION_SECONDS),
        ...(sts.externalId ? { ExternalId: sts.externalId } : {})
    }).toString();
    // The global endpoint signs for us-east-1; a regional one (sts.eu-west-1.amazonaws.com) for its region.
    const region = /^sts\.([a-z0-9-]+)\.amazonaws\.com$/.exec(sts.endpoint.hostname)?.[1] ?? 'us-east-1';
    const opts: aws4.Request & { headers: Record<string, string> } = {
        host: sts.endpoint.host,
        path: sts.endpoint.pathname,
        method: 'POST',
        service: 'sts',
        region,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/xml' },
        body: form
    };
    aws4.sign(opts, { accessKeyId: sts.accessKeyId, secretAccessKey: sts.secretAccessKey });
    const headers = Object.fromEntries(Object.entries(opts.headers).filter(([k]) => k.toLowerCase() !== 'host' && k.toLowerCase() !== 'content-length'));
    const res = await egress.fetch({ method: 'POST', url: sts.endpoint, headers, body: form, maxBytes: 64 * 1024 });
    const xml = res.text;
    if (res.status < 200 || res.status >= 300) {
        const code = text(xml, 'Code') ?? (res.status >= 500 ? 'server_error' : 'AccessDenied');
        throw new TokenError(code, text(xml, 'Message') ?? `STS answered HTTP ${res.status}`, res.status);
    }
    const accessKeyId = text(xml, 'AccessKeyId');
    const secretAccessKey = text(xml, 'SecretAccessKey');
    const sessionToken = text(xml, 'SessionToken');
    const expiration = Date.parse(text(xml, 'Expiration') ?? '');
    if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration))
        throw new TokenError('invalid_response', 'STS answered without temporary credentials', res.status);
    return {
        type: 'AWS_SIGV4',
        access_key_id: accessKeyId,
        secret_access_key: secretAccessKey,
        session_token: sessionToken,
        region: role.region,
        service: role.service,
        role_arn: role.role_arn,
        expires_at: new Date(expiration).toISOString()
    };
}
