import { createHmac, timingSafeEqual } from 'node:crypto';

export interface InboundRequest {
    /** The URL the provider called, as the server's public URL spells it (HubSpot signs it). */
    url: string;
    method: string;
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
    /**
     * Providers that sign with the OAuth app's client secret (HubSpot, Intercom, Shopify): used when the
     * integration has no webhook_secret of its own.
     */
    signsWithClientSecret?: boolean;
    /** A reply the provider expects instead of forwarding (a handshake); undefined for ordinary events. */
    respond?(req: InboundRequest, secret: string): { status: number; body: unknown } | undefined;
    /** Which connections the event is for; several keys when one delivery batches events of several accounts. */
    route(req: InboundRequest): RouteKey | RouteKey[] | undefined;
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

/** HMAC of `data` with `secret`, in the encoding a provider sends. */
export function hmac(algorithm: 'sha1' | 'sha256', secret: string, data: Array<string | Buffer>, encoding: 'hex' | 'base64' = 'hex'): string {
    const h = createHmac(algorithm, secret);
    for (const d of data) h.update(d);
    return h.digest(encoding);
}

/** True when `seconds` (a Unix time) is within `window` seconds of now: bounds the replay of a captured request. */
export function fresh(req: InboundRequest, seconds: number, window: number): boolean {
    return Number.isFinite(seconds) && Math.abs(req.now / 1000 - seconds) <= window;
}

/** `t=…,v1=…,v1=…` headers (Stripe, Calendly): the timestamp and every signature of the given scheme. */
export function signatureHeader(value: string | undefined, scheme: string): { t: string | undefined; signatures: string[] } {
    const parts = (value ?? '').split(',').map((p) => p.trim().split('='));
    return { t: parts.find(([k]) => k === 't')?.[1], signatures: parts.filter(([k, v]) => k === scheme && v).map(([, v]) => v!) };
}

/** A string value at a dotted path of the payload. */
export function at(payload: unknown, path: string): string | undefined {
    let v: unknown = payload;
    for (const part of path.split('.')) v = isObject(v) ? v[part] : undefined;
    return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined;
}
