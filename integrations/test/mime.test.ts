// RFC 2822 / MIME building for users.messages.send, and reply header derivation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessage, encodeAddress, encodeWords, toBase64Url, HeaderInjectionError } from '../google-mail/helpers/mime.ts';
import { replyHeaders, replySubject, splitAddresses } from '../google-mail/helpers/reply-headers.ts';
import { parseRfc2822 } from '../../packages/server/test/support/fake-gmail.ts';

const decodeWords = (v: string) => v.replace(/\r\n /g, '').replace(/=\?UTF-8\?B\?([^?]+)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

describe('RFC 2822 builder', () => {
    it('builds a plain-text message with CRLF lines and a base64 UTF-8 body', () => {
        const msg = buildMessage({ to: ['bob@example.com'], cc: ['c@example.com'], subject: 'Hello', text: 'Hi Bob' });
        assert.ok(!/[^\r]\n/.test(msg), 'every line ends with CRLF');
        const { headers, body } = parseRfc2822(msg);
        assert.equal(headers['to'], 'bob@example.com');
        assert.equal(headers['cc'], 'c@example.com');
        assert.equal(headers['subject'], 'Hello');
        assert.equal(headers['mime-version'], '1.0');
        assert.equal(headers['content-transfer-encoding'], 'base64');
        assert.equal(Buffer.from(body, 'base64').toString('utf8'), 'Hi Bob');
    });

    it('encodes non-ASCII subjects as RFC 2047 words of at most 75 chars without splitting characters', () => {
        const subject = 'Réunion — 日本語のテキスト 🎉 '.repeat(4);
        const encoded = encodeWords(subject);
        for (const word of encoded.split('\r\n ')) assert.ok(word.length <= 75, word);
        assert.equal(decodeWords(encoded), subject);
        assert.equal(encodeWords('plain ascii'), 'plain ascii');
    });

    it('quotes ASCII display names and encodes non-ASCII ones', () => {
        assert.equal(encodeAddress('Bob Smith <bob@example.com>'), '"Bob Smith" <bob@example.com>');
        assert.equal(decodeWords(encodeAddress('Zoë <zoe@example.com>')), 'Zoë <zoe@example.com>');
        assert.equal(encodeAddress('plain@example.com'), 'plain@example.com');
    });

    it('builds multipart/alternative with text first and HTML last', () => {
        const msg = buildMessage({ to: ['a@example.com'], subject: 's', text: 'text', html: '<p>html</p>', boundary: 'BOUND' });
        const { headers } = parseRfc2822(msg);
        assert.equal(headers['content-type'], 'multipart/alternative; boundary="BOUND"');
        const parts = msg.split('--BOUND');
        assert.equal(parts.length, 4);
        assert.match(parts[1]!, /text\/plain/);
        assert.match(parts[2]!, /text\/html/);
        assert.equal(parts[3], '--\r\n');
    });

    it('wraps long bodies at 76 characters', () => {
        const msg = buildMessage({ to: ['a@example.com'], subject: 's', text: 'x'.repeat(1000) });
        const body = parseRfc2822(msg).body.split('\r\n');
        assert.ok(body.every((l) => l.length <= 76));
        assert.equal(Buffer.from(body.join(''), 'base64').toString(), 'x'.repeat(1000));
    });

    it('refuses line breaks in header values (header injection)', () => {
        assert.throws(() => buildMessage({ to: ['a@example.com'], subject: 'hi\r\nBcc: evil@example.com', text: '' }), HeaderInjectionError);
        assert.throws(() => buildMessage({ to: ['a@example.com\nBcc: evil@example.com'], subject: 'x', text: '' }), HeaderInjectionError);
        assert.throws(() => buildMessage({ to: [], subject: 'x', text: '' }), /recipient/);
    });

    it('base64url has no +, / or padding', () => {
        const raw = toBase64Url('??>>~~ é');
        assert.match(raw, /^[A-Za-z0-9_-]+$/);
        assert.equal(Buffer.from(raw, 'base64url').toString('utf8'), '??>>~~ é');
    });
});

describe('reply headers', () => {
    const h = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));

    it('replies to From with Re: subject, In-Reply-To and References', () => {
        const r = replyHeaders(h({ From: 'Bob <bob@example.com>', Subject: 'Numbers', 'Message-Id': '<m1@x>' }))!;
        assert.deepEqual(r, { to: ['Bob <bob@example.com>'], subject: 'Re: Numbers', inReplyTo: '<m1@x>', references: '<m1@x>' });
    });

    it('prefers Reply-To, extends References, keeps an existing Re:', () => {
        const r = replyHeaders(
            h({ From: 'b@x', 'Reply-To': '"Doe, Jane" <j@x>, k@x', Subject: 'RE: Numbers', 'Message-ID': '<m2@x>', References: '<m0@x> <m1@x>' })
        )!;
        assert.deepEqual(r.to, ['"Doe, Jane" <j@x>', 'k@x']);
        assert.equal(r.subject, 'RE: Numbers');
        assert.equal(r.references, '<m0@x> <m1@x> <m2@x>');
    });

    it('null without a Message-ID', () => {
        assert.equal(replyHeaders(h({ From: 'b@x' })), null);
        assert.equal(replySubject('  hi '), 'Re: hi');
        assert.deepEqual(splitAddresses(''), []);
    });
});
