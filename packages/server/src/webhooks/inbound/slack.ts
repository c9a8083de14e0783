import { createHmac } from 'node:crypto';
import { header, isObject, safeEqual, type InboundHandler, type InboundRequest } from './handler.ts';

// https://api.slack.com/authentication/verifying-requests-from-slack: requests older than five minutes are refused,
// which bounds how long a captured request can be replayed.
const WINDOW_SECONDS = 5 * 60;

/** Interactive payloads arrive form-encoded with the event as JSON in `payload`. */
function eventOf(req: InboundRequest): Record<string, unknown> | undefined {
    const p = req.payload;
    if (!isObject(p)) return undefined;
    if (typeof p['payload'] === 'string') {
        try {
            const inner: unknown = JSON.parse(p['payload']);
            return isObject(inner) ? inner : undefined;
        } catch {
            return undefined;
        }
    }
    return p;
}

export const slack: InboundHandler = {
    verify(req, secret) {
        const signature = header(req, 'x-slack-signature');
        const timestamp = header(req, 'x-slack-request-timestamp');
        if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
        if (Math.abs(req.now / 1000 - Number(timestamp)) > WINDOW_SECONDS) return false;
        const expected = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(req.rawBody).digest('hex')}`;
        return safeEqual(signature, expected);
    },
    // Slack confirms a new Request URL by sending a challenge it expects echoed back.
    respond(req) {
        const e = eventOf(req);
        if (e?.['type'] === 'url_verification' && typeof e['challenge'] === 'string') return { status: 200, body: { challenge: e['challenge'] } };
        return undefined;
    },
    // The envelope's `type`: `event_callback` for Events API deliveries, `block_actions`, `view_submission`, …
    // for interactions (https://api.slack.com/apis/events-api#callback-field, https://api.slack.com/reference/interaction-payloads).
    eventType(req) {
        const t = eventOf(req)?.['type'];
        return typeof t === 'string' && t ? t : undefined;
    },
    route(req) {
        const e = eventOf(req);
        const team = e?.['team_id'] ?? (isObject(e?.['team']) ? e['team']['id'] : undefined);
        return typeof team === 'string' && team ? { path: ['team', 'id'], value: team } : undefined;
    }
};
