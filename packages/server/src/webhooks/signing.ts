import { createHash, createHmac, randomBytes } from 'node:crypto';
import { SECRET_PREFIX, secretKeyBytes, isValidSecret } from '../config/webhook-secret.ts';

export { SECRET_PREFIX, secretKeyBytes, isValidSecret };

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the Standard Webhooks format). */
export function generateSecret(): string {
    return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * JSON with object keys sorted recursively and no whitespace (docs/compatibility.md, "Webhooks"): the SDK's deprecated
 * verifyWebhookSignature re-stringifies the parsed body, which reproduces these bytes only if keys are sorted.
 */
export function stableJson(value: unknown): string {
    return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null))));
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
        Object.keys(o)
            .sort()
            .map((k) => [k, sortKeys(o[k])])
    );
}

/**
 * Every signature header for one attempt. The Nango headers key the HMAC with the whole `whsec_…` string, which
 * is what apps pass to the SDK as webhookSigningKey; the Standard Webhooks header keys it with the decoded bytes
 * and covers id and timestamp too, so a receiver can reject replays (https://www.standardwebhooks.com/ §Signature).
 */
export function signatureHeaders(secret: string, msgId: string, timestampSeconds: number, body: string): Record<string, string> {
    const key = secretKeyBytes(secret);
    if (!key) throw new Error('webhook signing secret is not a valid whsec_ secret');
    const v1 = createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
    return {
        'x-nango-hmac-sha256': createHmac('sha256', secret).update(body).digest('hex'),
        'x-nango-signature': createHash('sha256').update(`${secret}${body}`).digest('hex'),
        'webhook-id': msgId,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': `v1,${v1}`
    };
}

/** A Standard Webhooks message id. */
export function newMessageId(): string {
    return `msg_${randomBytes(16).toString('base64url')}`;
}
