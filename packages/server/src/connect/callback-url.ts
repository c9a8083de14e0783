import { z } from 'zod';
import { publicUrlProblem } from '../config/config.ts';
import { defineRoute } from '../http/route.ts';
import type { Services } from '../services.ts';

/** Where the provider sends the browser back unless the environment or SWITCHBOARD_CALLBACK_URL says otherwise. */
export const defaultCallbackPath = '/oauth/callback';

/** The environment's own callback URL (issue #12 item 4), or null. */
export async function storedCallbackUrl(s: Services, environmentId: number): Promise<string | null> {
    const [row] = await s.db.query<{ callback_url: string | null }>('SELECT callback_url FROM environments WHERE id = $1', [environmentId]);
    return row?.callback_url ?? null;
}

/**
 * The OAuth callback an environment advertises as `redirect_uri`: its own, else SWITCHBOARD_CALLBACK_URL, else the
 * broker's own /oauth/callback. Anything but the last is a callback proxy on another host (docs/operations.md).
 */
export async function callbackUrlOf(s: Services, environmentId: number): Promise<string> {
    return (await storedCallbackUrl(s, environmentId)) ?? s.config.callbackUrl ?? `${s.config.serverUrl}${defaultCallbackPath}`;
}

const callbackUrlBody = z
    .object({
        // null or "" returns the environment to the default.
        callback_url: z
            .union([z.url({ protocol: /^https?$/ }), z.literal(''), z.null()])
            .transform((v) => v || null)
            .refine((v) => v === null || publicUrlProblem(v) === undefined, {
                message: 'must use https:// (http only on localhost) and carry no query or fragment'
            })
    })
    .strict();

const format = async (s: Services, environmentId: number) => ({
    data: { callback_url: await storedCallbackUrl(s, environmentId), effective_callback_url: await callbackUrlOf(s, environmentId) }
});

/** Ours (Nango sets it in its dashboard): read and set the environment's OAuth callback URL. */
export const callbackUrlRoutes = [
    defineRoute({
        method: 'GET',
        url: '/admin/environment/callback-url',
        auth: 'secret',
        handler: async ({ env }, s) => format(s, env.id)
    }),
    defineRoute({
        method: 'PUT',
        url: '/admin/environment/callback-url',
        auth: 'secret',
        body: callbackUrlBody,
        handler: async ({ env, body }, s) => {
            await s.db.query('UPDATE environments SET callback_url = $1 WHERE id = $2', [body.callback_url, env.id]);
            return format(s, env.id);
        }
    })
];
