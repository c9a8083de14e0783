import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import type { Delivery } from './outbox.ts';
import type { WebhookSettings } from './settings.ts';
import { isValidSecret } from './signing.ts';

const httpUrl = z.url({ protocol: /^https?$/ });
// null or "" clears a URL.
const urlPatch = z.union([httpUrl, z.literal(''), z.null()]).transform((v) => v || null);

const settingsPatch = z
    .object({
        url: urlPatch.optional(),
        secondary_url: urlPatch.optional(),
        secret: z.string().refine(isValidSecret, 'must be whsec_ followed by the base64 of 24 to 64 key bytes').optional(),
        rotate_secret: z.literal(true).optional()
    })
    .strict()
    .refine((b) => !(b.secret && b.rotate_secret), { message: 'send either secret or rotate_secret, not both', path: ['rotate_secret'] });

const deliveriesQuery = z
    .object({
        status: z.enum(['pending', 'delivered', 'failed', 'dead']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z
            .string()
            .regex(/^\d{1,18}$/, 'a cursor from next_cursor')
            .transform(Number)
            .optional()
    })
    .strict();

const deliveryParams = z
    .object({
        id: z
            .string()
            .regex(/^\d{1,18}$/, 'a delivery id')
            .transform(Number)
    })
    .strict();

// The app needs the secret to verify what it receives, so the secret-key-authenticated API returns it.
const formatSettings = (s: WebhookSettings) => ({ url: s.url, secondary_url: s.secondaryUrl, secret: s.secret });

function formatDelivery(d: Delivery) {
    return {
        id: d.id,
        event_id: d.eventId,
        url: d.targetUrl,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
        last_status: d.lastStatus,
        last_error: d.lastError,
        delivered_at: d.deliveredAt?.toISOString() ?? null,
        created_at: d.createdAt.toISOString(),
        updated_at: d.updatedAt.toISOString(),
        body: d.body
    };
}

/** Operator endpoints for outbound webhooks (not in Nango's API): settings, the delivery log and replay. */
export const webhookAdminRoutes = [
    defineRoute({
        method: 'GET',
        url: '/admin/webhooks/settings',
        auth: 'secret_or_admin',
        query: z.object({}).strict(),
        handler: async ({ env }, s) => ({ data: formatSettings(await s.webhooks.settings.get(env)) })
    }),
    defineRoute({
        method: 'PATCH',
        url: '/admin/webhooks/settings',
        auth: 'secret_or_admin',
        body: settingsPatch,
        handler: async ({ env, body }, s) => {
            // The settings store refuses URLs the egress policy would never deliver to (one policy, one place).
            const updated = await s.webhooks.settings.update(env, {
                url: body.url,
                secondaryUrl: body.secondary_url,
                secret: body.rotate_secret ? 'generate' : body.secret
            });
            s.log.info({ environment: env.name, secretChanged: !!(body.secret || body.rotate_secret) }, 'webhook settings updated');
            return { data: formatSettings(updated) };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/admin/webhooks/deliveries',
        auth: 'secret_or_admin',
        query: deliveriesQuery,
        handler: async ({ env, query }, s) => {
            const rows = await s.webhooks.outbox.list(env.id, { status: query.status, limit: query.limit, cursor: query.cursor });
            const last = rows.at(-1);
            return { data: rows.map(formatDelivery), next_cursor: rows.length === query.limit && last ? String(last.id) : null };
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/admin/webhooks/deliveries/:id/replay',
        auth: 'secret_or_admin',
        params: deliveryParams,
        handler: async ({ env, params }, s) => {
            const requeued = await s.webhooks.outbox.requeue(env.id, params.id);
            if (!requeued) {
                const existing = await s.webhooks.outbox.get(env.id, params.id);
                if (!existing) throw fail('unknown_webhook_delivery');
                throw fail('webhook_delivery_pending');
            }
            s.webhooks.wake();
            return { data: formatDelivery(requeued) };
        }
    })
];
