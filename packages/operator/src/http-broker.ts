import { z } from 'zod';
import { BrokerError, type BrokerTarget, type DesiredIntegration, type IntegrationBroker, type UpsertOutcome } from './broker.ts';

// A stop-gap until packages/apply (the code behind `switchboard apply`) provides the same two calls; swap it in
// main.ts. It speaks the public /integrations API documented in docs/compatibility.md.

const errorBody = z.object({
    error: z.object({
        code: z.string(),
        message: z.string().optional(),
        errors: z.array(z.object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])).optional() })).optional()
    })
});
const integrationBody = z.object({
    data: z.object({
        provider: z.string(),
        display_name: z.string().nullable().optional(),
        forward_webhooks: z.boolean().optional(),
        credentials: z.record(z.string(), z.string().nullable()).nullable().optional()
    })
});

async function call(target: BrokerTarget, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
        res = await fetch(`${target.baseUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${target.secretKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(15_000)
        });
    } catch (err) {
        throw new BrokerError(`the broker at ${target.baseUrl} could not be reached: ${(err as Error).cause ?? (err as Error).message}`, {
            rejected: false,
            cause: err
        });
    }
    const text = await res.text();
    let json: unknown = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch {
        json = null;
    }
    if (res.ok || res.status === 404) return { status: res.status, json };
    const parsed = errorBody.safeParse(json);
    const detail = parsed.success
        ? [parsed.data.error.message, ...(parsed.data.error.errors ?? []).map((e) => `${e.message}${e.path?.length ? ` (${e.path.join('.')})` : ''}`)]
              .filter(Boolean)
              .join('; ')
        : text.slice(0, 200);
    const code = parsed.success ? parsed.data.error.code : undefined;
    throw new BrokerError(`the broker refused ${method} ${path.split('?')[0]} with ${res.status}${code ? ` ${code}` : ''}: ${detail}`, {
        rejected: res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408,
        code
    });
}

const keyPath = (key: string) => `/integrations/${encodeURIComponent(key)}`;

/** The fields of `credentials` the broker returns that differ from the desired ones. */
function credentialsDiffer(desired: Record<string, string> | undefined, actual: Record<string, string | null> | null | undefined): boolean {
    if (!desired) return false;
    if (!actual) return true;
    return Object.entries(desired).some(([k, v]) => k in actual && (actual[k] ?? '') !== v) || actual['type'] !== desired['type'];
}

export class HttpIntegrationBroker implements IntegrationBroker {
    async upsert(target: BrokerTarget, desired: DesiredIntegration): Promise<UpsertOutcome> {
        const body = {
            unique_key: desired.uniqueKey,
            ...(desired.displayName !== undefined ? { display_name: desired.displayName } : {}),
            ...(desired.forwardWebhooks !== undefined ? { forward_webhooks: desired.forwardWebhooks } : {}),
            ...(desired.credentials ? { credentials: desired.credentials } : {})
        };
        const current = await call(target, 'GET', `${keyPath(desired.uniqueKey)}?include=credentials`);
        if (current.status === 404) {
            await call(target, 'POST', '/integrations', { provider: desired.provider, ...body });
            return 'created';
        }
        const actual = integrationBody.parse(current.json).data;
        if (actual.provider !== desired.provider) {
            // The provider of an integration cannot change in place: replace it.
            await call(target, 'DELETE', keyPath(desired.uniqueKey));
            await call(target, 'POST', '/integrations', { provider: desired.provider, ...body });
            return 'updated';
        }
        const drift =
            (desired.displayName !== undefined && actual.display_name !== desired.displayName) ||
            (desired.forwardWebhooks !== undefined && actual.forward_webhooks !== desired.forwardWebhooks) ||
            credentialsDiffer(desired.credentials, actual.credentials);
        if (!drift) return 'unchanged';
        const { unique_key: _k, ...patch } = body;
        await call(target, 'PATCH', keyPath(desired.uniqueKey), patch);
        return 'updated';
    }

    async remove(target: BrokerTarget, uniqueKey: string): Promise<'deleted' | 'absent'> {
        const res = await call(target, 'DELETE', keyPath(uniqueKey));
        return res.status === 404 ? 'absent' : 'deleted';
    }
}
