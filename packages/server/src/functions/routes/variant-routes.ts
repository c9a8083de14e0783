import { defineRoute } from '../../http/route.ts';
import { createSyncVariant, deleteSyncVariant } from '../variants.ts';
import { emptyQuery, syncVariantBody, syncVariantParams } from './schemas.ts';

/** `POST` and `DELETE /sync/:name/variant/:variant` (SDK createSyncVariant / deleteSyncVariant; docs/compatibility.md, "Actions and syncs"). */
export const syncVariantRoutes = [
    defineRoute({
        method: 'POST',
        url: '/sync/:name/variant/:variant',
        auth: 'secret',
        params: syncVariantParams,
        query: emptyQuery,
        body: syncVariantBody,
        handler: ({ env, params, body }, s) =>
            createSyncVariant(s, env, {
                name: params.name,
                variant: params.variant,
                providerConfigKey: body.provider_config_key,
                connectionId: body.connection_id
            })
    }),
    defineRoute({
        method: 'DELETE',
        url: '/sync/:name/variant/:variant',
        auth: 'secret',
        params: syncVariantParams,
        query: emptyQuery,
        // The SDK sends this JSON body on the DELETE (axios `data`).
        body: syncVariantBody,
        handler: async ({ env, params, body }, s) => {
            await deleteSyncVariant(s, env, {
                name: params.name,
                variant: params.variant,
                providerConfigKey: body.provider_config_key,
                connectionId: body.connection_id
            });
            return { success: true };
        }
    })
];
