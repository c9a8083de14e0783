import type { InboundHandler } from './handler.ts';
import { slack } from './slack.ts';
import { github } from './github.ts';
import { calendly, hubspot, intercom, jira, linear, shopify, stripe, zoom } from './providers.ts';

/** Inbound webhook handlers by the name a provider gives as `webhook_routing_script`. */
export const inboundHandlers: Record<string, InboundHandler> = {
    slackWebhookRouting: slack,
    githubWebhookRouting: github,
    hubspotWebhookRouting: hubspot,
    stripeWebhookRouting: stripe,
    linearWebhookRouting: linear,
    jiraWebhookRouting: jira,
    zoomWebhookRouting: zoom,
    intercomWebhookRouting: intercom,
    shopifyWebhookRouting: shopify,
    calendlyWebhookRouting: calendly
};
