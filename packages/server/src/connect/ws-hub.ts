import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Db } from '../storage/db.ts';
import type { Logger } from '../log/logger.ts';

const CHANNEL = 'switchboard_ws';

/** The frames @nangohq/frontend reads (docs/compatibility.md, "Browser flows"). */
export type WsFrame =
    | { message_type: 'success'; provider_config_key: string; connection_id: string; is_pending: boolean }
    | { message_type: 'error'; provider_config_key?: string | undefined; connection_id?: string | undefined; error_type: string; error_desc: string };

/**
 * The browser SDK's WebSocket clients. The callback may land on another instance than the socket, so a frame
 * for a client this instance does not hold goes out through Postgres NOTIFY and the holder delivers it.
 */
export class WsHub {
    private readonly clients = new Map<string, WebSocket>();
    private readonly db: Db;
    private readonly log: Logger;
    private readonly pingMs: number;
    private timer: NodeJS.Timeout | undefined;

    constructor(db: Db, log: Logger, opts: { pingMs?: number } = {}) {
        this.db = db;
        this.log = log;
        this.pingMs = opts.pingMs ?? 20_000;
    }

    async start(): Promise<void> {
        await this.db.listen(CHANNEL, (payload) => {
            if (payload === '*') return; // listener reconnected: nothing to replay, the callback page shows the result
            try {
                const { to, frame } = JSON.parse(payload) as { to: string; frame: WsFrame };
                this.deliverLocal(to, frame);
            } catch (err) {
                this.log.warn({ err }, 'unreadable websocket notification');
            }
        });
        // Proxies drop idle sockets after a minute or two and the SDK would then wait forever
        // (NangoHQ/nango#5849); pings keep a socket busy while the user logs in at the provider.
        this.timer = setInterval(() => {
            for (const socket of this.clients.values()) socket.ping();
        }, this.pingMs).unref();
    }

    /** Takes a new socket: assigns its client id and acknowledges it, as the SDK waits for that before navigating. */
    attach(socket: WebSocket): string {
        const id = randomUUID();
        this.clients.set(id, socket);
        socket.on('close', () => this.clients.delete(id));
        socket.on('error', () => this.clients.delete(id));
        // The SDK never sends anything; a client that does is not ours.
        socket.on('message', () => socket.close(1003, 'unexpected message'));
        socket.send(JSON.stringify({ message_type: 'connection_ack', ws_client_id: id }));
        return id;
    }

    /** Sends the one result frame of a flow to its client, wherever it is connected. */
    async send(wsClientId: string | null | undefined, frame: WsFrame): Promise<void> {
        if (!wsClientId) return;
        if (this.deliverLocal(wsClientId, frame)) return;
        await this.db.notify(CHANNEL, JSON.stringify({ to: wsClientId, frame })).catch((err: unknown) => this.log.warn({ err }, 'websocket notify failed'));
    }

    private deliverLocal(id: string, frame: WsFrame): boolean {
        const socket = this.clients.get(id);
        if (!socket) return false;
        // Exactly one result per flow: the client is forgotten once it has one.
        this.clients.delete(id);
        socket.send(JSON.stringify(frame));
        return true;
    }

    get size(): number {
        return this.clients.size;
    }

    close(): void {
        if (this.timer) clearInterval(this.timer);
        for (const socket of this.clients.values()) socket.terminate();
        this.clients.clear();
    }
}
