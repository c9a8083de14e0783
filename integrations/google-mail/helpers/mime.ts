/**
 * Builds the RFC 2822 / MIME message users.messages.send takes as `raw` (base64url,
 * https://developers.google.com/workspace/gmail/api/guides/sending). Pure and sandbox-safe: only Buffer,
 * no TextEncoder/btoa (docs/scripts-compatibility.md, "Sandbox").
 *
 * - Non-ASCII header text becomes RFC 2047 encoded words (=?UTF-8?B?…?=, ≤ 75 chars each, never splitting a character).
 * - Bodies are UTF-8, Content-Transfer-Encoding base64 wrapped at 76 chars (RFC 2045 §6.8), so any text is 7-bit safe.
 * - With `html`, the body is multipart/alternative: text first, HTML last (RFC 2046 §5.1.4: last = preferred).
 * - CR or LF inside a header value is refused: it would let input inject headers (e.g. an extra Bcc).
 */

export interface MailParts {
    from?: string;
    to: string[];
    cc?: string[];
    bcc?: string[];
    subject: string;
    text: string;
    html?: string;
    inReplyTo?: string;
    references?: string;
    /** Fixed boundary for tests; random otherwise. */
    boundary?: string;
}

export class HeaderInjectionError extends Error {
    constructor(header: string) {
        super(`${header} must not contain line breaks`);
        this.name = 'HeaderInjectionError';
    }
}

const CRLF = '\r\n';
const ASCII = /^[\x20-\x7e]*$/;

function checkLine(header: string, value: string): void {
    if (/[\r\n]/.test(value)) throw new HeaderInjectionError(header);
}

/** RFC 2047 B-encoding in words of at most 45 UTF-8 bytes (60 base64 chars + 12 of framing = 72 ≤ 75). */
export function encodeWords(text: string): string {
    if (ASCII.test(text)) return text;
    const words: string[] = [];
    let chunk = '';
    for (const ch of text) {
        if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
            words.push(chunk);
            chunk = '';
        }
        chunk += ch;
    }
    if (chunk) words.push(chunk);
    // Folding whitespace between encoded words is dropped by decoders (RFC 2047 §6.2).
    return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** `Name <addr>` with a non-ASCII name gets the name encoded; the address itself must be ASCII. */
export function encodeAddress(address: string): string {
    const a = address.trim();
    const m = /^(.*?)\s*<([^<>]+)>$/.exec(a);
    if (!m) return a;
    const name = m[1]!.replace(/^"(.*)"$/, '$1');
    if (!name) return `<${m[2]}>`;
    return ASCII.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}" <${m[2]}>` : `${encodeWords(name)} <${m[2]}>`;
}

function base64Body(text: string): string {
    return Buffer.from(text, 'utf8')
        .toString('base64')
        .replace(/.{76}(?=.)/g, `$&${CRLF}`);
}

function textPart(mime: 'text/plain' | 'text/html', text: string): string[] {
    return [`Content-Type: ${mime}; charset="UTF-8"`, 'Content-Transfer-Encoding: base64', '', base64Body(text)];
}

function randomBoundary(): string {
    return `sb_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`;
}

/** The full message text with CRLF line endings. */
export function buildMessage(p: MailParts): string {
    const headers: string[] = [];
    const add = (name: string, value: string | undefined, encode: (v: string) => string) => {
        if (value === undefined || value === '') return;
        checkLine(name, value);
        headers.push(`${name}: ${encode(value)}`);
    };
    const list = (name: string, values: string[] | undefined) => {
        for (const v of values ?? []) checkLine(name, v);
        add(name, values?.length ? values.join(', ') : undefined, () => values!.map(encodeAddress).join(`,${CRLF} `));
    };
    if (p.to.length === 0 && !p.cc?.length && !p.bcc?.length) throw new Error('At least one recipient (to, cc or bcc) is required');
    add('From', p.from, encodeAddress);
    list('To', p.to);
    list('Cc', p.cc);
    // Gmail removes Bcc from the delivered copies and keeps it on the sender's copy.
    list('Bcc', p.bcc);
    add('Subject', p.subject, encodeWords);
    add('In-Reply-To', p.inReplyTo, (v) => v);
    add('References', p.references, (v) => v);
    headers.push('MIME-Version: 1.0');

    if (p.html === undefined) return [...headers, ...textPart('text/plain', p.text)].join(CRLF);
    const boundary = p.boundary ?? randomBoundary();
    return [
        ...headers,
        `Content-Type: multipart/alternative; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        ...textPart('text/plain', p.text),
        `--${boundary}`,
        ...textPart('text/html', p.html),
        `--${boundary}--`,
        ''
    ].join(CRLF);
}

/** base64url without padding, as the `raw` field expects (RFC 4648 §5). */
export function toBase64Url(message: string): string {
    return Buffer.from(message, 'utf8').toString('base64url');
}
