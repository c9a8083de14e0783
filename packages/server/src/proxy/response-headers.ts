// Nango copies only these on success; error responses pass through with everything but hop-by-hop headers.
const successHeaders = new Set([
    'content-type',
    'content-encoding',
    'content-disposition',
    'content-length',
    'mcp-session-id',
    'x-request-id',
    'x-correlation-id'
]);
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer']);

/** Whether the upstream's response header `name` (lower case) reaches the app, given the response status. */
export function passesThrough(name: string, ok: boolean): boolean {
    return ok ? successHeaders.has(name) : !hopByHop.has(name) && !name.startsWith('access-control-');
}

/** Responses of these kinds have no body to send, whatever the upstream said about one. */
export const hasNoBody = (status: number, method: string | undefined): boolean => status === 204 || status === 304 || method === 'HEAD';

/** Small bodies of known length go out in one write; the rest (and chunked/unknown length) stream. */
export const SMALL_BODY_BYTES = 64 * 1024;
