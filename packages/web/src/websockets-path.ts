/** The SDK resolves the WebSocket path against the host's origin, so a host path prefix must be repeated in it. */
export function websocketsPathFor(apiURL: string, sessionPath: string | undefined): string {
    const prefix = new URL(apiURL).pathname.replace(/\/+$/, '');
    const path = sessionPath ? `/${sessionPath.replace(/^\/+/, '')}` : '/';
    return `${prefix}${path}`;
}
