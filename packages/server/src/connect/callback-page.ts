import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

export interface PageResult {
    error?: { type: string; message: string } | undefined;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: no "</script>", no HTML comment openers, no line separators that end JS strings.
const scriptJson = (v: unknown) =>
    JSON.stringify(v)
        .replace(/</g, '\\u003c')
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029');

/**
 * The page the popup lands on after an OAuth flow (docs/compatibility.md, "Browser flows"). It tells the opener the outcome with an
 * exact target origin (our own Connect UI's; docs/security.md, item 19), loads nothing from anywhere, sends no
 * referrer, and carries no token or code.
 */
export function sendCallbackPage(reply: FastifyReply, result: PageResult, connectUiOrigin: string): FastifyReply {
    const nonce = randomBytes(16).toString('base64');
    const message = result.error
        ? { type: 'nango_oauth_callback_error', payload: { message: result.error.message, errorType: result.error.type } }
        : { type: 'nango_oauth_callback_success' };
    const title = result.error ? 'Connection failed' : 'Connected';
    const text = result.error ? result.error.message : 'You can close this window.';
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style nonce="${nonce}">
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f8fafc;color:#0f172a}
main{max-width:28rem;padding:2rem;text-align:center}h1{font-size:1.25rem;margin:0 0 .5rem}code{color:#64748b;font-size:.85rem}
@media (prefers-color-scheme:dark){body{background:#0f172a;color:#e2e8f0}code{color:#94a3b8}}
</style></head>
<body><main><h1>${title}</h1><p>${escapeHtml(text)}</p>${result.error ? `<p>Close this window and try again from the app.</p><p><code>${escapeHtml(result.error.type)}</code></p>` : ''}</main>
<script nonce="${nonce}">
(function () {
  var origin = ${scriptJson(connectUiOrigin)};
  var message = ${scriptJson(message)};
  window.__nangoOAuthError = ${scriptJson(result.error ? { message: result.error.message, errorType: result.error.type } : null)};
  try { if (window.opener) window.opener.postMessage(message, origin); } catch (e) {}
  try { var channel = new BroadcastChannel('nango-oauth-callback'); channel.postMessage(message); channel.close(); } catch (e) {}
  window.addEventListener('message', function (e) {
    if (e.origin === origin && e.data && e.data.type === 'nango_oauth_callback_ack') window.close();
  });
  if (!window.__nangoOAuthError) setTimeout(function () { window.close(); }, 500);
})();
</script></body></html>`;
    return reply
        .code(result.error ? 400 : 200)
        .headers({
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
            'referrer-policy': 'no-referrer',
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff'
        })
        .send(html);
}
