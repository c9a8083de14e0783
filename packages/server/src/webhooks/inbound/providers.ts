// Inbound webhook handlers for providers whose events name the account they belong to, each from the provider's
// public webhook documentation: how it signs, what it must be answered, which field names the account, and under
// which connection_config key our post-connection step or token metadata stores that account.
import { createHash } from 'node:crypto';
import { at, fresh, header, hmac, isObject, safeEqual, signatureHeader, type InboundHandler } from './handler.ts';

const FIVE_MINUTES = 5 * 60;

/**
 * HubSpot (https://developers.hubspot.com/docs/api/webhooks/validating-requests): v3 is base64 HMAC-SHA256 of
 * method + URL + body + timestamp (milliseconds, at most five minutes old) with the app's client secret; v1 is
 * hex SHA-256 of secret + body. A delivery is an array of events, possibly of several portals (`portalId`,
 * stored as connection_config.portalId by hubspotPostConnection).
 */
export const hubspot: InboundHandler = {
    signsWithClientSecret: true,
    verify(req, secret) {
        const v3 = header(req, 'x-hubspot-signature-v3');
        if (v3) {
            const ts = header(req, 'x-hubspot-request-timestamp') ?? '';
            if (!/^\d{1,16}$/.test(ts) || !fresh(req, Number(ts) / 1000, FIVE_MINUTES)) return false;
            return safeEqual(v3, hmac('sha256', secret, [req.method, req.url, req.rawBody, ts], 'base64'));
        }
        const v1 = header(req, 'x-hubspot-signature');
        if (v1 && (header(req, 'x-hubspot-signature-version') ?? 'v1') === 'v1') {
            return safeEqual(v1, createHash('sha256').update(secret).update(req.rawBody).digest('hex'));
        }
        return false;
    },
    eventType(req) {
        return Array.isArray(req.payload) ? at(req.payload[0], 'subscriptionType') : undefined;
    },
    route(req) {
        const portals = new Set((Array.isArray(req.payload) ? req.payload : []).map((e) => at(e, 'portalId')).filter((p): p is string => !!p));
        return [...portals].map((value) => ({ path: ['portalId'], value }));
    }
};

/**
 * Stripe (https://docs.stripe.com/webhooks#verify-manually): `Stripe-Signature: t=…,v1=…`, hex HMAC-SHA256 of
 * `t.body` with the endpoint's signing secret (`whsec_…`, the integration's webhook_secret), five minutes'
 * tolerance. Connect events carry the connected account as `account`: the `stripe_user_id` of Stripe Connect's
 * token response (token_response_metadata).
 */
export const stripe: InboundHandler = {
    verify(req, secret) {
        const { t, signatures } = signatureHeader(header(req, 'stripe-signature'), 'v1');
        if (!t || !/^\d{1,12}$/.test(t) || !fresh(req, Number(t), FIVE_MINUTES)) return false;
        const expected = hmac('sha256', secret, [`${t}.`, req.rawBody]);
        return signatures.some((s) => safeEqual(s, expected));
    },
    eventType: (req) => at(req.payload, 'type'),
    route(req) {
        const account = at(req.payload, 'account');
        return account ? { path: ['stripe_user_id'], value: account } : undefined;
    }
};

/**
 * Linear (https://linear.app/developers/webhooks#securing-webhooks): `Linear-Signature` is hex HMAC-SHA256 of the
 * body with the webhook's signing secret; `webhookTimestamp` (milliseconds) must be within a minute. The
 * workspace is `organizationId` (stored by linearPostConnection).
 */
export const linear: InboundHandler = {
    verify(req, secret) {
        const signature = header(req, 'linear-signature');
        const ts = isObject(req.payload) ? Number(req.payload['webhookTimestamp']) : Number.NaN;
        if (!signature || !fresh(req, ts / 1000, 60)) return false;
        return safeEqual(signature, hmac('sha256', secret, [req.rawBody]));
    },
    eventType: (req) => at(req.payload, 'type'),
    route(req) {
        const org = at(req.payload, 'organizationId');
        return org ? { path: ['organizationId'], value: org } : undefined;
    }
};

const JIRA_SELF = ['issue.self', 'comment.self', 'worklog.self', 'project.self', 'user.self', 'sprint.self', 'version.self'];

/**
 * Jira Cloud (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks): a webhook with
 * a secret sends `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`. Events name no account id, but their
 * resources' `self` links are on the site, whose URL jiraPostConnection stores as connection_config.baseUrl.
 */
