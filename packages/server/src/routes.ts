import { adminRoutes, healthRoutes } from './admin/routes.ts';
import { providerRoutes } from './providers/routes.ts';
import { integrationRoutes } from './integrations/routes.ts';
import { connectionRoutes } from './connections/routes.ts';
import { connectRoutes } from './connect/routes.ts';
import { oauthRoutes } from './connect/oauth-routes.ts';
import { credentialRoutes } from './connect/credential-routes.ts';
import { proxyRoutes } from './proxy/routes.ts';
import { webhookAdminRoutes } from './webhooks/admin-routes.ts';
import { inboundWebhookRoutes } from './webhooks/inbound/route.ts';
import { recordsRoutes } from './records/routes.ts';
import { deployRoutes } from './functions/routes/deploy-routes.ts';
import { syncRoutes } from './functions/routes/sync-routes.ts';
import { syncVariantRoutes } from './functions/routes/variant-routes.ts';
import { actionRoutes } from './functions/routes/action-routes.ts';
import { environmentVariableRoutes } from './environments/routes.ts';
import { callbackUrlRoutes } from './connect/callback-url.ts';
import { environmentAdminRoutes } from './environments/admin-routes.ts';
import { publicKeyRoutes } from './connect/public-key.ts';
import { legacyConnectionRoutes } from './connections/legacy-routes.ts';
import { legacyIntegrationRoutes } from './integrations/legacy-routes.ts';
import { functionRoutes } from './functions/routes/function-routes.ts';
import { signingKeyRoutes } from './webhooks/signing-key-route.ts';
import { unauthenticatedRoutes } from './connect/unauthenticated-route.ts';
import { mcpAdminRoutes, mcpRoutes } from './mcp/routes.ts';
import { openApiRoutes } from './admin/openapi-route.ts';
import { metricsRoutes } from './metrics/routes.ts';
import type { DocumentedRoute } from './http/openapi.ts';
import { dashboardRoutes } from './dashboard/routes.ts';

/**
 * Every declared route, in registration order: the one table both listeners are built from (the public one keeps
 * the routes servedOnPublic() selects; issue #12 item 5). A test walks it.
 */
export const routeTable = [
    ...healthRoutes,
    ...providerRoutes,
    ...integrationRoutes,
    ...connectionRoutes,
    ...connectRoutes,
    ...oauthRoutes,
    ...credentialRoutes,
    ...publicKeyRoutes,
    ...proxyRoutes,
    ...adminRoutes,
    ...webhookAdminRoutes,
    ...environmentAdminRoutes,
    ...inboundWebhookRoutes,
    ...recordsRoutes,
    ...deployRoutes,
    ...syncRoutes,
    ...syncVariantRoutes,
    ...actionRoutes,
    ...environmentVariableRoutes,
    ...callbackUrlRoutes,
    ...legacyConnectionRoutes,
    ...legacyIntegrationRoutes,
    ...functionRoutes,
    ...signingKeyRoutes,
    ...unauthenticatedRoutes,
    ...mcpRoutes,
    ...mcpAdminRoutes,
    ...metricsRoutes,
    ...dashboardRoutes,
    // Describes the whole table, itself included.
    ...openApiRoutes((): readonly DocumentedRoute[] => routeTable)
];
