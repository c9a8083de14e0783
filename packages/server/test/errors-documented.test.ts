import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCodes } from '../src/errors.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The table rows of docs/errors.md: `| \`code\` | status | when |`. */
function documentedRows(): Array<{ code: string; status: number }> {
    return [...doc.matchAll(/^\| `([a-z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => ({ code: m[1]!, status: Number(m[2]) }));
}

it('every error code is documented in docs/errors.md with its status', () => {
    for (const [code, { status }] of Object.entries(errorCodes)) {
        const row = new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm');
        assert.match(doc, row, `docs/errors.md lacks a row for ${code} (${status})`);
    }
});

it('docs/errors.md lists only codes the registry has, each once', () => {
    const rows = documentedRows();
    assert.ok(rows.length > 0, 'no rows found in docs/errors.md: did the table format change?');
    const registry: Record<string, { status: number }> = errorCodes;
    const seen = new Set<string>();
    for (const { code, status } of rows) {
        assert.ok(Object.hasOwn(registry, code), `docs/errors.md lists ${code}, which src/errors.ts does not have`);
        assert.equal(status, registry[code]!.status, `docs/errors.md gives ${code} the status ${status}, the registry ${registry[code]!.status}`);
        assert.ok(!seen.has(code), `docs/errors.md lists ${code} twice`);
        seen.add(code);
    }
});
