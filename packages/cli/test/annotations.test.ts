// MCP tool hints (docs/mcp.md, "Tool annotations"): declared on createAction or in nango.yaml, sent as
// metadata.annotations in the deploy body; a misspelt hint fails the compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProject } from '../src/compile.ts';
import { deployBody } from '../src/deploy/payload.ts';
import { cli, copyFixture, project } from './helpers.ts';

const ACTION = (annotations: string) => `import { createAction } from 'nango';
import * as z from 'zod';
export default createAction({
    description: 'Deletes a thing',
    input: z.object({ id: z.string() }),
    output: z.object({ ok: z.boolean() }),
    ${annotations}
    exec: async () => ({ ok: true })
});`;

const metadataOf = (body: Record<string, unknown>, name: string) =>
    (body['flowConfigs'] as Array<Record<string, unknown>>).find((f) => f['syncName'] === name)!['metadata'] as Record<string, unknown>;

test('zero-YAML: createAction annotations reach the deploy body; an action without them sends none', async () => {
    const dir = project({
        'index.ts': "import './things/actions/delete-thing.js';\nimport './things/actions/plain.js';\n",
        'things/actions/delete-thing.ts': ACTION("annotations: { title: 'Delete a thing', readOnlyHint: false, destructiveHint: true, idempotentHint: true },"),
        'things/actions/plain.ts': ACTION('')
    });
    const { deploy } = deployBody(await compileProject(dir), {});
    assert.deepEqual(metadataOf(deploy, 'delete-thing')['annotations'], {
        title: 'Delete a thing',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true
    });
    assert.equal(metadataOf(deploy, 'plain')['annotations'], undefined);
});

test('zero-YAML: a misspelt hint fails the compile, naming it', async () => {
    const dir = project({ 'index.ts': "import './things/actions/bad.js';\n", 'things/actions/bad.ts': ACTION('annotations: { readonlyHint: true },') });
    const res = await cli(['compile', '--dir', dir]);
    assert.notEqual(res.code, 0);
    assert.match(res.err, /readonlyHint/);
});

test('nango.yaml: an action’s annotations reach the deploy body', async () => {
    const dir = copyFixture('legacy');
    const yamlPath = join(dir, 'nango.yaml');
    const yaml = readFileSync(yamlPath, 'utf8').replace(
        '                endpoint: POST /issues\n',
        '                endpoint: POST /issues\n                annotations:\n                    destructiveHint: false\n'
    );
    writeFileSync(yamlPath, yaml);
    const { deploy } = deployBody(await compileProject(dir), {});
    assert.deepEqual(metadataOf(deploy, 'create-issue')['annotations'], { destructiveHint: false });
});
