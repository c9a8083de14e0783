import { defineRoute } from '../http/route.ts';

/**
 * `GET /metrics`: Prometheus exposition (issue #16 item 2). Admin key only (Prometheus sends it with
 * `authorization: { credentials: ... }` in the scrape config), so never on the public listener.
 */
export const metricsRoutes = [
    defineRoute({
        method: 'GET',
        url: '/metrics',
        auth: 'admin',
        handler: async ({ reply }, s) => {
            const { contentType, body } = await s.metrics.scrape();
            return reply.header('content-type', contentType).send(body);
        }
    })
];
