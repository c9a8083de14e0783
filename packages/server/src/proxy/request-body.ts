import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { fail } from '../errors.ts';

/**
 * The app's request body as the relay sends it upstream. Small bodies are read whole first, so a retry can send
 * them again; larger ones are streamed as they arrive (no copy of the whole body in memory, and the upstream
 * request starts at once), so they are sent once and never retried.
 */
export interface RequestBody {
    /** The whole body, read before the upstream request: attempts can replay it. */
    buffer: Buffer | undefined;
    /** The body still to arrive, streamed upstream as it does. */
    stream: Readable | undefined;
    /** Its length, when the app declared one (Content-Length). */
    length: number | undefined;
    replayable: boolean;
}

/** Bodies up to this size are buffered (and can be retried); larger ones stream. */
export const REPLAYABLE_BODY_BYTES = 64 * 1024;

const NONE: RequestBody = { buffer: undefined, stream: undefined, length: undefined, replayable: true };

/**
 * Decides how the body goes upstream. Over `limit` (SWITCHBOARD_BODY_LIMIT_BYTES) it is refused with 413
 * before anything is sent when the length is declared, and the upload is cut off mid-way when it is not.
 * `whole` forces reading it whole (OAuth 1.0a signs form bodies).
 */
export async function readRequestBody(req: IncomingMessage, res: ServerResponse, limit: number, whole: boolean): Promise<RequestBody> {
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (declared === undefined && !chunked) return NONE;
    if (!chunked) {
        const length = Number(declared);
        if (length > limit) {
            // The refusal closes the connection (error envelope), so the rest of the body is never read.
            res.shouldKeepAlive = false;
            throw fail('payload_too_large');
        }
        if (length === 0) return NONE;
        if (length <= REPLAYABLE_BODY_BYTES || whole) return { buffer: await readWhole(req, limit), stream: undefined, length, replayable: true };
        // Node's parser delivers exactly Content-Length bytes, so the stream needs no counting.
        return { buffer: undefined, stream: req, length, replayable: false };
    }
    // Chunked: read up to the replay size; a body that ends there is buffered, a longer one streams on, counted.
    const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head: Buffer[] = [];
    let size = 0;
    for (;;) {
        const next = await nextChunk(it);
        if (next.done) return { buffer: Buffer.concat(head, size), stream: undefined, length: size, replayable: true };
        size += next.value.length;
        if (size > limit) {
            res.shouldKeepAlive = false;
            throw fail('payload_too_large');
        }
        head.push(next.value);
        if (size > REPLAYABLE_BODY_BYTES && !whole)
            return { buffer: undefined, stream: Readable.from(counted(head, it, size, limit), { objectMode: false }), length: undefined, replayable: false };
    }
}

async function nextChunk(it: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    try {
        return await it.next();
    } catch (err) {
        throw fail('client_closed_request', { cause: err });
    }
}

async function* counted(head: Buffer[], it: AsyncIterator<Buffer>, size: number, limit: number): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
        const next = await it.next();
        if (next.done) return;
        size += next.value.length;
        // Thrown into undici's body writer: the upstream request is aborted and the app answered 413.
        if (size > limit) throw fail('payload_too_large');
        yield next.value;
    }
}

/** Reads a body of declared length whole, with the limit as a second guard. */
function readWhole(req: IncomingMessage, limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
            req.off('data', onData);
            req.off('end', onEnd);
            req.off('error', onGone);
            req.off('close', onGone);
        };
        const onData = (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
                done();
                reject(fail('payload_too_large'));
                return;
            }
            chunks.push(chunk);
        };
        const onEnd = () => {
            done();
            resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
        };
        const onGone = (err?: Error) => {
            done();
            reject(fail('client_closed_request', { cause: err }));
        };
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('error', onGone);
        req.once('close', onGone);
    });
}
