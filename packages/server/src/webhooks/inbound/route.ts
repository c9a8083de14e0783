import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { fail } from '../../http/errors.ts';
import { uniqueKeySchema } from '../../integrations/schemas.ts';
import type { Services } from '../../services.ts';
import type { Integration } from '../../integrations/store.ts';
import type { ConnectionSummary } from '../../connections/store.ts';
import { forwardableHeaders } from '../payloads.ts';
import { inboundHandlers } from './registry.ts';
import { queueWebhookRuns } from '../../functions/webhook-runs.ts';
import type { InboundRequest } from './handler.ts';

const params = z.object({ environmentUuid: z.uuid(), providerConfigKey: uniqueKeySchema }).strict();

/** JSON, form fields, or the text itself: what the app receives as `payload`. */
function parseBody(raw: Buffer, contentType: string | undefined): unknown {
    const text = raw.toString('utf8');
    if (/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) return Object.fromEntries(new URLSearchParams(text));
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function webhookSecretOf(s: Services, integration: Integration): string | undefined {
    const c = s.integrations.credentials(integration);
    return c && 'webhook_secret' in c && c.webhook_secret ? c.webhook_secret : undefined;
}

/**
 * Provider webhooks (docs/compatibility.md, "Webhooks"). Public, so nothing is trusted before the provider's signature checks
 * out against the integration's webhook secret; a request that fails is answered 401 and goes nowhere. A valid
 * event is routed to its connections, queues the onWebhook runs of the syncs subscribed to it and its forwards
 * in one transaction, and is answered without waiting for either.
 */
export const inboundWebhookRoutes = [
    defineRoute({
        method: 'POST',
        url: '/webhook/:environmentUuid/:providerConfigKey',
        auth: 'public',
        params,
        rawBody: true,
        handler: async ({ params: p, req, reply }, s) => {
            const env = await s.environments.byUuid(p.environmentUuid);
            if (!env) throw fail('unknown_environment');
            const integration = await s.integrations.get(env.id, p.providerConfigKey);
            if (!integration) throw fail('unknown_provider_config');
            const script = s.catalogue.get(integration.provider)?.webhook_routing_script;
            const handler = script ? inboundHandlers[script] : undefined;
            const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            if (!handler || raw.length === 0) return reply.code(204).send();

            const secret = webhookSecretOf(s, integration);
            if (!secret) {
                req.log.warn({ integration: integration.uniqueKey }, 'inbound webhook refused: the integration has no webhook_secret to verify it with');
                throw fail('webhook_secret_not_configured');
            }
            const inbound: InboundRequest = { rawBody: raw, headers: req.headers, payload: parseBody(raw, req.headers['content-type']), now: Date.now() };
            if (!handler.verify(inbound, secret)) throw fail('invalid_webhook_signature');

            const direct = handler.respond?.(inbound);
            if (direct) return reply.code(direct.status).send(direct.body);
            // Routed whether or not the event is forwarded: subscribed syncs run their onWebhook handler either way.
            const key = handler.route(inbound);
            const connections: ConnectionSummary[] = key ? await s.connections.findByConfig(integration.id, key.path, key.value) : [];
            const event = handler.eventType(inbound);
            const { runs, queued } = await s.db.transaction(async (tx) => ({
                runs: await queueWebhookRuns(s, tx, { integrationId: integration.id, connections, event, payload: inbound.payload }),
                queued: integration.forwardWebhooks
                    ? await s.webhooks.enqueueForward(tx, {
                          environmentId: env.id,
                          provider: integration.provider,
                          providerConfigKey: integration.uniqueKey,
                          connections,
                          payload: inbound.payload,
                          headers: forwardableHeaders(req.headers)
                      })
                    : 0
            }));
            req.log.info({ integration: integration.uniqueKey, event, connections: connections.length, runs, queued }, 'provider webhook received');
            return reply.code(200).send();
        }
    })
];
