import { randomUUID } from 'node:crypto';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ConnectionRef } from './scope.ts';
import type { McpSdk } from './sdk.ts';

/** One MCP session: its transport and server, and who opened it on which connection. */
export interface McpSession {
    transport: StreamableHTTPServerTransport;
    server: Server;
    principal: string;
    ref: ConnectionRef;
    lastSeen: number;
}

/**
 * Sessions held by this instance, in memory (the SDK's transports are). Bounded in number and idle time; a client
 * whose session is gone (evicted, another instance, a restart) gets 404 and starts a new one (MCP spec, "Session
 * Management"). Clients that send no session id are served without one (see routes.ts).
 */
export class McpSessions {
    private readonly sessions = new Map<string, McpSession>();
    private readonly max: number;
    private readonly idleMs: number;

    constructor(opts: { max?: number; idleMs?: number } = {}) {
        this.max = opts.max ?? 1000;
        this.idleMs = opts.idleMs ?? 30 * 60_000;
    }

    get size(): number {
        return this.sessions.size;
    }

    /** The live session with this id, when it belongs to this principal; undefined otherwise (also for another caller's). */
    get(id: string, principal: string): McpSession | undefined {
        this.sweep();
        const s = this.sessions.get(id);
        if (!s || s.principal !== principal) return undefined;
        s.lastSeen = Date.now();
        return s;
    }

    /** A transport whose session is registered once the SDK has assigned its id (on initialize). */
    open(sdk: McpSdk, server: Server, principal: string, ref: ConnectionRef): StreamableHTTPServerTransport {
        this.sweep();
        const transport: StreamableHTTPServerTransport = new sdk.StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => {
                this.evictOverflow();
                this.sessions.set(id, { transport, server, principal, ref, lastSeen: Date.now() });
            },
            onsessionclosed: (id) => void this.sessions.delete(id)
        });
        return transport;
    }

    private sweep(): void {
        const cutoff = Date.now() - this.idleMs;
        for (const [id, s] of this.sessions) if (s.lastSeen < cutoff) this.drop(id, s);
    }

    private evictOverflow(): void {
        // Map order is insertion order: the oldest session goes first.
        while (this.sessions.size >= this.max) {
            const [id, s] = this.sessions.entries().next().value as [string, McpSession];
            this.drop(id, s);
        }
    }

    private drop(id: string, s: McpSession): void {
        this.sessions.delete(id);
        void s.transport.close().catch(() => undefined);
        void s.server.close().catch(() => undefined);
    }

    closeAll(): void {
        for (const [id, s] of this.sessions) this.drop(id, s);
    }
}
