// Helpers for "no plaintext secret at rest" tests: unique markers, their encodings, and byte-level scans.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from './server.ts';

/** A unique, greppable value: `<prefix>-<24 hex>`. */
export const marker = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;

/**
 * Byte patterns that betray `value`: UTF-8, hex, and base64/base64url at each of the three alignments it can take
 * inside a longer encoded string (the edge characters that depend on neighbouring bytes are cut off).
 */
export function encodedForms(value: string): Array<{ form: string; bytes: Buffer }> {
    const raw = Buffer.from(value, 'utf8');
    const forms = [
        { form: 'utf8', bytes: raw },
        { form: 'hex', bytes: Buffer.from(raw.toString('hex')) }
    ];
    for (const encoding of ['base64', 'base64url'] as const) {
        for (let shift = 0; shift < 3; shift++) {
            const encoded = Buffer.concat([Buffer.alloc(shift), raw])
                .toString(encoding)
                .replace(/=+$/, '');
            const core = encoded.slice(shift === 0 ? 0 : Math.ceil((shift * 4) / 3), encoded.length - 3);
            forms.push({ form: `${encoding}@${shift}`, bytes: Buffer.from(core) });
        }
    }
    return forms;
}

/** Every (marker, form) found in `haystack`, as "name (form)". */
export function findMarkers(haystack: Buffer, markers: Record<string, string>): string[] {
    const found: string[] = [];
    for (const [name, value] of Object.entries(markers)) {
        for (const { form, bytes } of encodedForms(value)) if (haystack.includes(bytes)) found.push(`${name} (${form})`);
    }
    return found;
}

/** Every regular file under `dir`, recursively, read as bytes. */
export function readAllFiles(dir: string): Array<{ path: string; data: Buffer }> {
    const out: Array<{ path: string; data: Buffer }> = [];
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath, entry.name);
        out.push({ path, data: readFileSync(path) });
    }
    return out;
}

/** Minimal JSON client for a started server, authenticated with its secret key. */
export function apiOf(server: Pick<TestServer, 'url' | 'secretKey'>, key: string = server.secretKey) {
    return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
        const res = await fetch(`${server.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
            parsed = text ? JSON.parse(text) : undefined;
        } catch {
            // not JSON: keep the text
        }
        return { status: res.status, body: parsed };
    };
}
