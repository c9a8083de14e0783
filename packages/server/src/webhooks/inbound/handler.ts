import { timingSafeEqual } from 'node:crypto';

export interface InboundRequest {
    rawBody: Buffer;
    headers: Record<string, string | string[] | undefined>;
    /** The parsed body: JSON, form fields, or the text when neither. */
    payload: unknown;
    now: number;
}

/** Which connections an event belongs to: connection_config at `path` equals `value`. */
export interface RouteKey {
    path: string[];
    value: string;
}

/**
 * What a provider's inbound webhooks need that data cannot say: how the provider signs, what it must be
 * answered directly, and which field names the connection. Registered by the catalogue's `webhook_routing_script`.
 */
export interface InboundHandler {
    /** True when the request carries a valid signature made with the integration's webhook secret. */
    verify(req: InboundRequest, secret: string): boolean;
    /** A reply the provider expects instead of forwarding (a handshake); undefined for ordinary events. */
    respond?(req: InboundRequest): { status: number; body: unknown } | undefined;
    route(req: InboundRequest): RouteKey | undefined;
    /**
     * The event's type, which a sync's `webhookSubscriptions` name to have its onWebhook handler run (Nango's
     * routing scripts read it from a header or a body field per provider). Undefined: no handler runs.
     */
    eventType(req: InboundRequest): string | undefined;
}

export function header(req: InboundRequest, name: string): string | undefined {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
}

/** Constant-time comparison of two strings (different lengths compare unequal without leaking where). */
export function safeEqual(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
}

export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
