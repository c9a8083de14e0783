/**
 * A request refused before its body was read (wrong key, too large, no route): how not to receive the rest without
 * resetting the answer away. Used by the app's error handler and by the proxy's fast door alike.
 */
import type { IncomingMessage } from 'node:http';

/**
 * True when a refused request still has a body worth not receiving: chunked (any size may follow) or declared
 * larger than 64 KiB. A smaller one is read and dropped as node:http does, so the connection stays usable: an
 * answer on a connection we then close would otherwise meet a client that already reused it (socket hang up).
 */
export function bodyPending(req: IncomingMessage): boolean {
    if (req.complete) return false;
    return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > SMALL_BODY_BYTES;
}
const SMALL_BODY_BYTES = 64 * 1024;

// Long enough for a client to read the answer it was sent before the connection is reset.
const LINGER_MS = 2000;

/**
 * Ends a connection whose request body was refused unread: stop reading, send FIN after the answer, close the
 * socket for good a little later. Closing at once would make the kernel answer the unread bytes with a reset,
 * which can reach the client before it has read the answer (the problem nginx's lingering close solves; this
 * variant does not read the rest of the body at all). Node would otherwise read and discard it to reuse the
 * connection.
 */
export function closeUnread(req: IncomingMessage): void {
    stopReading(req);
    // null once node:http let go of it (the client already left).
    const socket = req.socket as IncomingMessage['socket'] | null;
    if (!socket || socket.destroyed) return;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
}

/**
 * Pausing the socket once does not hold: when the answer is out, node:http dumps a request nobody read (resume, and
 * from then on drop what the parser gets, so no backpressure ever stops the socket again), and resuming the request
 * resumes the socket on the next tick. The socket would then read the client's whole body and throw it away until
 * it closes. So every later resume of this socket is undone at once, before a byte flows; a paused socket stops
 * its handle after one buffer (16 KiB).
 */
export function stopReading(req: IncomingMessage): void {
    req.pause();
    const socket = req.socket as IncomingMessage['socket'] | null;
    if (!socket) return;
    socket.pause();
    if (!stopped.has(socket)) {
        stopped.add(socket);
        socket.on('resume', () => socket.pause());
    }
}
const stopped = new WeakSet<object>();

/**
 * Makes this answer the connection's last without resetting it away: the answer says `Connection: close` (so no
 * client reuses the connection for its next request), and the close node:http then does (socket.destroySoon:
 * end, then destroy as soon as the answer is flushed, while unread body bytes wait) becomes the lingering close
 * above.
 */
export function lastAnswerLingering(req: IncomingMessage): void {
    stopReading(req);
    const socket = req.socket as (IncomingMessage['socket'] & { destroySoon?: () => void }) | null;
    if (!socket || socket.destroyed) return;
    socket.destroySoon = () => closeUnread(req);
}
