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
    environmentId: number;
    ref: ConnectionRef;
    lastSeen: number;
}

/**
 * Sessions held by this instance, in memory (the SDK's transports are). Bounded in number per environment and in
 * all, and in idle time; when full, the least recently used session goes (of the same environment first, so one
 * tenant opening sessions by the thousand only ever closes its own). A client
 * whose session is gone (evicted, another instance, a restart) gets 404 and starts a new one (MCP spec, "Session
 * Management"). Clients that send no session id are served without one (see routes.ts).
 */
export class McpSessions {
    private readonly sessions = new Map<string, McpSession>();
    private readonly max: number;
    private readonly maxPerEnvironment: number;
    private readonly idleMs: number;

    constructor(opts: { max?: number; maxPerEnvironment?: number; idleMs?: number } = {}) {
        this.max = opts.max ?? 1000;
        this.maxPerEnvironment = Math.min(opts.maxPerEnvironment ?? 200, this.max);
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
        // Map order is insertion order: moved to the end, the least recently used session stays first.
        this.sessions.delete(id);
        this.sessions.set(id, s);
        return s;
    }

    /** A transport whose session is registered once the SDK has assigned its id (on initialize). */
    open(sdk: McpSdk, server: Server, principal: string, environmentId: number, ref: ConnectionRef): StreamableHTTPServerTransport {
        this.sweep();
        const transport: StreamableHTTPServerTransport = new sdk.StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => this.register(id, { transport, server, principal, environmentId, ref, lastSeen: Date.now() }),
            onsessionclosed: (id) => void this.sessions.delete(id)
        });
        return transport;
    }

    /** Holds a session the SDK initialized, making room first (the environment's cap, then the total). */
    register(id: string, session: McpSession): void {
        this.evictOverflow(session.environmentId);
        this.sessions.set(id, session);
    }

    private sweep(): void {
        const cutoff = Date.now() - this.idleMs;
        for (const [id, s] of this.sessions) if (s.lastSeen < cutoff) this.drop(id, s);
    }

    private evictOverflow(environmentId: number): void {
        const own = [...this.sessions].filter(([, s]) => s.environmentId === environmentId);
        for (const [id, s] of own.slice(0, Math.max(0, own.length - this.maxPerEnvironment + 1))) this.drop(id, s);
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
