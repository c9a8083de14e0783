import type { InboundHandler } from './handler.ts';
import { slack } from './slack.ts';
import { github } from './github.ts';

/** Inbound webhook handlers by the name a provider gives as `webhook_routing_script`. */
export const inboundHandlers: Record<string, InboundHandler> = {
    slackWebhookRouting: slack,
    githubWebhookRouting: github
};
