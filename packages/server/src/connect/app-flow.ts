import type { Services } from '../services.ts';
import { fail } from '../errors.ts';
import { endpointUrl } from '../oauth/provider-endpoints.ts';
import { installationIdPattern, mintInstallationToken } from '../app-auth/installation-token.ts';
import type { FlowContext } from './flow-context.ts';
import { FlowError } from './flow-error.ts';
import { saveConnection } from './save.ts';

/** Where GitHub sends the browser after an install: the app's "Setup URL" must be set to this (docs/compatibility.md, "Browser flows"). */
export const appCallbackPath = '/app-auth/connect';

// GitHub's install page for an app; catalogue entries may say otherwise with authorization_url.
const DEFAULT_INSTALL_URL = '${connectionConfig.appPublicLink}/installations/new';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function appOf(s: Services, ctx: FlowContext) {
    const app = s.integrations.credentials(ctx.integration);
    if (app?.type !== 'APP')
        throw fail('missing_client_credentials', {
            message: `Integration "${ctx.integration.uniqueKey}" has no GitHub App credentials (app_id, app_link, private_key)`
        });
    return app;
}

/**
 * The app's install page with our state: GitHub hands `state` back to the Setup URL with the installation id
 * (https://docs.github.com/en/apps/sharing-github-apps/sharing-your-github-app#using-query-parameters-for-a-github-app-installation-url).
 */
export function appInstallUrl(s: Services, ctx: FlowContext, state: string): string {
    const app = appOf(s, ctx);
    const link = app.app_link.replace(/\/+$/, '');
    const url = new URL(
        endpointUrl(ctx.provider, ctx.provider.authorization_url ?? DEFAULT_INSTALL_URL, {
            connectionConfig: ctx.connectionConfig,
            server: { appPublicLink: link, app_id: app.app_id }
        })
    );
    // The browser goes there with our state: only https (plain http for loopback test stand-ins).
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
        throw fail('missing_client_credentials', { message: `The integration's app_link must be an https:// URL (https://github.com/apps/<slug>)` });
    }
    url.searchParams.set('state', state);
    return url.href;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Finishes an install: GitHub's redirect carries `installation_id` and `setup_action` (install, update or
 * request). A token is minted at once, which stores a working connection and proves the installation belongs
 * to this app. GitHub warns the id could be altered by the end user; the state binds the callback to the flow
 * and browser that started it, and the mint binds it to the app, but not to the end user's GitHub account.
 */
export async function finishAppInstall(s: Services, ctx: FlowContext, q: Record<string, unknown>) {
    const installationId = str(q['installation_id']);
    if (!installationId) {
        const message =
            str(q['setup_action']) === 'request'
                ? 'The installation was requested and waits for an organization owner to approve it; connect again once it is approved'
                : 'GitHub redirected back without an installation_id';
        throw new FlowError('callback_err', message);
    }
    if (!installationIdPattern.test(installationId)) throw new FlowError('callback_err', 'The installation_id is not a GitHub installation id');
    const app = appOf(s, ctx);
    const config = { installation_id: installationId, app_id: app.app_id };
    const credentials = await mintInstallationToken(s.egress, ctx.provider, app, { ...ctx.connectionConfig, ...config }, Date.now());
    return saveConnection(s, ctx, credentials, config);
}
