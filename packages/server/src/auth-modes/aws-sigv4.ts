// AWS_SIGV4: every proxied request is signed with the connection's access key (Signature Version 4,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). `aws4` signs:
// a small, long-lived library made for exactly this.
import aws4 from 'aws4';
import type { AwsSigV4Credentials } from '../connections/credentials.ts';

/** The request's headers with the signature added (Authorization, X-Amz-Date, X-Amz-Security-Token), lower-cased. */
export function signAwsRequest(
    c: AwsSigV4Credentials,
    req: { method: string; url: URL; headers: Record<string, string>; body: Buffer | undefined }
): Record<string, string> {
    const opts: aws4.Request & { headers: Record<string, string> } = {
        host: req.url.host,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers: { ...req.headers },
        service: c.service,
        region: c.region,
        ...(req.body && req.body.length > 0 ? { body: req.body } : {})
    };
    aws4.sign(opts, { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key, ...(c.session_token ? { sessionToken: c.session_token } : {}) });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers)) {
        // The connection sets Host itself, to the same value that was signed.
        if (k.toLowerCase() !== 'host') out[k.toLowerCase()] = String(v);
    }
    return out;
}