export const jira: InboundHandler = {
    verify(req, secret) {
        const signature = header(req, 'x-hub-signature');
        return !!signature && safeEqual(signature, `sha256=${hmac('sha256', secret, [req.rawBody])}`);
    },
    eventType: (req) => at(req.payload, 'webhookEvent'),
    route(req) {
        for (const path of JIRA_SELF) {
            const self = at(req.payload, path);
            if (self && URL.canParse(self)) return { path: ['baseUrl'], value: new URL(self).origin };
        }
        return undefined;
    }
};

/**
 * Zoom (https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events): `x-zm-signature` is
 * `v0=` + hex HMAC-SHA256 of `v0:{x-zm-request-timestamp}:{body}` with the app's secret token. A new endpoint is
 * validated with `endpoint.url_validation`, answered with the plain token and its HMAC. The account is
 * `payload.account_id` (stored by zoomPostConnection as accountId).
 */
export const zoom: InboundHandler = {
    verify(req, secret) {
        const signature = header(req, 'x-zm-signature');
        const ts = header(req, 'x-zm-request-timestamp') ?? '';
        if (!signature || !/^\d{1,12}$/.test(ts) || !fresh(req, Number(ts), FIVE_MINUTES)) return false;
        return safeEqual(signature, `v0=${hmac('sha256', secret, [`v0:${ts}:`, req.rawBody])}`);
    },
    respond(req, secret) {
        const plainToken = at(req.payload, 'payload.plainToken');
        if (at(req.payload, 'event') !== 'endpoint.url_validation' || !plainToken) return undefined;
        return { status: 200, body: { plainToken, encryptedToken: hmac('sha256', secret, [plainToken]) } };
    },
    eventType: (req) => at(req.payload, 'event'),
    route(req) {
        const account = at(req.payload, 'payload.account_id');
        return account ? { path: ['accountId'], value: account } : undefined;
    }
};

/**
 * Intercom (https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications):
 * `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body with the app's client secret>`. The workspace is `app_id`
 * (stored by intercomPostConnection as appId).
 */
export const intercom: InboundHandler = {
    signsWithClientSecret: true,
    verify(req, secret) {
        const signature = header(req, 'x-hub-signature');
        return !!signature && safeEqual(signature, `sha1=${hmac('sha1', secret, [req.rawBody])}`);
    },
    eventType: (req) => at(req.payload, 'topic'),
    route(req) {
        const app = at(req.payload, 'app_id');
        return app ? { path: ['appId'], value: app } : undefined;
    }
};

/**
 * Shopify (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook):
 * `X-Shopify-Hmac-Sha256` is base64 HMAC-SHA256 of the body with the app's client secret; the store is
 * `X-Shopify-Shop-Domain` (`{subdomain}.myshopify.com`), the topic `X-Shopify-Topic`.
 */
export const shopify: InboundHandler = {
    signsWithClientSecret: true,
    verify(req, secret) {
        const signature = header(req, 'x-shopify-hmac-sha256');
        return !!signature && safeEqual(signature, hmac('sha256', secret, [req.rawBody], 'base64'));
    },
    eventType: (req) => header(req, 'x-shopify-topic') || undefined,
    route(req) {
        const domain = header(req, 'x-shopify-shop-domain')?.toLowerCase();
        const m = domain ? /^([a-z0-9][a-z0-9-]*)\.myshopify\.com$/.exec(domain) : null;
        return m ? { path: ['subdomain'], value: m[1]! } : undefined;
    }
};

/**
 * Calendly (https://developer.calendly.com/api-docs/4c305798a61d3-webhook-signatures):
 * `Calendly-Webhook-Signature: t=…,v1=…`, hex HMAC-SHA256 of `t.body` with the subscription's signing key,
 * three minutes' tolerance. `created_by` is the user who made the subscription: the `owner` of Calendly's token
 * response (token_response_metadata).
 */
export const calendly: InboundHandler = {
    verify(req, secret) {
        const { t, signatures } = signatureHeader(header(req, 'calendly-webhook-signature'), 'v1');
        if (!t || !/^\d{1,12}$/.test(t) || !fresh(req, Number(t), 3 * 60)) return false;
        const expected = hmac('sha256', secret, [`${t}.`, req.rawBody]);
        return signatures.some((s) => safeEqual(s, expected));
    },
    eventType: (req) => at(req.payload, 'event'),
    route(req) {
        const owner = at(req.payload, 'created_by');
        return owner ? { path: ['owner'], value: owner } : undefined;
    }
};
