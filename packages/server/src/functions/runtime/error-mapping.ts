/** Maps whatever a script threw to the run error of docs/scripts-compatibility.md, "Errors". */
import { ERROR_BRAND } from './sdk/errors.ts';
import type { ScriptError } from './types.ts';

/** Error payloads are cut at this size so one oversized error cannot flood the API caller or the logs. */
const MAX_PAYLOAD_CHARS = 64 * 1024;
const MAX_STACK_LINES = 10;

export interface MappedError {
    error: ScriptError;
    /** The runner process should not be reused (e.g. an allocation failed and the heap is suspect). */
    retire: boolean;
}

export function toScriptError(err: unknown): MappedError {
    const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
    const brand = e[ERROR_BRAND];
    const message = typeof e['message'] === 'string' ? (e['message'] as string) : String(err);

    if (brand === 'action' || (e['type'] === 'action_script_runtime_error' && 'payload' in e)) {
        const payload = e['payload'];
        const wrapped = typeof payload === 'object' && payload !== null ? payload : { message: payload === undefined ? message : String(payload) };
        return done({ type: 'action_script_runtime_error', message, payload: cap(wrapped) });
    }
    if (brand === 'sdk' && typeof e['code'] === 'string') {
        const error: ScriptError = { type: e['code'] as string, message };
        if (e['payload'] !== undefined) error.payload = cap(e['payload']);
        return done(error);
    }
    if (e['isAxiosError'] === true || isResponseLike(e['response'])) {
        const res = e['response'];
        if (isResponseLike(res)) {
            const headers = pickHeaders(res.headers);
            const body = cap(upstreamBody(res.data));
            return done({
                type: 'script_http_error',
                message,
                status: res.status,
                payload: body,
                additional_properties: { upstream_response: { status: res.status, headers, body } }
            });
        }
        const name = typeof e['name'] === 'string' ? (e['name'] as string) : 'Error';
        return done({ type: 'script_network_error', message, payload: { name, code: typeof e['code'] === 'string' ? e['code'] : undefined, message } });
    }
    if (e['name'] === 'RangeError' && /allocation failed|out of memory/i.test(message)) {
        return { error: { type: 'script_out_of_memory', message: `The script ran out of memory: ${message}` }, retire: true };
    }
    const name = typeof e['name'] === 'string' ? (e['name'] as string) : typeof err;
    const stack = typeof e['stack'] === 'string' ? scriptFrames(e['stack'] as string) : [];
    const payload: Record<string, unknown> = { name, message, stack };
    if (typeof e['code'] === 'string') payload['code'] = e['code'];
    return done({ type: 'script_internal_error', message: `${name}: ${message}`, payload });
}

/** Frames of the script itself: the runtime's own frames and Node internals say nothing to the script author and reveal server paths. */
function scriptFrames(stack: string): string[] {
    return stack
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter((l) => l.startsWith('at ') && !/node:|\/functions\/runtime\/|<anonymous>/.test(l))
        .slice(0, MAX_STACK_LINES);
}

/**
 * The provider's answer as Nango's runner reports it: an object's `payload` field when it has one, the object
 * itself otherwise, and a text (or any non-object) body wrapped as `{message}`.
 */
function upstreamBody(data: unknown): unknown {
    // A binary body (responseType arraybuffer) is reported as its text rather than as a JSON array of bytes.
    if (Buffer.isBuffer(data)) return { message: data.toString('utf8') };
    const inner = typeof data === 'object' && data !== null && 'payload' in data ? (data as { payload: unknown }).payload : data;
    return typeof inner === 'object' && inner !== null ? inner : { message: inner };
}

function done(error: ScriptError): MappedError {
    return { error, retire: false };
}

function isResponseLike(v: unknown): v is { status: number; data: unknown; headers?: unknown } {
    return typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'number';
}

/** Only the headers a caller needs to react (type and rate limits); never auth or cookies. */
function pickHeaders(headers: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    if (typeof headers !== 'object' || headers === null) return out;
    for (const [k, v] of Object.entries(headers)) {
        const key = k.toLowerCase();
        if (key === 'content-type' || key.startsWith('x-rate')) out[key] = String(v);
    }
    return out;
}

/** Keeps payloads JSON-shaped and bounded. */
function cap(payload: unknown): unknown {
    let json: string | undefined;
    try {
        json = JSON.stringify(payload);
    } catch {
        return { message: String(payload) };
    }
    if (json === undefined) return undefined;
    if (json.length <= MAX_PAYLOAD_CHARS) return JSON.parse(json) as unknown;
    return { truncated: true, preview: json.slice(0, 1_000) };
}
