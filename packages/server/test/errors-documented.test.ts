import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCodes } from '../src/http/errors.ts';

it('every error code is documented in docs/errors.md with its status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(errorCodes)) {
        const row = new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm');
        assert.match(doc, row, `docs/errors.md lacks a row for ${code} (${status})`);
    }
});
