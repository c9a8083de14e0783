import type OAuth from 'oauth-1.0a';
import { oauth1Signer } from '../oauth/oauth1.ts';
import type { Services } from '../services.ts';
import type { StoredCredentials } from '../connections/credentials.ts';
import { fail } from '../errors.ts';
import { endpointUrl, fill, resolveTokenUrl } from '../oauth/provider-endpoints.ts';
import { TokenError } from '../oauth/token-request.ts';
import { clientOf, requestedScopes } from './oauth2-flow.ts';
import type { FlowContext } from './flow-context.ts';

function signer(s: Services, ctx: FlowContext): OAuth {
    const client = clientOf(s, ctx);
    return oauth1Signer(ctx.provider, client.clientId, client.clientSecret);
}

/** POSTs a signed OAuth 1.0a request and reads the form-encoded answer (RFC 5849 §2.1, §2.3). */
async function signedPost(s: Services, oauth: OAuth, url: string, data: Record<string, string>, token?: OAuth.Token): Promise<Record<string, string>> {
    const header = oauth.toHeader(oauth.authorize({ url, method: 'POST', data }, token)).Authorization;
    const res = await s.egress.fetch({
        method: 'POST',
        url: new URL(url),
        headers: { authorization: header, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/x-www-form-urlencoded, application/json' },
        body: new URLSearchParams(data).toString(),
        maxBytes: 64 * 1024
    });
    const answer = Object.fromEntries(new URLSearchParams(res.text));
    if (res.status < 200 || res.status >= 300 || !answer['oauth_token'] || !answer['oauth_token_secret']) {
        throw new TokenError(answer['error'] ?? 'invalid_response', answer['error_description'] ?? `the provider answered HTTP ${res.status}`, res.status);
    }
    return answer;
}

/** Step 1: a temporary credential whose callback carries our state; returns where to send the browser. */
export async function startOAuth1(
    s: Services,
    ctx: FlowContext,
    callbackUrl: string
): Promise<{ redirect: string; requestToken: string; requestTokenSecret: string }> {
    const def = ctx.provider;
    const oauth = signer(s, ctx);
    const params: Record<string, string> = { oauth_callback: callbackUrl };
    for (const [k, v] of Object.entries(def.request_params ?? {})) params[k] = fill(v, ctx.connectionConfig);
    const redirect = new URL(endpointUrl(def, def.authorization_url!, { connectionConfig: ctx.connectionConfig }));
    const answer = await signedPost(s, oauth, endpointUrl(def, def.request_url!, { connectionConfig: ctx.connectionConfig }), params);
    redirect.searchParams.set('oauth_token', answer['oauth_token']!);
    // OAuth 1.0a has no scope parameter of its own; providers that scope (Trello) read it on the authorize URL.
    const scopes = requestedScopes(s, ctx);
    if (scopes.length) redirect.searchParams.set('scope', scopes.join(def.scope_separator));
    for (const [k, v] of Object.entries(def.authorization_params ?? {})) redirect.searchParams.set(k, fill(v, ctx.connectionConfig));
    return { redirect: redirect.toString(), requestToken: answer['oauth_token']!, requestTokenSecret: answer['oauth_token_secret']! };
}

/** Step 3: trades the verified temporary credential for token credentials (RFC 5849 §2.3). */
export async function finishOAuth1(
    s: Services,
    ctx: FlowContext,
    requestToken: string,
    requestTokenSecret: string,
    verifier: string
): Promise<StoredCredentials> {
    const oauth = signer(s, ctx);
    const answer = await signedPost(
        s,
        oauth,
        resolveTokenUrl(ctx.provider, 'OAUTH1', ctx.connectionConfig, 'code'),
        { oauth_verifier: verifier },
        { key: requestToken, secret: requestTokenSecret }
    );
    const { oauth_token, oauth_token_secret, ...raw } = answer;
    if (!oauth_token || !oauth_token_secret) throw fail('connection_test_failed', { message: 'The provider answered without token credentials' });
    return { type: 'OAUTH1', oauth_token, oauth_token_secret, raw };
}
