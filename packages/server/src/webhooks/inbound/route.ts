import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { fail } from '../../errors.ts';
import { uniqueKeySchema } from '../../integrations/schemas.ts';
import type { Services } from '../../services.ts';
import type { Integration } from '../../integrations/store.ts';
import type { ConnectionSummary } from '../../connections/store.ts';
import { forwardableHeaders } from '../payloads.ts';
import { inboundHandlers } from './registry.ts';
import { recordInbound } from './received.ts';
import type { InboundHandler, InboundRequest } from './handler.ts';

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

/**
 * The secret the provider signs with: the integration's webhook_secret (or custom.webhookSecret), else, for providers that sign with the
 * OAuth app's own secret (HubSpot, Intercom, Shopify), its client secret.
 */
function webhookSecretOf(s: Services, integration: Integration, handler: InboundHandler): string | undefined {
    const c = s.integrations.credentials(integration);
    if (c && 'webhook_secret' in c && c.webhook_secret) return c.webhook_secret;
    // Integrations without OAuth credentials (Stripe's API key) keep it where Nango does: custom.webhookSecret.
    const custom = s.integrations.customOf(integration)?.['webhookSecret'];
    if (custom) return custom;
    return handler.signsWithClientSecret && c && 'client_secret' in c && c.client_secret ? c.client_secret : undefined;
}

/**
 * Provider webhooks (docs/compatibility.md, "Webhooks"). Public, so nothing is trusted before the provider's signature checks
 * out against the integration's webhook secret; a request that fails is answered 401 and goes nowhere. Every
 * refusal below the environment is the same answer (unknown integration, a provider without webhook handling,
 * no webhook secret, a bad signature), so the route does not tell a stranger which integration names exist
 * (issue #10 item 12); the log says which it was. A valid
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
        // Public, so more than the 1 MiB of other public routes only because providers send large events: GitHub
        // caps its payloads at 25 MB (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap).
        bodyLimit: 25 * 1024 * 1024,
        handler: async ({ params: p, req, reply }, s) => {
            const env = await s.environments.byUuid(p.environmentUuid);
            if (!env) throw fail('unknown_environment');
            const refuse = (reason: string) => {
                req.log.info({ integration: p.providerConfigKey, reason }, 'inbound webhook refused');
                return fail('invalid_webhook_signature');
            };
            const integration = await s.integrations.get(env.id, p.providerConfigKey);
            // Unknown keys are not recorded: a stranger could fill the table with names of their choosing.
            if (!integration) throw refuse('no integration with this key');
            const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            const summary = {
                environmentId: env.id,
                integrationId: integration.id,
                providerConfigKey: integration.uniqueKey,
                provider: integration.provider,
                bodyBytes: raw.length
            };
            // The dashboard's record of a refusal; its failure never changes the answer.
            const refused = async (reason: string) => {
                await recordInbound(s.db, { ...summary, outcome: 'refused', reason }).catch((err: unknown) =>
                    req.log.error({ err }, 'could not record the inbound webhook')
                );
                return refuse(reason);
            };
            const script = s.catalogue.get(integration.provider)?.webhook_routing_script;
            const handler = script ? inboundHandlers[script] : undefined;
            if (!handler) throw await refused('the provider has no webhook handling');
            if (raw.length === 0) throw await refused('empty body');

            const secret = webhookSecretOf(s, integration, handler);
            if (!secret) {
                req.log.warn({ integration: integration.uniqueKey }, 'inbound webhook refused: the integration has no webhook_secret to verify it with');
                await recordInbound(s.db, { ...summary, outcome: 'refused', reason: 'no webhook secret' }).catch((err: unknown) =>
                    req.log.error({ err }, 'could not record the inbound webhook')
                );
                throw fail('invalid_webhook_signature');
            }
            const inbound: InboundRequest = {
                url: `${s.config.serverUrl}${req.url}`,
                method: req.method,
                rawBody: raw,
                headers: req.headers,
                payload: parseBody(raw, req.headers['content-type']),
                now: Date.now()
            };
            if (!handler.verify(inbound, secret)) throw await refused('bad signature');

            const direct = handler.respond?.(inbound, secret);
            if (direct) {
                await recordInbound(s.db, { ...summary, event: handler.eventType(inbound), outcome: 'answered' }).catch((err: unknown) =>
                    req.log.error({ err }, 'could not record the inbound webhook')
                );
                return reply.code(direct.status).send(direct.body);
            }
            // Routed whether or not the event is forwarded: subscribed syncs run their onWebhook handler either way.
            const routed = handler.route(inbound);
            const keys = routed === undefined ? [] : Array.isArray(routed) ? routed : [routed];
            const connections: ConnectionSummary[] = [];
            for (const key of keys) {
                for (const c of await s.connections.findByConfig(integration.id, key.path, key.value)) {
                    if (!connections.some((known) => known.id === c.id)) connections.push(c);
                }
            }
            const event = handler.eventType(inbound);
            const { runs, queued } = await s.db.transaction(async (tx) => {
                const runs = await s.runs.queueWebhookRuns(tx, { integrationId: integration.id, connections, event, payload: inbound.payload });
                const queued = integration.forwardWebhooks
                    ? await s.webhooks.enqueueForward(tx, {
                          environmentId: env.id,
                          provider: integration.provider,
                          providerConfigKey: integration.uniqueKey,
                          connections,
                          payload: inbound.payload,
                          headers: forwardableHeaders(req.headers)
                      })
                    : 0;
                await recordInbound(tx, { ...summary, event, outcome: 'routed', connections: connections.length, runs, forwards: queued });
                return { runs, queued };
            });
            req.log.info({ integration: integration.uniqueKey, event, connections: connections.length, runs, queued }, 'provider webhook received');
            return reply.code(200).send();
        }
    })
];
