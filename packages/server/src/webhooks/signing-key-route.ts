import { z } from 'zod';
import { defineRoute } from '../http/route.ts';

/**
 * Nango's `POST /environment/webhook-signing-key/rotate`: a fresh signing secret for the caller's environment,
 * returned once; every delivery attempt from now on, pending ones included, is signed with it. The same store as `PATCH /admin/webhooks/settings`
 * with `rotate_secret`.
 */
export const signingKeyRoutes = [
    defineRoute({
        method: 'POST',
        url: '/environment/webhook-signing-key/rotate',
        auth: 'secret',
        query: z.object({}).strict(),
        body: z.object({}).strict(),
        handler: async ({ env }, s) => {
            const updated = await s.webhooks.settings.update(env, { secret: 'generate' });
            s.log.info({ environment: env.name }, 'webhook signing key rotated');
            return { data: { webhook_signing_key: updated.secret } };
        }
    })
];
