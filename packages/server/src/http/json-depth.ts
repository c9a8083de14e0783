/**
 * Deepest nesting a JSON request body may have. Real payloads (metadata, connect sessions, action inputs) sit far
 * below it; far deeper ones overflow the stack of recursive code further in (schema validation, serialisation,
 * the database's JSON parser) and answered 500. Ruby's JSON parser refuses the same depth by default.
 */
export const MAX_JSON_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when objects and arrays in the JSON text nest deeper than `max`. One pass over the bytes, strings skipped
 * (UTF-8 continuation bytes never equal an ASCII delimiter); it stops at the first level past the limit.
 */
export function jsonDeeperThan(body: Uint8Array, max: number): boolean {
    // Each level takes at least one byte, so a short body cannot be too deep.
    if (body.length <= max) return false;
    let depth = 0;
    let inString = false;
    for (let i = 0; i < body.length; i++) {
        const c = body[i];
        if (inString) {
            if (c === BACKSLASH) i++;
            else if (c === QUOTE) inString = false;
        } else if (c === QUOTE) {
            inString = true;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            if (++depth > max) return true;
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            depth--;
        }
    }
    return false;
}
