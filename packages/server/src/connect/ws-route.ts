import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WsHub } from './ws-hub.ts';

/**
 * The WebSocket @nangohq/frontend opens at `/` (docs/compatibility.md, "Browser flows"). A plain GET there is the health of the
 * public surface, so load balancers probing `/` get an answer.
 */
export async function registerWebSocket(app: FastifyInstance, hub: WsHub): Promise<void> {
    // 1 KiB: the SDK never sends a message, so anything larger is not our client.
    await app.register(websocket, { options: { maxPayload: 1024 } });
    app.route({
        method: 'GET',
        url: '/',
        handler: async () => ({ service: 'switchboard', websocket: true }),
        wsHandler: (socket) => {
            hub.attach(socket);
        }
    });
}
