import { z } from 'zod';
import { credentialRoute } from './credential-routes.ts';

/**
 * `POST /auth/unauthenticated/:providerConfigKey`, what the frontend SDK's `create()` and the Connect UI call for a
 * provider that needs no credentials (auth mode NONE): the connection is recorded under the session's end user,
 * with the same session rules, validation scripts and webhooks as every browser flow.
 */
export const unauthenticatedRoutes = [
    credentialRoute('/auth/unauthenticated/:providerConfigKey', 'NONE', z.object({}).strict(), async () => ({ type: 'NONE' }))
];
