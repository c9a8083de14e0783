import { createHmac } from 'node:crypto';
import { header, isObject, safeEqual, type InboundHandler } from './handler.ts';

// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
export const github: InboundHandler = {
    verify(req, secret) {
        const signature = header(req, 'x-hub-signature-256');
        if (!signature) return false;
        return safeEqual(signature, `sha256=${createHmac('sha256', secret).update(req.rawBody).digest('hex')}`);
    },
    // https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers: `push`, `issues`, …
    eventType(req) {
        return header(req, 'x-github-event') || undefined;
    },
    route(req) {
        const p = req.payload;
        const id = isObject(p) && isObject(p['installation']) ? p['installation']['id'] : undefined;
        return typeof id === 'number' || (typeof id === 'string' && id) ? { path: ['installation_id'], value: String(id) } : undefined;
    }
};
