// The project cites only its own docs. Fact sheets that do not ship with the repository (the team's notes on
// Nango's API, its runner and OAuth security, kept beside the repo) must never be named in code, comments or docs:
// their facts live in docs/compatibility.md, docs/scripts-compatibility.md and docs/security.md. And every
// pointer into our docs must land: `(docs/compatibility.md, "Proxy")` names a heading that exists,
// `docs/security.md, item 7` an item of its checklist, `[x](page.md#anchor)` a page and a heading.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const self = relative(root, fileURLToPath(import.meta.url));

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.switchboard', '.screenshots', 'nango-cli']);
const TEXT = /\.(ts|tsx|js|mjs|cjs|md|json|ya?ml|sql|css|html|sh)$|(^|\/)(Dockerfile|run)$/;

function textFiles(dir: string, out: string[] = []): string[] {
    for (const name of readdirSync(dir)) {
        if (SKIP_DIRS.has(name)) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) textFiles(path, out);
        else if (TEXT.test(path) && !name.endsWith('package-lock.json')) out.push(relative(root, path));
    }
    return out;
}

const files = textFiles(root);

// Written in pieces so that this file does not match itself. `../shared` is refused only as a folder of its own
// (the fact sheets' home); integrations/shared/ helpers are imported as `../shared/x.ts` and are fine.
const forbidden: Array<[string, RegExp]> = [
    ['nango-api', /nango-api\.md/],
    ['nango-functions', /nango-functions\.md/],
    ['oauth-security', /oauth-security\.md/],
    ['architecture review', new RegExp(['ARCHITECTURE', 'REVIEW'].join('-'))],
    ['style guide', new RegExp(['STYLE', 'md'].join('\\.'))],
    ['design notes', new RegExp(['DESIGN', 'md'].join('\\.'))],
    ['shared folder', new RegExp(['\\.\\.', 'shared(?![/\\w-])'].join('/'))],
    ['shared docs', new RegExp(['shared', 'docs'].join('/'))]
];

/** GitHub's heading anchor: lowercased, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
    return heading
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-');
}

function headings(page: string): Set<string> {
    const text = readFileSync(join(root, page), 'utf8');
    return new Set([...text.matchAll(/^#{1,6} +(.+?)\s*$/gm)].map((m) => m[1]!));
}

it('no file names the fact sheets kept outside the repository', () => {
    assert.ok(files.length > 100, `walked only ${files.length} files from ${root}`);
    const hits: string[] = [];
    for (const file of files) {
        if (file === self) continue;
        const lines = readFileSync(join(root, file), 'utf8').split('\n');
        lines.forEach((line, i) => {
            for (const [name, re] of forbidden) if (re.test(line)) hits.push(`${file}:${i + 1}: ${name}`);
        });
    }
    assert.deepEqual(hits, [], 'cite the project docs instead (docs/compatibility.md, docs/scripts-compatibility.md, docs/security.md)');
});

it('every (page, "Heading") and security checklist citation names something that exists', () => {
    const checklist = readFileSync(join(root, 'docs/security.md'), 'utf8')
        .split(/^## /m)
        .find((s) => s.startsWith('Checklist'));
    assert.ok(checklist, 'docs/security.md has no "## Checklist" section');
    const items = new Set([...checklist.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1])));
    const broken: string[] = [];
    for (const file of files) {
        if (file === self) continue;
        const text = readFileSync(join(root, file), 'utf8');
        for (const m of text.matchAll(/\b((?:docs\/)?[a-z-]+\.md|CONTRIBUTING\.md), ((?:"[^"\n]+"(?: and )?)+)/g)) {
            const page = m[1]!.startsWith('docs/') || m[1] === 'CONTRIBUTING.md' ? m[1]! : `docs/${m[1]}`;
            let known: Set<string>;
            try {
                known = headings(page);
            } catch {
                broken.push(`${file}: ${page} does not exist`);
                continue;
            }
            for (const h of m[2]!.matchAll(/"([^"]+)"/g)) if (!known.has(h[1]!)) broken.push(`${file}: ${page} has no heading "${h[1]}"`);
        }
        for (const m of text.matchAll(/security\.md(?:#checklist\))?, items? (\d+)(?: and (\d+))?/g)) {
            for (const n of [m[1], m[2]]) if (n && !items.has(Number(n))) broken.push(`${file}: docs/security.md has no checklist item ${n}`);
        }
    }
    assert.deepEqual(broken, []);
});

it('links between the docs land on a page and a heading that exist', () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.md'))) {
        const text = readFileSync(join(root, file), 'utf8');
        for (const m of text.matchAll(/\]\(([^)\s#]*\.md)?(?:#([^)\s]+))?\)/g)) {
            const [, target, anchor] = m;
            if (!target && !anchor) continue;
            const page = target ? relative(root, resolve(root, dirname(file), target)) : file;
            let known: Set<string>;
            try {
                known = headings(page);
            } catch {
                broken.push(`${file}: ${target} does not exist`);
                continue;
            }
            if (anchor && ![...known].some((h) => slug(h) === anchor)) broken.push(`${file}: ${page} has no heading for #${anchor}`);
        }
    }
    assert.deepEqual(broken, []);
});
